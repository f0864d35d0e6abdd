//! Verification on real SQL: what must pass (the repository's migrations, the patterns of the
//! golang-migrate guide, triggers, awkward text) and each kind of failure, with its message.

use std::path::Path;

use migrate_engine::{Finding, verify};

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

#[test]
fn the_sandbox_refuses_attach_vacuum_into_and_extensions() {
    for (sql, what) in [
        ("ATTACH DATABASE '/tmp/x.db' AS other;", "ATTACH"),
        (
            "-- migrate:no-transaction\nVACUUM INTO '/tmp/copy.db';",
            "VACUUM INTO",
        ),
        ("SELECT load_extension('/tmp/evil.so');", "load_extension()"),
    ] {
        let message = finding(&[
            BASE,
            BASE_DOWN,
            ("000002_x.up.sql", sql),
            ("000002_x.down.sql", "SELECT 1;"),
        ]);
        let line = if what == "VACUUM INTO" { 2 } else { 1 };
        assert_eq!(
            message,
            format!(
                "`000002_x.up.sql` line {line}: {what} is not allowed in a migration verified at compile time, because verifying must not touch the file system or load code: remove it, or turn verification off for this crate (default-features = false)"
            )
        );
    }
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
