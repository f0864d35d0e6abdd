//! Drift detection and history: an applied migration edited afterwards is refused (naming the
//! file), line endings and a byte-order mark are not edits, databases migrated without history
//! (golang-migrate, older releases) are adopted, and every run is recorded.

use std::path::Path;

use migrate_runtime::rusqlite::Connection;
use migrate_runtime::{Drift, Error, Migrations, Options};

const FILES: [(&str, &str); 6] = [
    (
        "000001_users.up.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n",
    ),
    ("000001_users.down.sql", "DROP TABLE users;\n"),
    (
        "000002_posts.up.sql",
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT);\n",
    ),
    ("000002_posts.down.sql", "DROP TABLE posts;\n"),
    (
        "000003_tags.up.sql",
        "CREATE TABLE tags (id INTEGER PRIMARY KEY);\n",
    ),
    ("000003_tags.down.sql", "DROP TABLE tags;\n"),
];

/// The set in a fresh directory, with `edit` applied to the files' text.
fn set(dir: &Path, edit: impl Fn(&str, &str) -> String) -> Migrations {
    let migrations = dir.join("migrations");
    let _ = std::fs::remove_dir_all(&migrations);
    std::fs::create_dir_all(&migrations).expect("migrations directory");
    for (name, sql) in FILES {
        std::fs::write(migrations.join(name), edit(name, sql)).expect("write a migration");
    }
    Migrations::from_dir(&migrations).unwrap_or_else(|p| panic!("{p}"))
}

fn unedited(_: &str, sql: &str) -> String {
    sql.to_owned()
}

fn edit_posts(name: &str, sql: &str) -> String {
    if name == "000002_posts.up.sql" {
        sql.replace("title TEXT", "title TEXT NOT NULL")
    } else {
        sql.to_owned()
    }
}

/// Each migration's drift, as `status` reports it.
fn drift_of(migrations: &Migrations, conn: &Connection) -> Vec<Drift> {
    migrations
        .status(conn)
        .unwrap()
        .migrations
        .iter()
        .map(|m| m.drift)
        .collect()
}

fn dump(conn: &Connection) -> String {
    let mut statement = conn
        .prepare("SELECT type || ' ' || name || ': ' || ifnull(sql, '') FROM sqlite_master ORDER BY name")
        .unwrap();
    let rows: Vec<String> = statement
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let history: Vec<String> = conn
        .prepare(
            "SELECT version || direction || checksum FROM schema_migrations_history ORDER BY id",
        )
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .unwrap_or_default();
    format!("{}\n{}", rows.join("\n"), history.join("\n"))
}

#[test]
fn an_applied_migration_edited_afterwards_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = Connection::open(dir.path().join("app.db")).unwrap();
    set(dir.path(), unedited).up(&mut conn).unwrap();
    let edited = set(dir.path(), edit_posts);
    let before = dump(&conn);
    // Nothing pending (the start-up path) and something pending (the full path) alike.
    for with_pending in [false, true] {
        let edited = if with_pending {
            std::fs::write(
                dir.path().join("migrations/000004_more.up.sql"),
                "CREATE TABLE more (x);",
            )
            .unwrap();
            std::fs::write(
                dir.path().join("migrations/000004_more.down.sql"),
                "DROP TABLE more;",
            )
            .unwrap();
            Migrations::from_dir(dir.path().join("migrations")).unwrap()
        } else {
            edited.clone()
        };
        let error = edited.up(&mut conn).unwrap_err();
        let Error::Changed { changed, table } = &error else {
            panic!("{error:?}")
        };
        assert_eq!(table, "schema_migrations_history");
        assert_eq!(
            (changed.len(), changed[0].version, changed[0].file.as_str()),
            (1, 2, "000002_posts.up.sql")
        );
        let message = error.to_string();
        assert!(
            message.starts_with("`000002_posts.up.sql` was changed after it was applied to this database (`schema_migrations_history` records checksum "),
            "{message}"
        );
        assert!(
            message.ends_with("nothing was changed. Restore the file as it was applied and put the change in a new migration, or accept the edit with `Options::allow_changed_migrations(true)`"),
            "{message}"
        );
        assert_eq!(dump(&conn), before, "a refusal changes nothing");
    }
}

#[test]
fn an_edit_can_be_accepted_explicitly_and_status_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = Connection::open(dir.path().join("app.db")).unwrap();
    set(dir.path(), unedited).to(&mut conn, 2).unwrap();
    let edited = set(dir.path(), edit_posts);
    let drift = drift_of(&edited, &conn);
    assert_eq!(drift, [Drift::Unchanged, Drift::Changed, Drift::Unknown]);
    assert!(
        edited
            .status(&conn)
            .unwrap()
            .to_string()
            .contains("changed  000002_posts")
    );
    let report = edited
        .with_options(Options::new().allow_changed_migrations(true))
        .up(&mut conn)
        .unwrap();
    assert_eq!(report.steps.len(), 1);
}

#[test]
fn line_endings_and_a_byte_order_mark_are_not_edits() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = Connection::open(dir.path().join("app.db")).unwrap();
    set(dir.path(), unedited).up(&mut conn).unwrap();
    let windows = set(dir.path(), |_, sql| {
        format!("\u{feff}{}", sql.replace('\n', "\r\n"))
    });
    assert!(windows.up(&mut conn).unwrap().is_empty());
    let drift = drift_of(&windows, &conn);
    assert_eq!(drift, [Drift::Unchanged; 3]);
}

#[test]
fn a_database_migrated_without_history_is_adopted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("go.db");
    {
        // golang-migrate's driver, migrations 1 and 2 applied as they were written then.
        let go = Connection::open(&path).unwrap();
        go.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version uint64,dirty bool);
             CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON schema_migrations (version);
             CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
             CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT);
             INSERT INTO schema_migrations (version, dirty) VALUES (2, 0);",
        )
        .unwrap();
    }
    let mut conn = Connection::open(&path).unwrap();
    // Even an edited file is adopted: there is no record to compare it with.
    let edited = set(dir.path(), edit_posts);
    let report = edited.up(&mut conn).unwrap();
    assert_eq!(
        report.steps.iter().map(|s| s.version).collect::<Vec<_>>(),
        [3]
    );
    let drift = drift_of(&edited, &conn);
    assert_eq!(drift, [Drift::Unknown, Drift::Unknown, Drift::Unchanged]);
    assert!(edited.up(&mut conn).unwrap().is_empty());
}

#[test]
fn every_run_is_recorded_in_the_history_table() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = Connection::open(dir.path().join("app.db")).unwrap();
    let migrations = set(dir.path(), unedited);
    migrations.up(&mut conn).unwrap();
    migrations.down(&mut conn, 1).unwrap();
    let mut statement = conn
        .prepare("SELECT version, name, direction, checksum, lineage IS NOT NULL, applied_at, duration_ms FROM schema_migrations_history ORDER BY id")
        .unwrap();
    let rows: Vec<(i64, String, String, String, bool, String, f64)> = statement
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let summary: Vec<(i64, &str, &str, bool)> = rows
        .iter()
        .map(|r| (r.0, r.1.as_str(), r.2.as_str(), r.4))
        .collect();
    assert_eq!(
        summary,
        [
            (1, "users", "up", true),
            (2, "posts", "up", true),
            (3, "tags", "up", true),
            (3, "tags", "down", false)
        ]
    );
    assert_eq!(
        rows[0].3,
        migrations.get(1).unwrap().up().checksum().to_hex()
    );
    assert_eq!(
        rows[3].3,
        migrations.get(3).unwrap().down().checksum().to_hex()
    );
    assert!(
        rows.iter()
            .all(|r| r.5.len() == 24 && r.5.ends_with('Z') && r.6 >= 0.0),
        "{rows:?}"
    );
    // golang-migrate's table is untouched by the history.
    let version_table: String = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = 'schema_migrations'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        version_table,
        "CREATE TABLE schema_migrations (version uint64,dirty bool)"
    );
}

#[test]
fn force_does_not_hide_drift() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = Connection::open(dir.path().join("app.db")).unwrap();
    set(dir.path(), unedited).to(&mut conn, 2).unwrap();
    set(dir.path(), unedited).force(&mut conn, 3).unwrap();
    let edited = set(dir.path(), |name, sql| {
        if name == "000001_users.up.sql" {
            sql.replace("name TEXT", "name TEXT NOT NULL")
        } else {
            sql.to_owned()
        }
    });
    let before = dump(&conn);
    for result in [
        edited.up(&mut conn),
        edited.to(&mut conn, 3),
        edited.down(&mut conn, 1),
    ] {
        match result {
            Err(Error::Changed { changed, .. }) => {
                assert_eq!(changed[0].file, "000001_users.up.sql");
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(dump(&conn), before);
}

fn edit_tags_down(name: &str, sql: &str) -> String {
    if name == "000003_tags.down.sql" {
        "DROP TABLE tags;\nDROP TABLE users;\n".to_owned()
    } else {
        sql.to_owned()
    }
}

#[test]
fn a_down_edited_after_its_up_was_applied_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = Connection::open(dir.path().join("app.db")).unwrap();
    set(dir.path(), unedited).up(&mut conn).unwrap();
    let edited = set(dir.path(), edit_tags_down);
    let before = dump(&conn);
    let error = edited.down(&mut conn, 1).unwrap_err();
    let recorded = set(dir.path(), unedited)
        .get(3)
        .unwrap()
        .down()
        .checksum()
        .to_hex();
    let now = edited.get(3).unwrap().down().checksum().to_hex();
    assert_eq!(
        error.to_string(),
        format!(
            "`000003_tags.down.sql` is not the down shipped with the migration applied to this \
             database (`schema_migrations_history` records checksum {}… for it, the file now has \
             {}…), so running it could undo something other than what was applied; nothing was \
             changed. Restore the file as it was when its up was applied, or accept the edit with \
             `Options::allow_changed_migrations(true)`",
            &recorded[..12],
            &now[..12]
        )
    );
    assert!(matches!(
        edited.to(&mut conn, 0),
        Err(Error::Changed { .. })
    ));
    assert_eq!(dump(&conn), before);
    assert_eq!(drift_of(&edited, &conn)[2], Drift::Changed);
    // A down that is not about to run does not matter.
    let edited_first = set(dir.path(), |name, sql| {
        if name == "000001_users.down.sql" {
            "DROP TABLE users; -- edited\n".to_owned()
        } else {
            sql.to_owned()
        }
    });
    edited_first.down(&mut conn, 1).unwrap();
    // The way out, explicit: accept the edit.
    let mut conn = Connection::open(dir.path().join("app.db")).unwrap();
    set(dir.path(), unedited).up(&mut conn).unwrap();
    edited
        .with_options(Options::new().allow_changed_migrations(true))
        .down(&mut conn, 1)
        .unwrap();
}

#[test]
fn an_idle_start_on_a_golang_migrate_database_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("go.db");
    let go = Connection::open(&path).unwrap();
    go.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version uint64,dirty bool);
         CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON schema_migrations (version);
         CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
         CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT);
         CREATE TABLE tags (id INTEGER PRIMARY KEY);
         INSERT INTO schema_migrations (version, dirty) VALUES (3, 0);",
    )
    .unwrap();
    let data_version = |c: &Connection| -> i64 {
        c.pragma_query_value(None, "data_version", |r| r.get(0))
            .unwrap()
    };
    let seen = data_version(&go);
    let before = dump(&go);
    let migrations = set(dir.path(), unedited);
    let mut conn = Connection::open(&path).unwrap();
    assert!(migrations.up(&mut conn).unwrap().is_empty());
    assert!(migrations.to(&mut conn, 3).unwrap().is_empty());
    assert_eq!(dump(&conn), before, "no history table created");
    assert_eq!(data_version(&go), seen, "no commit");
    // A read-only connection (a replica) at the latest version starts too.
    let mut read_only = Connection::open_with_flags(
        &path,
        migrate_runtime::rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    assert!(migrations.up(&mut read_only).unwrap().is_empty());
    // And one migrated here, with its history.
    migrations.down(&mut conn, 1).unwrap();
    migrations.up(&mut conn).unwrap();
    let mut read_only = Connection::open_with_flags(
        &path,
        migrate_runtime::rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    assert!(migrations.up(&mut read_only).unwrap().is_empty());
}

#[test]
fn an_empty_database_at_its_goal_is_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let mut conn = Connection::open(&path).unwrap();
    let migrations = set(dir.path(), unedited);
    assert!(migrations.to(&mut conn, 0).unwrap().is_empty());
    assert_eq!(dump(&conn), "\n", "no version table, no history table");
}

#[test]
fn an_edit_of_a_migration_applied_before_history_keeps_starts_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("go.db");
    let go = Connection::open(&path).unwrap();
    go.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version uint64,dirty bool);
         CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON schema_migrations (version);
         CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
         CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT);
         INSERT INTO schema_migrations (version, dirty) VALUES (2, 0);",
    )
    .unwrap();
    let mut conn = Connection::open(&path).unwrap();
    set(dir.path(), unedited).up(&mut conn).unwrap();
    // 000002 was applied by golang-migrate, before any history: its edit is adopted, and the
    // next starts stay reads (a read-only replica starts).
    let edited = set(dir.path(), edit_posts);
    let mut read_only = Connection::open_with_flags(
        &path,
        migrate_runtime::rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    assert!(edited.up(&mut read_only).unwrap().is_empty());
    // Without taking the write lock: a writer holding it does not delay the start.
    let mut writer = Connection::open(&path).unwrap();
    let lock = writer
        .transaction_with_behavior(migrate_runtime::rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    let report = edited
        .with_options(Options::new().busy_timeout(std::time::Duration::from_millis(50)))
        .up(&mut conn)
        .unwrap();
    assert!(report.is_empty());
    drop(lock);
}

/// The start-up read on a connection that ran it before (compiled once and kept, with the
/// `statement-cache` feature) sees what another connection committed in between: an applied
/// migration replaced by an edited one, and everything undone.
#[test]
fn a_warm_connection_sees_what_another_connection_did_in_between() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let original = set(dir.path(), unedited);
    let edited = set(dir.path(), edit_posts);
    let mut warm = Connection::open(&path).unwrap();
    original.up(&mut warm).unwrap();
    for _ in 0..3 {
        assert_eq!(original.up(&mut warm).unwrap().steps.len(), 0);
    }

    // Another connection takes 000002 and 000003 down and applies the edited 000002 again.
    let mut other = Connection::open(&path).unwrap();
    let accepting = edited.with_options(Options::new().allow_changed_migrations(true));
    accepting.down(&mut other, 2).unwrap();
    accepting.up(&mut other).unwrap();
    match original.up(&mut warm) {
        Err(Error::Changed { changed, .. }) => {
            assert_eq!(changed[0].file, "000002_posts.up.sql");
        }
        other => panic!("the warm connection missed the edit: {other:?}"),
    }

    // Another connection undoes everything: the warm connection applies the set again.
    accepting.down(&mut other, 3).unwrap();
    let report = original.up(&mut warm).unwrap();
    assert_eq!((report.from, report.to), (None, Some(3)));
    assert_eq!(report.steps.len(), 3);
    assert_eq!(original.up(&mut warm).unwrap().steps.len(), 0);
}
