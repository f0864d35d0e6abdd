//! Verification on real SQL: what must pass (the repository's migrations, the patterns of the
//! golang-migrate guide, triggers, awkward text) and each kind of failure, with its message.

use std::path::Path;

use migrate_core::{AppFunction, ForeignKeys};
use migrate_engine::{Declaration, Finding, verify, verify_declared};

/// Writes `files` to a temporary directory, checks them, and verifies them.
fn verify_files(files: &[(&str, &str)]) -> Result<(), Vec<Finding>> {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (name, sql) in files {
        std::fs::write(dir.path().join(name), sql).expect("write a migration file");
    }
    let table = migrate_core::load_dir(dir.path()).unwrap_or_else(|p| panic!("{p}"));
    verify(&table)
}

/// As [`verify_files`], with a declaration.
fn verify_declared_files(
    files: &[(&str, &str)],
    declaration: &Declaration,
) -> Result<(), Vec<Finding>> {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (name, sql) in files {
        std::fs::write(dir.path().join(name), sql).expect("write a migration file");
    }
    let table = migrate_core::load_dir(dir.path()).unwrap_or_else(|p| panic!("{p}"));
    verify_declared(&table, declaration)
}

/// The one finding of a set that must fail.
fn finding(files: &[(&str, &str)]) -> String {
    let findings = verify_files(files).expect_err("verification should fail");
    assert_eq!(findings.len(), 1, "{findings:?}");
    findings[0].message.clone()
}

const BASE: (&str, &str) = (
    "000001_base.up.sql",
    "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL);\nINSERT INTO posts (title) VALUES ('first'), ('second');",
);
const BASE_DOWN: (&str, &str) = ("000001_base.down.sql", "DROP TABLE posts;");

#[test]
fn the_repository_migrations_pass() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let table = migrate_core::load_dir(&dir).unwrap();
    verify(&table).unwrap_or_else(|f| panic!("{f:?}"));
}

#[test]
fn real_world_sql_passes() {
    verify_files(&[
        ("000001_base.up.sql", "\u{feff}-- BOM and CRLF\r\nCREATE TABLE IF NOT EXISTS \"profile\" (\r\n  \"id\" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,\r\n  \"name\" TEXT NOT NULL,\r\n  \"cutoff\" INTEGER NOT NULL\r\n);\r\nCREATE TABLE item (id INTEGER PRIMARY KEY, profile_id INTEGER NOT NULL REFERENCES profile (id) ON DELETE CASCADE);\r\nINSERT OR IGNORE INTO profile (id, name, cutoff) VALUES (1, 'SD; default', 2), (2, 'HD -- best', 8);\r\nINSERT INTO item (profile_id) VALUES (1), (2);\r\n"),
        ("000001_base.down.sql", "DROP TABLE IF EXISTS item;\nDROP TABLE IF EXISTS profile;"),
        // The table-recreation pattern with a COALESCE down, as in the golang-migrate guide.
        ("000002_nullable.up.sql", "PRAGMA foreign_keys = OFF;\nCREATE TABLE profile_new (id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, cutoff INTEGER);\nINSERT INTO profile_new SELECT id, name, cutoff FROM profile;\nDROP TABLE profile;\nALTER TABLE profile_new RENAME TO profile;\nPRAGMA foreign_keys = ON;\nUPDATE profile SET cutoff = NULL WHERE id = 1 AND name = 'SD; default' AND cutoff = 2;"),
        ("000002_nullable.down.sql", "PRAGMA foreign_keys = OFF;\nCREATE TABLE profile_new (\"id\" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, \"name\" TEXT NOT NULL, \"cutoff\" INTEGER NOT NULL);\nINSERT INTO profile_new SELECT id, name, COALESCE(cutoff, CASE id WHEN 1 THEN 2 ELSE 2 END) FROM profile;\nDROP TABLE profile;\nALTER TABLE profile_new RENAME TO profile;\nPRAGMA foreign_keys = ON;"),
        // A partial unique index, a trigger with a BEGIN … END body, semicolons in text.
        ("000003_current.up.sql", "ALTER TABLE item ADD COLUMN current BOOLEAN NOT NULL DEFAULT 1;\nCREATE UNIQUE INDEX idx_current ON item (profile_id, current) WHERE current = 1;\nCREATE TRIGGER item_current BEFORE INSERT ON item WHEN NEW.current = 1 BEGIN\n  UPDATE item SET current = 0 WHERE profile_id = NEW.profile_id; -- keep one; per profile\nEND;\nCREATE VIEW current_items AS SELECT * FROM item WHERE current = 1 /* ; */;"),
        ("000003_current.down.sql", "DROP VIEW current_items;\nDROP TRIGGER item_current;\nDROP INDEX idx_current;\nALTER TABLE item DROP COLUMN current;"),
        ("000004_compact.up.sql", "-- migrate:no-transaction\nVACUUM;"),
        ("000004_compact.down.sql", "-- migrate:irreversible VACUUM has nothing to undo"),
    ])
    .unwrap_or_else(|f| panic!("{f:?}"));
}

#[test]
fn a_syntax_error_names_line_and_column() {
    assert_eq!(
        finding(&[
            BASE,
            BASE_DOWN,
            (
                "000002_tags.up.sql",
                "-- tags\nCREATE TABLE tags (\n  id INTEGER PRIMARY KEY,\n  name TEXT NOT NULL,\n);"
            ),
            ("000002_tags.down.sql", "DROP TABLE tags;")
        ]),
        "`000002_tags.up.sql` line 5, column 1: near \")\": syntax error (in `CREATE TABLE tags (…`)"
    );
}

#[test]
fn a_runtime_error_names_the_statement_line() {
    assert_eq!(
        finding(&[
            BASE,
            BASE_DOWN,
            (
                "000002_tags.up.sql",
                "CREATE TABLE tags (id INTEGER);\nINSERT INTO tag (id) VALUES (1);"
            ),
            ("000002_tags.down.sql", "DROP TABLE tags;")
        ]),
        "`000002_tags.up.sql` line 2: no such table: tag (in `INSERT INTO tag (id) VALUES (1);`)"
    );
}

#[test]
fn a_down_that_leaves_a_table_behind() {
    assert_eq!(
        finding(&[
            BASE,
            BASE_DOWN,
            ("000002_tags.up.sql", "CREATE TABLE tags (id INTEGER);"),
            ("000002_tags.down.sql", "SELECT 1;")
        ]),
        "`000002_tags.down.sql` does not undo `000002_tags.up.sql`: it leaves table `tags` behind; make the down undo exactly what the up does"
    );
}

#[test]
fn a_down_that_drops_an_older_table() {
    assert_eq!(
        finding(&[
            BASE,
            BASE_DOWN,
            ("000002_tags.up.sql", "CREATE TABLE tags (id INTEGER);"),
            (
                "000002_tags.down.sql",
                "DROP TABLE tags;\nDROP TABLE posts;"
            )
        ]),
        "`000002_tags.down.sql` does not undo `000002_tags.up.sql`: it drops table `posts`, which existed before 000002; make the down undo exactly what the up does"
    );
}

#[test]
fn a_down_that_leaves_a_column_behind() {
    assert_eq!(
        finding(&[
            BASE,
            BASE_DOWN,
            (
                "000002_email.up.sql",
                "ALTER TABLE posts ADD COLUMN email TEXT;"
            ),
            ("000002_email.down.sql", "SELECT 1;")
        ]),
        "`000002_email.down.sql` does not undo `000002_email.up.sql`: it leaves column `posts.email`, added by the up, behind; make the down undo exactly what the up does"
    );
}

#[test]
fn a_down_that_changes_a_column() {
    let up = "CREATE TABLE posts_new (id INTEGER PRIMARY KEY, title TEXT);\nINSERT INTO posts_new SELECT * FROM posts;\nDROP TABLE posts;\nALTER TABLE posts_new RENAME TO posts;";
    let down = "CREATE TABLE posts_old (id INTEGER PRIMARY KEY, title VARCHAR(80) NOT NULL);\nINSERT INTO posts_old SELECT * FROM posts;\nDROP TABLE posts;\nALTER TABLE posts_old RENAME TO posts;";
    assert_eq!(
        finding(&[
            BASE,
            BASE_DOWN,
            ("000002_nullable.up.sql", up),
            ("000002_nullable.down.sql", down)
        ]),
        "`000002_nullable.down.sql` does not undo `000002_nullable.up.sql`: it changes column `posts.title`: it was `TEXT NOT NULL` before 000002 and is `VARCHAR(80) NOT NULL` after the down; make the down undo exactly what the up does"
    );
}

#[test]
fn a_down_that_leaves_an_index_a_trigger_and_a_view() {
    assert_eq!(
        finding(&[
            BASE,
            BASE_DOWN,
            (
                "000002_extras.up.sql",
                "CREATE INDEX idx_title ON posts (title);\nCREATE TRIGGER t AFTER INSERT ON posts BEGIN SELECT 1; END;\nCREATE VIEW titles AS SELECT title FROM posts;"
            ),
            ("000002_extras.down.sql", "DROP VIEW titles;")
        ]),
        "`000002_extras.down.sql` does not undo `000002_extras.up.sql`: it leaves index `idx_title` behind; it leaves trigger `t` behind; make the down undo exactly what the up does"
    );
}

#[test]
fn a_down_that_recreates_an_index_differently() {
    assert_eq!(
        finding(&[
            (
                "000001_base.up.sql",
                "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT);\nCREATE INDEX idx_title ON posts (title) WHERE title IS NOT NULL;"
            ),
            ("000001_base.down.sql", "DROP TABLE posts;"),
            (
                "000002_unique.up.sql",
                "DROP INDEX idx_title;\nCREATE UNIQUE INDEX idx_title ON posts (title);"
            ),
            (
                "000002_unique.down.sql",
                "DROP INDEX idx_title;\nCREATE INDEX idx_title ON posts (title);"
            )
        ]),
        "`000002_unique.down.sql` does not undo `000002_unique.up.sql`: it changes index `idx_title`: it was `CREATE INDEX IDX_TITLE ON POSTS (TITLE) WHERE TITLE IS NOT NULL` before 000002 and is `CREATE INDEX IDX_TITLE ON POSTS (TITLE)` after the down; make the down undo exactly what the up does"
    );
}

#[test]
fn a_down_that_loses_rows() {
    assert_eq!(
        finding(&[
            BASE,
            BASE_DOWN,
            (
                "000002_archive.up.sql",
                "CREATE TABLE archive AS SELECT * FROM posts WHERE id = 2;\nDELETE FROM posts WHERE id = 2;\nUPDATE posts SET title = 'First' WHERE id = 1;"
            ),
            ("000002_archive.down.sql", "DROP TABLE archive;")
        ]),
        "`000002_archive.down.sql` does not undo `000002_archive.up.sql`: it changes the rows of `posts`, which existed before 000002: row (id = 1) changed: title 'first' → 'First', row (id = 2) is missing; make the down undo exactly what the up does, or, if losing those rows is intended, add `-- migrate:lossy-down <reason>` to it"
    );
}

#[test]
fn a_lossy_down_skips_rows_but_not_schema() {
    let up = (
        "000002_archive.up.sql",
        "CREATE TABLE archive AS SELECT * FROM posts WHERE id = 2;\nDELETE FROM posts WHERE id = 2;",
    );
    verify_files(&[
        BASE,
        BASE_DOWN,
        up,
        (
            "000002_archive.down.sql",
            "-- migrate:lossy-down archived posts stay archived\nDROP TABLE archive;",
        ),
    ])
    .unwrap();
    let message = finding(&[
        BASE,
        BASE_DOWN,
        up,
        (
            "000002_archive.down.sql",
            "-- migrate:lossy-down archived posts stay archived\nSELECT 1;",
        ),
    ]);
    assert!(
        message.ends_with(
            "it leaves table `archive` behind; make the down undo exactly what the up does"
        ),
        "{message}"
    );
}

#[test]
fn a_parent_recreated_without_the_pragma_keeps_its_children() {
    // Recreating the parent without `PRAGMA foreign_keys = OFF`: the engine runs every
    // migration with enforcement off, so DROP TABLE no longer cascades and nothing is lost.
    verify_files(&[
        PARENT_WITH_CASCADE,
        (
            "000001_base.down.sql",
            "DROP TABLE child;\nDROP TABLE parent;",
        ),
        (
            "000002_rebuild.up.sql",
            "CREATE TABLE parent_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\nINSERT INTO parent_new SELECT * FROM parent;\nDROP TABLE parent;\nALTER TABLE parent_new RENAME TO parent;",
        ),
        (
            "000002_rebuild.down.sql",
            "CREATE TABLE parent_old (id INTEGER PRIMARY KEY, name TEXT);\nINSERT INTO parent_old SELECT * FROM parent;\nDROP TABLE parent;\nALTER TABLE parent_old RENAME TO parent;",
        ),
    ])
    .unwrap_or_else(|f| panic!("{f:?}"));
}

#[test]
fn a_delete_that_expects_a_cascade_is_caught() {
    let message = finding(&[
        PARENT_WITH_CASCADE,
        (
            "000001_base.down.sql",
            "DROP TABLE child;\nDROP TABLE parent;",
        ),
        ("000002_purge.up.sql", "DELETE FROM parent WHERE id = 1;"),
        (
            "000002_purge.down.sql",
            "-- migrate:irreversible the rows are gone",
        ),
    ]);
    assert!(
        message.starts_with(
            "`000002_purge.up.sql` leaves 2 row(s) pointing at missing parents (`child` row 10 → \
             `parent`, `child` row 11 → `parent`)"
        ),
        "{message}"
    );
}

const PARENT_WITH_CASCADE: (&str, &str) = (
    "000001_base.up.sql",
    "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);\nCREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id) ON DELETE CASCADE);\nINSERT INTO parent VALUES (1, 'a');\nINSERT INTO child VALUES (10, 1), (11, 1);",
);

#[test]
fn a_foreign_key_violation_is_caught() {
    let base = (
        "000001_base.up.sql",
        "CREATE TABLE parent (id INTEGER PRIMARY KEY);\nCREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id));\nINSERT INTO parent VALUES (1), (2);\nINSERT INTO child VALUES (10, 2);",
    );
    assert_eq!(
        finding(&[
            base,
            (
                "000001_base.down.sql",
                "DROP TABLE child;\nDROP TABLE parent;"
            ),
            (
                "000002_rebuild.up.sql",
                "PRAGMA foreign_keys = OFF;\nCREATE TABLE parent_new (id INTEGER PRIMARY KEY);\nINSERT INTO parent_new SELECT id FROM parent WHERE id = 1;\nDROP TABLE parent;\nALTER TABLE parent_new RENAME TO parent;"
            ),
            ("000002_rebuild.down.sql", "SELECT 1;")
        ]),
        "`000002_rebuild.up.sql` leaves 1 row(s) pointing at missing parents (`child` row 10 → `parent`): make the migration keep every reference valid"
    );
}

#[test]
fn an_up_that_cannot_run_again_after_its_down() {
    // The temporary table is invisible to the comparison, but not to the second up.
    assert_eq!(
        finding(&[
            BASE,
            BASE_DOWN,
            (
                "000002_seed.up.sql",
                "CREATE TEMP TABLE scratch (id INTEGER);\nCREATE TABLE tags (name TEXT);"
            ),
            ("000002_seed.down.sql", "DROP TABLE tags;"),
        ]),
        "`000002_seed.up.sql` line 1, column 19: table scratch already exists (in `CREATE TEMP TABLE scratch (id INTEGER);`) \
         when run again after its down, so `000002_seed.down.sql` does not fully undo it"
    );
}

/// The message for a statement the sandbox refuses.
fn refused(line: usize, what: &str) -> String {
    format!(
        "`000002_x.up.sql` line {line}: {what} is not allowed in a migration verified at compile \
         time, because verifying must not touch the file system or load code: remove it, or turn \
         verification off for this crate (`default-features = false, features = [\"bundled\"]` \
             on `migrate-runtime`)"
    )
}

/// Verifies BASE and a migration 2 whose up is `up`; returns the one finding.
fn refusal(up: &str) -> String {
    finding(&[
        BASE,
        BASE_DOWN,
        ("000002_x.up.sql", up),
        ("000002_x.down.sql", "SELECT 1;"),
    ])
}

#[test]
fn the_sandbox_refuses_every_spelling_of_attach_and_writes_no_file() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let target = |name: &str| dir.path().join(name).display().to_string();
    let cases = [
        (
            format!("ATTACH '{}' || '.db' AS p;", target("b")),
            "`ATTACH` of a file named by an expression".to_owned(),
        ),
        (
            format!("ATTACH (SELECT '{}') AS p;", target("c.db")),
            "`ATTACH` of a file named by an expression".to_owned(),
        ),
        (
            format!("ATTACH 'file:{}?mode=rwc' AS p;", target("d.db")),
            format!(
                "attaching the database file `file:{}?mode=rwc` (`ATTACH`, `VACUUM INTO`)",
                target("d.db")
            ),
        ),
        (
            format!("ATTACH DATABASE '{}' AS other;", target("a.db")),
            format!(
                "attaching the database file `{}` (`ATTACH`, `VACUUM INTO`)",
                target("a.db")
            ),
        ),
        (
            "ATTACH ':memory:' AS p;".to_owned(),
            "attaching the database file `:memory:` (`ATTACH`, `VACUUM INTO`)".to_owned(),
        ),
        (
            format!("VACUUM INTO '{}';", target("e.db")),
            format!(
                "attaching the database file `{}` (`ATTACH`, `VACUUM INTO`)",
                target("e.db")
            ),
        ),
        (
            format!("VACUUM INTO '{}' || '.db';", target("f")),
            format!(
                "attaching the database file `{}.db` (`ATTACH`, `VACUUM INTO`)",
                target("f")
            ),
        ),
        ("DETACH DATABASE temp;".to_owned(), "`DETACH`".to_owned()),
    ];
    for (attack, what) in cases {
        // No transaction, where ATTACH and VACUUM run; then a write to the attached database.
        let up = format!(
            "-- migrate:no-transaction\nSELECT 1;\n{attack}\nCREATE TABLE p.t AS SELECT 1 AS x;"
        );
        assert_eq!(refusal(&up), refused(3, &what), "{attack}");
    }
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read the target directory")
        .collect();
    assert!(left.is_empty(), "verification wrote {left:?}");
}

#[test]
fn the_sandbox_refuses_extensions_and_temporary_files() {
    assert_eq!(
        refusal("SELECT load_extension('/tmp/evil.so');"),
        refused(1, "`load_extension()`")
    );
    for pragma in [
        "PRAGMA temp_store = FILE;",
        "PRAGMA temp_store = 1;",
        "pragma \"TEMP_STORE\"(0);",
        "PRAGMA temp.temp_store = DEFAULT;",
        "PRAGMA temp_store_directory = '/tmp';",
    ] {
        let message = refusal(&format!("SELECT 1;\n{pragma}"));
        assert!(
            message.starts_with("`000002_x.up.sql` line 2: `PRAGMA ")
                && message.contains("(it would let SQLite write files) is not allowed"),
            "{pragma}: {message}"
        );
    }
}

#[test]
fn verification_keeps_temporary_storage_in_memory() {
    // Sorts, temporary tables and VACUUM's copy stay in memory: the migration sees it.
    verify_files(&[
        BASE,
        BASE_DOWN,
        (
            "000002_probe.up.sql",
            "CREATE TABLE probe (temp_store INTEGER CHECK (temp_store = 2));\n\
             INSERT INTO probe SELECT temp_store FROM pragma_temp_store;",
        ),
        ("000002_probe.down.sql", "DROP TABLE probe;"),
    ])
    .unwrap_or_else(|f| panic!("{f:?}"));
}

/// Set by [`verification_touches_no_file`] in the child process it starts.
const PROBE: &str = "MIGRATE_SANDBOX_PROBE";

#[test]
fn verification_touches_no_file() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let work = dir.path().join("work");
    std::fs::create_dir(&work).expect("create the working directory");
    // The child verifies with its working directory and every temporary directory SQLite
    // consults pointed at `work`, which must stay empty.
    let output = std::process::Command::new(std::env::current_exe().expect("the test binary"))
        .args(["--exact", "sandbox_probe", "--ignored", "--nocapture"])
        .current_dir(&work)
        .env("TMPDIR", &work)
        .env("SQLITE_TMPDIR", &work)
        .env(PROBE, dir.path())
        .output()
        .expect("run the probe");
    assert!(
        output.status.success() && String::from_utf8_lossy(&output.stdout).contains("1 passed"),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read the directory")
        .map(|e| e.expect("an entry").file_name())
        .collect();
    assert_eq!(left, ["work"], "verification created files");
    let left: Vec<_> = std::fs::read_dir(&work)
        .expect("read the working directory")
        .collect();
    assert!(left.is_empty(), "verification created {left:?}");
}

/// Run by [`verification_touches_no_file`] only: verifies a large sort, a VACUUM and every
/// escape, in a process whose working and temporary directories are watched.
#[test]
#[ignore = "run by verification_touches_no_file in a child process"]
fn sandbox_probe() {
    let Some(root) = std::env::var_os(PROBE) else {
        panic!("run by verification_touches_no_file, which sets {PROBE}");
    };
    let root = Path::new(&root);
    // 40 000 rows of 200 bytes: more than SQLite sorts in memory before spilling to files.
    let big = (
        "000002_big.up.sql",
        "CREATE TABLE big (id INTEGER PRIMARY KEY, body BLOB);\n\
         INSERT INTO big (body) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40000) SELECT randomblob(200) FROM n;\n\
         CREATE INDEX big_body ON big (body);",
    );
    let files = [
        BASE,
        BASE_DOWN,
        big,
        ("000002_big.down.sql", "DROP TABLE big;"),
        ("000003_vacuum.up.sql", "-- migrate:no-transaction\nVACUUM;"),
        (
            "000003_vacuum.down.sql",
            "-- migrate:irreversible nothing to undo",
        ),
    ];
    verify_files(&files).unwrap_or_else(|f| panic!("{f:?}"));
    for attack in [
        format!("ATTACH '{}/x' || '.db' AS p;", root.display()),
        format!("ATTACH (SELECT '{}/y.db') AS p;", root.display()),
        "ATTACH 'z.db' AS p;".to_owned(),
        format!("VACUUM INTO '{}/copy.db';", root.display()),
    ] {
        let up = format!("-- migrate:no-transaction\n{attack}\nCREATE TABLE p.t AS SELECT 1 AS x;");
        let message = refusal(&up);
        assert!(message.contains("is not allowed"), "{attack}: {message}");
    }
    println!("probe done");
}

#[test]
fn irreversible_migrations_are_verified_up_only() {
    verify_files(&[
        BASE,
        BASE_DOWN,
        ("000002_purge.up.sql", "DELETE FROM posts;"),
        (
            "000002_purge.down.sql",
            "-- migrate:irreversible the posts are gone",
        ),
    ])
    .unwrap();
    let message = finding(&[
        BASE,
        BASE_DOWN,
        ("000002_purge.up.sql", "DELETE FROM post;"),
        (
            "000002_purge.down.sql",
            "-- migrate:irreversible the posts are gone",
        ),
    ]);
    assert!(
        message.starts_with("`000002_purge.up.sql` line 1: no such table: post"),
        "{message}"
    );
}

#[test]
fn every_down_back_to_nothing_must_leave_an_empty_database() {
    // Each down undoes its own up, yet the first down leaves what it should drop.
    let message = finding(&[
        (
            "000001_base.up.sql",
            "CREATE TABLE a (x);\nCREATE TABLE keep (y);",
        ),
        ("000001_base.down.sql", "DROP TABLE a;"),
        ("000002_b.up.sql", "CREATE TABLE b (x);"),
        ("000002_b.down.sql", "DROP TABLE b;"),
    ]);
    assert!(message.contains("leaves table `keep` behind"), "{message}");
}

#[test]
fn a_schema_rewritten_through_writable_schema_cannot_escape_either() {
    // The rewritten text is read back in a scratch database when the down is compared: that
    // database is sandboxed too.
    let dir = tempfile::tempdir().expect("temporary directory");
    let target = dir.path().join("pwn.db");
    let up = format!(
        "PRAGMA writable_schema = ON;\n\
         UPDATE sqlite_master SET sql = 'CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL); \
         ATTACH ''{}'' AS p; CREATE TABLE p.z (y)' WHERE name = 'posts';\n\
         PRAGMA writable_schema = OFF;\n\
         CREATE INDEX posts_title ON posts (title);",
        target.display()
    );
    let result = verify_files(&[
        BASE,
        BASE_DOWN,
        ("000002_x.up.sql", &up),
        ("000002_x.down.sql", "DROP INDEX posts_title;"),
    ]);
    assert!(!target.exists(), "verification wrote {}", target.display());
    let findings = result.expect_err("the down leaves the rewritten table");
    assert!(
        findings[0].message.contains("changes table `posts`"),
        "{findings:?}"
    );
}

/// The tail every malformed-foreign-key message ends with.
const UNENFORCED: &str = "; or, if the service runs with foreign keys off on purpose, declare it: `embed_migrations!(\"…\", foreign_keys = \"unenforced\")`";

#[test]
fn a_foreign_key_to_the_rowid_is_caught_on_the_migration_that_creates_it() {
    assert_eq!(
        finding(&[
            BASE,
            BASE_DOWN,
            (
                "000002_comments.up.sql",
                "CREATE TABLE comments (id INTEGER PRIMARY KEY, post_id INTEGER REFERENCES posts (rowid), body TEXT);"
            ),
            ("000002_comments.down.sql", "DROP TABLE comments;"),
        ]),
        format!(
            "`000002_comments.up.sql` leaves a foreign key that cannot work: `comments(post_id) REFERENCES posts(rowid)`, \
             because a foreign key cannot reference the rowid, only declared columns, and `posts` \
             declares no column `rowid`; SQLite accepts it, then fails every write to `comments` while \
             foreign keys are enforced: reference the primary key `posts(id)`{UNENFORCED}"
        )
    );
}

#[test]
fn malformed_foreign_keys_name_the_reason_and_the_fix() {
    let cases = [
        (
            "CREATE TABLE comments (post_title TEXT REFERENCES posts (title));",
            "`comments(post_title) REFERENCES posts(title)`, because `posts(title)` is \
             neither the PRIMARY KEY of `posts` nor covered by a UNIQUE constraint or unique index; SQLite \
             accepts it, then fails every write to `comments` while foreign keys are enforced: reference the \
             primary key `posts(id)`, or add `CREATE UNIQUE INDEX … ON posts (title)` if those values are unique",
        ),
        (
            "CREATE TABLE comments (post_id INTEGER REFERENCES post (id));",
            "`comments(post_id) REFERENCES post(id)`, because table `post` does not exist \
             (\"no such table: main.post\"); SQLite accepts it, then fails every write to `comments` while \
             foreign keys are enforced: create `post` in this migration or an earlier one, or correct the \
             name after REFERENCES",
        ),
        (
            "CREATE TABLE authors (name TEXT);\nCREATE TABLE comments (author TEXT REFERENCES authors);",
            "`comments(author) REFERENCES authors`, because `REFERENCES authors` without \
             columns means its PRIMARY KEY, and `authors` has none; SQLite accepts it, then fails every write \
             to `comments` while foreign keys are enforced: name a PRIMARY KEY or UNIQUE column of `authors` \
             after REFERENCES, or give `authors` a PRIMARY KEY",
        ),
        (
            "CREATE TABLE comments (post_id INTEGER REFERENCES posts (ident));",
            "`comments(post_id) REFERENCES posts(ident)`, because `posts` has no column \
             `ident`; SQLite accepts it, then fails every write to `comments` while foreign keys are enforced: \
             reference the primary key `posts(id)`, or correct the column name after REFERENCES posts",
        ),
        (
            "CREATE VIEW titles AS SELECT id, title FROM posts;\nCREATE TABLE comments (post_id INTEGER REFERENCES titles (id));",
            "`comments(post_id) REFERENCES titles(id)`, because `titles` is a view, and a \
             foreign key must reference a table; SQLite accepts it, then fails every write to `comments` while \
             foreign keys are enforced: reference the table the view reads from",
        ),
    ];
    for (up, expected) in cases {
        assert_eq!(
            finding(&[
                BASE,
                BASE_DOWN,
                ("000002_comments.up.sql", up),
                (
                    "000002_comments.down.sql",
                    "DROP TABLE comments;\nDROP TABLE IF EXISTS authors;\nDROP VIEW IF EXISTS titles;"
                ),
            ]),
            format!(
                "`000002_comments.up.sql` leaves a foreign key that cannot work: {expected}{UNENFORCED}"
            ),
            "{up}"
        );
    }
}

#[test]
fn a_collation_mismatch_is_left_to_sqlite_and_still_caught() {
    let message = finding(&[
        (
            "000001_users.up.sql",
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT COLLATE NOCASE);\nCREATE UNIQUE INDEX users_email ON users (email COLLATE BINARY);",
        ),
        ("000001_users.down.sql", "DROP TABLE users;"),
        (
            "000002_sessions.up.sql",
            "CREATE TABLE sessions (email TEXT REFERENCES users (email));",
        ),
        ("000002_sessions.down.sql", "DROP TABLE sessions;"),
    ]);
    assert!(
        message.starts_with("`000002_sessions.up.sql` leaves a foreign key that cannot work: `sessions(email) REFERENCES users(email)`, because SQLite reports \"foreign key mismatch - \"sessions\" referencing \"users\"\""),
        "{message}"
    );
}

#[test]
fn the_migration_that_breaks_a_parent_key_is_blamed() {
    let users = (
        "000001_users.up.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\nCREATE UNIQUE INDEX users_email ON users (email);\nCREATE TABLE sessions (email TEXT REFERENCES users (email));",
    );
    let users_down = (
        "000001_users.down.sql",
        "DROP TABLE sessions;\nDROP TABLE users;",
    );
    // The up drops the unique index the foreign key relies on.
    let message = finding(&[
        users,
        users_down,
        ("000002_emails.up.sql", "DROP INDEX users_email;"),
        (
            "000002_emails.down.sql",
            "CREATE UNIQUE INDEX users_email ON users (email);",
        ),
    ]);
    assert!(
        message.starts_with(
            "`000002_emails.up.sql` leaves a foreign key that cannot work: `sessions(email) REFERENCES users(email)`, because `users(email)` is neither"
        ),
        "{message}"
    );
    // The down drops a unique index that the up's new table relies on: the down is blamed.
    let message = finding(&[
        (
            "000001_users.up.sql",
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);",
        ),
        ("000001_users.down.sql", "DROP TABLE users;"),
        (
            "000002_sessions.up.sql",
            "CREATE UNIQUE INDEX users_email ON users (email);\nCREATE TABLE sessions (email TEXT REFERENCES users (email));",
        ),
        ("000002_sessions.down.sql", "DROP INDEX users_email;"),
    ]);
    assert!(
        message.starts_with(
            "`000002_sessions.down.sql` leaves a foreign key that cannot work: `sessions(email) REFERENCES users(email)`, because"
        ),
        "{message}"
    );
}

#[test]
fn a_later_write_does_not_take_the_blame() {
    // Before: verification blamed 000003, the first migration to write to the table.
    let message = finding(&[
        BASE,
        BASE_DOWN,
        (
            "000002_comments.up.sql",
            "CREATE TABLE comments (id INTEGER PRIMARY KEY, post_title TEXT REFERENCES posts (title));",
        ),
        ("000002_comments.down.sql", "DROP TABLE comments;"),
        (
            "000003_seed.up.sql",
            "INSERT INTO comments (post_title) VALUES ('first');",
        ),
        ("000003_seed.down.sql", "DELETE FROM comments;"),
    ]);
    assert!(
        message.starts_with("`000002_comments.up.sql` leaves a foreign key that cannot work"),
        "{message}"
    );
}

#[test]
fn well_formed_foreign_keys_pass() {
    verify_files(&[
        (
            "000001_base.up.sql",
            "CREATE TABLE accounts (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE);\n\
             CREATE TABLE regions (country TEXT, code TEXT, name TEXT, PRIMARY KEY (country, code)) WITHOUT ROWID;\n\
             CREATE TABLE tags (slug TEXT PRIMARY KEY);\n\
             CREATE TABLE notes (\n\
               id INTEGER PRIMARY KEY,\n\
               account_id INTEGER REFERENCES accounts,\n\
               account_code TEXT REFERENCES accounts (code),\n\
               country TEXT, region TEXT,\n\
               tag TEXT REFERENCES tags (slug) ON DELETE SET NULL,\n\
               parent_id INTEGER REFERENCES notes (id),\n\
               FOREIGN KEY (region, country) REFERENCES regions (code, country)\n\
             );\n\
             INSERT INTO accounts VALUES (1, 'a');\nINSERT INTO notes (id, account_id, account_code) VALUES (1, 1, 'a');",
        ),
        (
            "000001_base.down.sql",
            "DROP TABLE notes;\nDROP TABLE tags;\nDROP TABLE regions;\nDROP TABLE accounts;",
        ),
        // A parent recreated under a temporary name and renamed back.
        (
            "000002_rebuild.up.sql",
            "PRAGMA foreign_keys = OFF;\nCREATE TABLE accounts_new (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE, name TEXT);\n\
             INSERT INTO accounts_new (id, code) SELECT id, code FROM accounts;\nDROP TABLE accounts;\n\
             ALTER TABLE accounts_new RENAME TO accounts;\nPRAGMA foreign_keys = ON;",
        ),
        (
            "000002_rebuild.down.sql",
            "PRAGMA foreign_keys = OFF;\nCREATE TABLE accounts_old (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE);\n\
             INSERT INTO accounts_old SELECT id, code FROM accounts;\nDROP TABLE accounts;\n\
             ALTER TABLE accounts_old RENAME TO accounts;\nPRAGMA foreign_keys = ON;",
        ),
    ])
    .unwrap_or_else(|f| panic!("{f:?}"));
}

/// A set like the Go reference guide's first migration: a foreign key to a column that is not
/// unique, which only works with enforcement off, and rows written through it.
const UNENFORCED_SET: [(&str, &str); 4] = [
    (
        "000001_profiles.up.sql",
        "CREATE TABLE profiles (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n\
         CREATE TABLE items (id INTEGER PRIMARY KEY, profile_name TEXT REFERENCES profiles (name));\n\
         INSERT INTO profiles (name) VALUES ('sd'), ('hd');\n\
         INSERT INTO items (profile_name) VALUES ('sd'), ('4k');",
    ),
    (
        "000001_profiles.down.sql",
        "DROP TABLE items;\nDROP TABLE profiles;",
    ),
    (
        "000002_orphans.up.sql",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, item_id INTEGER REFERENCES items (id));\n\
         INSERT INTO notes (item_id) VALUES (99);",
    ),
    ("000002_orphans.down.sql", "DROP TABLE notes;"),
];

#[test]
fn a_set_declared_unenforced_verifies_with_enforcement_off() {
    let unenforced = Declaration::new().with_foreign_keys(ForeignKeys::Unenforced);
    verify_declared_files(&UNENFORCED_SET, &unenforced).unwrap_or_else(|f| panic!("{f:?}"));
    // Declared enforced (the default), the same set is refused where the foreign key is made.
    let message = finding(&UNENFORCED_SET);
    assert_eq!(
        message,
        format!(
            "`000001_profiles.up.sql` leaves a foreign key that cannot work: \
             `items(profile_name) REFERENCES profiles(name)`, because `profiles(name)` is neither \
             the PRIMARY KEY of `profiles` nor covered by a UNIQUE constraint or unique index; \
             SQLite accepts it, then fails every write to `items` while foreign keys are \
             enforced: reference the primary key `profiles(id)`, or add \
             `CREATE UNIQUE INDEX … ON profiles (name)` if those values are unique{UNENFORCED}"
        )
    );
    let enforced = Declaration::new().with_foreign_keys(ForeignKeys::Enforced);
    assert_eq!(
        verify_declared_files(&UNENFORCED_SET, &enforced).map_err(|f| f[0].message.clone()),
        Err(message)
    );
}

/// Migrations that call functions the application registers.
const FUNCTIONS_SET: [(&str, &str); 4] = [
    (
        "000001_users.up.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, avatar BLOB);\n\
         INSERT INTO users (email, avatar) VALUES ('A@example.com', x'0102');",
    ),
    ("000001_users.down.sql", "DROP TABLE users;"),
    (
        "000002_normalize.up.sql",
        "ALTER TABLE users ADD COLUMN avatar_b64 TEXT;\n\
         UPDATE users SET email = normalize(email, 'nfc'), avatar_b64 = BIN2B64(avatar);\n\
         CREATE UNIQUE INDEX users_email ON users (normalize(email, 'nfc'));",
    ),
    (
        "000002_normalize.down.sql",
        "DROP INDEX users_email;\nALTER TABLE users DROP COLUMN avatar_b64;",
    ),
];

#[test]
fn an_undeclared_function_says_how_to_declare_it() {
    assert_eq!(
        finding(&FUNCTIONS_SET),
        "`000002_normalize.up.sql` line 2, column 26: no such function: normalize (in `UPDATE users \
         SET email = normalize(email, 'nfc'), avatar_b64…`); if the application registers \
         `normalize` on its connections, declare it so verification can run a stand-in: \
         `embed_migrations!(\"…\", functions = [\"normalize/N\"])`, N being its number of \
         arguments (`migrate-sqlite check --verify --function normalize/N`)"
    );
}

#[test]
fn declared_functions_run_as_deterministic_stand_ins() {
    let declared = |functions: &[&str]| {
        functions.iter().fold(Declaration::new(), |d, f| {
            d.with_function(AppFunction::parse(f).expect("a declaration"))
        })
    };
    // Stand-ins are deterministic: the unique index on an expression accepts them.
    verify_declared_files(&FUNCTIONS_SET, &declared(&["normalize/2", "bin2b64/1"]))
        .unwrap_or_else(|f| panic!("{f:?}"));
    verify_declared_files(&FUNCTIONS_SET, &declared(&["normalize/*", "BIN2B64/*"]))
        .unwrap_or_else(|f| panic!("{f:?}"));
    // The declared arity is the one SQL may call.
    let wrong = verify_declared_files(&FUNCTIONS_SET, &declared(&["normalize/1", "bin2b64/1"]))
        .expect_err("normalize is called with two arguments");
    assert!(
        wrong[0]
            .message
            .contains("wrong number of arguments to function normalize()"),
        "{wrong:?}"
    );
    // Everything else is still verified: a down that forgets the column is caught.
    let mut lossy = FUNCTIONS_SET;
    lossy[3].1 = "DROP INDEX users_email;";
    let findings = verify_declared_files(&lossy, &declared(&["normalize/2", "bin2b64/1"]))
        .expect_err("the down leaves the column");
    assert!(
        findings[0]
            .message
            .contains("leaves column `users.avatar_b64`, added by the up, behind"),
        "{findings:?}"
    );
}
