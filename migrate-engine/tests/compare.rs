//! What verification compares, on real SQL: no false differences (defaults that store the same
//! value, the engine's own tables, a UNIQUE constraint restored as a unique index), the column
//! order policy, and CHECK constraints and collations, which are compared.

use migrate_engine::{Finding, verify, verify_with_notes};

/// Writes `files` to a temporary directory, checks them, and verifies them.
fn verify_files(files: &[(&str, &str)]) -> Result<(), Vec<Finding>> {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (name, sql) in files {
        std::fs::write(dir.path().join(name), sql).expect("write a migration file");
    }
    let table = migrate_core::load_dir(dir.path()).unwrap_or_else(|p| panic!("{p}"));
    verify(&table)
}

/// The one finding of a set that must fail.
fn finding(files: &[(&str, &str)]) -> String {
    let findings = verify_files(files).expect_err("verification should fail");
    assert_eq!(findings.len(), 1, "{findings:?}");
    findings[0].message.clone()
}

fn passes(files: &[(&str, &str)]) {
    if let Err(findings) = verify_files(files) {
        panic!(
            "{:#?}",
            findings.iter().map(|f| &f.message).collect::<Vec<_>>()
        );
    }
}

const POSTS: (&str, &str) = (
    "000001_posts.up.sql",
    "CREATE TABLE posts (\n  id INTEGER PRIMARY KEY,\n  title TEXT NOT NULL,\n  body TEXT,\n  \
     published BOOLEAN NOT NULL DEFAULT FALSE,\n  kind TEXT DEFAULT \"note\",\n  score INTEGER DEFAULT (0)\n);\n\
     INSERT INTO posts (title, body) VALUES ('first', 'a'), ('second', 'b');",
);
const POSTS_DOWN: (&str, &str) = ("000001_posts.down.sql", "DROP TABLE posts;");

/// The table-rebuild pattern: `posts` recreated with `columns`, copying `copy`.
fn rebuild(columns: &str, copy: &str) -> String {
    format!(
        "CREATE TABLE posts_new ({columns});\nINSERT INTO posts_new SELECT {copy} FROM posts;\n\
         DROP TABLE posts;\nALTER TABLE posts_new RENAME TO posts;"
    )
}

#[test]
fn defaults_written_differently_but_stored_the_same_are_the_same() {
    // The up adds NOT NULL to `body`; the down gives the table back with the defaults spelled
    // as SQLite reports them after other tools rewrote the schema.
    let up = rebuild(
        "id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL DEFAULT '', published BOOLEAN NOT NULL DEFAULT FALSE, kind TEXT DEFAULT \"note\", score INTEGER DEFAULT (0)",
        "id, title, COALESCE(body, ''), published, kind, score",
    );
    let down = rebuild(
        "id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT, published BOOLEAN NOT NULL DEFAULT 0, kind TEXT DEFAULT 'note', score INTEGER DEFAULT +0",
        "*",
    );
    passes(&[
        POSTS,
        POSTS_DOWN,
        ("000002_body.up.sql", &up),
        ("000002_body.down.sql", &down),
    ]);
    // A default that stores another value is still a difference.
    let down = rebuild(
        "id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT, published BOOLEAN NOT NULL DEFAULT TRUE, kind TEXT DEFAULT 'note', score INTEGER DEFAULT 0",
        "*",
    );
    assert_eq!(
        finding(&[
            POSTS,
            POSTS_DOWN,
            ("000002_body.up.sql", &up),
            ("000002_body.down.sql", &down),
        ]),
        "`000002_body.down.sql` does not undo `000002_body.up.sql`: it changes column \
         `posts.published`: it was `BOOLEAN NOT NULL DEFAULT FALSE` before 000002 and is \
         `BOOLEAN NOT NULL DEFAULT TRUE` after the down; make the down undo exactly what the up does"
    );
}

#[test]
fn the_engines_own_tables_are_never_compared() {
    // VACUUM rewrites every table, the history table included (and renumbers the schema
    // table: a view between tables, and a hole left by a dropped table, move).
    passes(&[
        (
            POSTS.0,
            &format!(
                "{}\nCREATE VIEW titles AS SELECT title FROM posts;\nCREATE TABLE gone (x);\n\
                 CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT UNIQUE);\n\
                 CREATE INDEX tags_name ON tags (name);\nDROP TABLE gone;",
                POSTS.1
            ),
        ),
        (
            POSTS_DOWN.0,
            "DROP TABLE tags;\nDROP VIEW titles;\nDROP TABLE posts;",
        ),
        (
            "000002_compact.up.sql",
            "-- migrate:no-transaction\nVACUUM;",
        ),
        (
            "000002_compact.down.sql",
            "-- migrate:no-transaction\nVACUUM;",
        ),
    ]);
}

#[test]
fn the_schema_is_read_again_after_a_vacuum() {
    // VACUUM renumbers the schema table (tables first, then indexes, then views), so rows
    // move: here table `d` lands where view `v` was. A down after it that forgets to
    // recreate what its up dropped is still found.
    let base = (
        "000001_base.up.sql",
        "CREATE TABLE a (x);\nCREATE VIEW v AS SELECT 1;\nCREATE TABLE gone (y);\n\
         CREATE TABLE b (z);\nCREATE INDEX bi ON b (z);\nCREATE TABLE c (w);\nCREATE TABLE d (u);\n\
         DROP TABLE gone;",
    );
    let base_down = (
        "000001_base.down.sql",
        "DROP TABLE d;\nDROP TABLE c;\nDROP TABLE b;\nDROP VIEW v;\nDROP TABLE a;",
    );
    let message = finding(&[
        base,
        base_down,
        (
            "000002_compact.up.sql",
            "-- migrate:no-transaction\nVACUUM;",
        ),
        (
            "000002_compact.down.sql",
            "-- migrate:irreversible nothing to undo",
        ),
        ("000003_next.up.sql", "DROP TABLE d;"),
        ("000003_next.down.sql", "SELECT 1;"),
    ]);
    assert!(message.contains("it drops table `d`"), "{message}");
}

#[test]
fn a_unique_constraint_restored_as_a_unique_index_is_the_same() {
    let base = (
        "000001_tags.up.sql",
        "CREATE TABLE tags (id INTEGER PRIMARY KEY, owner INTEGER NOT NULL, name TEXT NOT NULL, UNIQUE (owner, name));\n\
         INSERT INTO tags (owner, name) VALUES (1, 'rust'), (1, 'sql');",
    );
    let base_down = ("000001_tags.down.sql", "DROP TABLE tags;");
    let up = "CREATE TABLE tags_new (id INTEGER PRIMARY KEY, owner INTEGER NOT NULL, name TEXT NOT NULL, color TEXT);\n\
              INSERT INTO tags_new (id, owner, name) SELECT id, owner, name FROM tags;\n\
              DROP TABLE tags;\nALTER TABLE tags_new RENAME TO tags;\n\
              CREATE UNIQUE INDEX tags_owner_name ON tags (owner, name);";
    passes(&[
        base,
        base_down,
        ("000002_color.up.sql", up),
        (
            "000002_color.down.sql",
            "DROP INDEX tags_owner_name;\nALTER TABLE tags DROP COLUMN color;\nCREATE UNIQUE INDEX tags_owner_name ON tags (owner, name);",
        ),
    ]);
    // A unique index on other columns does not stand for the constraint.
    let message = finding(&[
        base,
        base_down,
        ("000002_color.up.sql", up),
        (
            "000002_color.down.sql",
            "DROP INDEX tags_owner_name;\nALTER TABLE tags DROP COLUMN color;\nCREATE UNIQUE INDEX tags_owner_name ON tags (name);",
        ),
    ]);
    assert_eq!(
        message,
        "`000002_color.down.sql` does not undo `000002_color.up.sql`: it leaves index `tags_owner_name` behind; \
         it drops the constraint `tags UNIQUE (owner, name)`, which existed before 000002; make the down undo exactly what the up does"
    );
}

const DROP_BODY: (&str, &str) = (
    "000002_drop_body.up.sql",
    "ALTER TABLE posts DROP COLUMN body;",
);

#[test]
fn a_column_added_back_at_the_end_is_a_reordering_with_every_way_out() {
    // `posts` is empty: verification fills it, so the values lost with `body` show too.
    let empty = (
        "000001_posts.up.sql",
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT, views INTEGER);",
    );
    let add_back = (
        "000002_drop_body.down.sql",
        "ALTER TABLE posts ADD COLUMN body TEXT;",
    );
    assert_eq!(
        finding(&[empty, POSTS_DOWN, DROP_BODY, add_back]),
        "`000002_drop_body.down.sql` does not undo `000002_drop_body.up.sql`: it reorders \
         the columns of `posts`: (id, title, body, views) before 000002, (id, title, views, body) \
         after the down (`ADD COLUMN` appends), and `SELECT *` and `INSERT INTO posts VALUES (…)` depend \
         on the order: recreate `posts` in the down with its columns in the original order, or add \
         `-- migrate:lossy-down <reason>` to the down if another order is intended; it changes the \
         rows of `posts`, which existed before 000002 (it was empty, so verification filled it with \
         rows built from its schema): row (id = 1) changed: body 'body 1' → NULL, row (id = 2) \
         changed: body 'body 2' → NULL; make the down undo exactly what the up does, or, if losing \
         those rows is intended, add `-- migrate:lossy-down <reason>` to it"
    );
    // Saying that the down gives the table back differently accepts both.
    passes(&[
        empty,
        POSTS_DOWN,
        DROP_BODY,
        (
            "000002_drop_body.down.sql",
            "-- migrate:lossy-down body comes back empty, at the end\nALTER TABLE posts ADD COLUMN body TEXT;",
        ),
    ]);
    // Recreating the table in the original order leaves only the lost values to declare.
    let message = finding(&[
        empty,
        POSTS_DOWN,
        DROP_BODY,
        (
            "000002_drop_body.down.sql",
            "CREATE TABLE posts_old (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT, views INTEGER);\n\
             INSERT INTO posts_old (id, title, views) SELECT id, title, views FROM posts;\n\
             DROP TABLE posts;\nALTER TABLE posts_old RENAME TO posts;",
        ),
    ]);
    assert!(
        !message.contains("reorders") && message.contains("body 'body 1' → NULL"),
        "{message}"
    );
}

#[test]
fn check_constraints_and_collations_are_compared() {
    let base = (
        "000001_users.up.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL COLLATE NOCASE, age INTEGER CHECK (age >= 0));\n\
         INSERT INTO users (email, age) VALUES ('a@example.com', 30);",
    );
    let base_down = ("000001_users.down.sql", "DROP TABLE users;");
    let up = "CREATE TABLE users_new (id INTEGER PRIMARY KEY, email TEXT NOT NULL COLLATE NOCASE, age INTEGER CHECK (age >= 0), name TEXT);\n\
              INSERT INTO users_new (id, email, age) SELECT id, email, age FROM users;\n\
              DROP TABLE users;\nALTER TABLE users_new RENAME TO users;";
    let down = |columns: &str| {
        format!(
            "CREATE TABLE users_old ({columns});\nINSERT INTO users_old SELECT id, email, age FROM users;\n\
             DROP TABLE users;\nALTER TABLE users_old RENAME TO users;"
        )
    };
    assert_eq!(
        finding(&[
            base,
            base_down,
            ("000002_name.up.sql", up),
            (
                "000002_name.down.sql",
                &down("id INTEGER PRIMARY KEY, email TEXT NOT NULL, age INTEGER")
            ),
        ]),
        "`000002_name.down.sql` does not undo `000002_name.up.sql`: it changes column `users.email`: \
         it was `TEXT NOT NULL COLLATE NOCASE` before 000002 and is `TEXT NOT NULL` after the down; \
         it drops the constraint `users CHECK (AGE >= 0)`, which existed before 000002; make the down \
         undo exactly what the up does"
    );
    // The same constraints written elsewhere and otherwise are the same.
    passes(&[
        base,
        base_down,
        ("000002_name.up.sql", up),
        (
            "000002_name.down.sql",
            &down(
                "id INTEGER PRIMARY KEY, email TEXT COLLATE nocase NOT NULL, age INTEGER, CONSTRAINT adult CHECK (\"age\">=0)",
            ),
        ),
    ]);
}

/// The shape of the example: the up archives old rows and rewrites the rest, the down
/// only drops the archive. With the table empty at build time, verification fills it.
const ARCHIVE_UP: (&str, &str) = (
    "000002_archive.up.sql",
    "CREATE TABLE posts_archive AS SELECT * FROM posts WHERE created_at < '2024-01-02';\n\
     DELETE FROM posts WHERE created_at < '2024-01-02';\n\
     UPDATE posts SET title = upper(title);",
);

#[test]
fn empty_tables_are_filled_so_a_lossy_down_is_found() {
    let empty = (
        "000001_posts.up.sql",
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL, created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP);",
    );
    assert_eq!(
        finding(&[
            empty,
            POSTS_DOWN,
            ARCHIVE_UP,
            ("000002_archive.down.sql", "DROP TABLE posts_archive;"),
        ]),
        "`000002_archive.down.sql` does not undo `000002_archive.up.sql`: it changes the rows of \
         `posts`, which existed before 000002 (it was empty, so verification filled it with rows \
         built from its schema): row (id = 1) is missing, row (id = 2) changed: title 'title 2' → \
         'TITLE 2'; make the down undo exactly what the up does, or, if losing those rows is \
         intended, add `-- migrate:lossy-down <reason>` to it"
    );
    // Declared lossy: accepted, as with seed rows.
    passes(&[
        empty,
        POSTS_DOWN,
        ARCHIVE_UP,
        (
            "000002_archive.down.sql",
            "-- migrate:lossy-down archived posts stay archived\nDROP TABLE posts_archive;",
        ),
    ]);
}

#[test]
fn filled_rows_reach_children_through_foreign_keys_and_are_gone_afterwards() {
    // A down that loses child rows is found although both tables are empty at build time:
    // the child's filled rows need filled parents first (its foreign key is NOT NULL).
    let base = (
        "000001_base.up.sql",
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);\n\
         CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent (id) ON DELETE CASCADE);",
    );
    let base_down = (
        "000001_base.down.sql",
        "DROP TABLE child;\nDROP TABLE parent;",
    );
    let message = finding(&[
        base,
        base_down,
        (
            "000002_note.up.sql",
            "ALTER TABLE child ADD COLUMN note TEXT;",
        ),
        (
            "000002_note.down.sql",
            "DELETE FROM child WHERE id = 1;\nALTER TABLE child DROP COLUMN note;",
        ),
    ]);
    assert!(
        message.contains("changes the rows of `child`")
            && message.contains("row (id = 1) is missing"),
        "{message}"
    );
    // A later migration that seeds explicit ids into the once-filled tables is not disturbed:
    // the filled rows are deleted before the up runs again.
    passes(&[
        base,
        base_down,
        ("000002_name.up.sql", "UPDATE parent SET name = name || '';"),
        ("000002_name.down.sql", "SELECT 1;"),
        (
            "000003_seed.up.sql",
            "INSERT INTO parent (id, name) VALUES (1, 'one');\nINSERT INTO child (id, parent_id) VALUES (1, 1);",
        ),
        (
            "000003_seed.down.sql",
            "DELETE FROM child WHERE id = 1;\nDELETE FROM parent WHERE id = 1;",
        ),
    ]);
}

#[test]
fn an_up_or_down_that_fails_only_on_filled_rows_is_no_finding() {
    // Real rows of `events` hold JSON; the filled ones do not, so a failure on them says
    // nothing about users' data. The up failing: it runs again on the empty table.
    let events = (
        "000001_events.up.sql",
        "CREATE TABLE events (id INTEGER PRIMARY KEY, payload TEXT NOT NULL);",
    );
    let events_down = ("000001_events.down.sql", "DROP TABLE events;");
    passes(&[
        events,
        events_down,
        (
            "000002_wrap.up.sql",
            "UPDATE events SET payload = json_object('v', json(payload));",
        ),
        (
            "000002_wrap.down.sql",
            "UPDATE events SET payload = json_extract(payload, '$.v');",
        ),
    ]);
    // The down failing: verification starts again without filling for that migration.
    passes(&[
        events,
        events_down,
        (
            "000002_compact.up.sql",
            "CREATE TABLE events_backup AS SELECT * FROM events;",
        ),
        (
            "000002_compact.down.sql",
            "UPDATE events SET payload = json(payload);\nDROP TABLE events_backup;",
        ),
    ]);
}

#[test]
fn tables_that_cannot_be_filled_are_named_with_the_reason() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (name, sql) in [
        (
            "000001_search.up.sql",
            "CREATE TABLE docs (id INTEGER PRIMARY KEY, body TEXT);\n\
             CREATE TABLE audit (line TEXT);\n\
             CREATE TRIGGER docs_audit AFTER INSERT ON docs BEGIN INSERT INTO audit VALUES (NEW.body); END;\n\
             CREATE TABLE ranges (lo INTEGER NOT NULL, hi INTEGER NOT NULL, CHECK (lo > hi AND hi > lo));",
        ),
        (
            "000001_search.down.sql",
            "DROP TABLE ranges;\nDROP TRIGGER docs_audit;\nDROP TABLE audit;\nDROP TABLE docs;",
        ),
        (
            "000002_touch.up.sql",
            "UPDATE docs SET body = trim(body);\nUPDATE ranges SET lo = lo;",
        ),
        ("000002_touch.down.sql", "SELECT 1;"),
    ] {
        std::fs::write(dir.path().join(name), sql).expect("write a migration file");
    }
    let table = migrate_core::load_dir(dir.path()).unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(
        verify_with_notes(&table, &migrate_engine::Declaration::default()).expect("verifies"),
        [
            "before `000002_touch.up.sql`: `docs` was left empty: it has triggers, which rows written to it would fire",
            "before `000002_touch.up.sql`: `ranges` was left empty: SQLite refuses every row built for it (CHECK constraint failed: lo > hi AND hi > lo)"
        ]
    );
}

#[test]
fn the_generated_round_trip_says_what_the_down_dropped() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (name, sql) in [
        POSTS,
        POSTS_DOWN,
        (
            "000002_tags.up.sql",
            "CREATE TABLE tags (id INTEGER PRIMARY KEY);",
        ),
        (
            "000002_tags.down.sql",
            "DROP TABLE tags;\nDROP TABLE posts;",
        ),
    ] {
        std::fs::write(dir.path().join(name), sql).expect("write a migration file");
    }
    let table = migrate_core::load_dir(dir.path()).unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(
        migrate_engine::testing::round_trip(&table, 2),
        Err("000002_tags: the down does not restore the database: it drops table `posts`, which existed before".to_owned())
    );
}
