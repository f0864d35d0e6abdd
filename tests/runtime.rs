//! The runtime on real database files: golang-migrate compatibility, all-or-nothing runs,
//! no-transaction migrations and dirty state, foreign keys, guard rails, the idle fast path,
//! baselining, options and logging. (Concurrent starters: `tests/concurrency.rs`.)

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use example_service::MIGRATIONS;
use migrate_runtime::rusqlite::Connection;
use migrate_runtime::{
    Direction, DirtyOrigin, Error, ForeignKeys, LeftAt, Migrations, Options, SchemaVersion,
};
use tempfile::TempDir;

/// A migration set written to a temporary directory, and a database file beside it.
struct Fixture {
    dir: TempDir,
    migrations: Migrations,
}

impl Fixture {
    fn new(files: &[(&str, &str)]) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let migrations_dir = dir.path().join("migrations");
        std::fs::create_dir(&migrations_dir).unwrap();
        for (name, sql) in files {
            std::fs::write(migrations_dir.join(name), sql).unwrap();
        }
        let migrations = Migrations::from_dir(&migrations_dir).unwrap_or_else(|p| panic!("{p}"));
        Fixture { dir, migrations }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("app.db")
    }

    fn open(&self) -> Connection {
        open(&self.db())
    }
}

/// Opens a database the way a service does: foreign keys enforced.
fn open(path: &Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.pragma_update(None, "foreign_keys", true).unwrap();
    conn
}

/// Every schema object and every row of every table (the version and history tables
/// included), as text: two equal dumps mean the same database. `timestamps` uses it too.
pub(super) fn dump(conn: &Connection) -> String {
    let mut out = String::new();
    let mut objects = conn
        .prepare("SELECT type, name, sql FROM sqlite_master ORDER BY type, name")
        .unwrap();
    let rows: Vec<(String, String, Option<String>)> = objects
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (kind, name, sql) in rows {
        out.push_str(&format!("{kind} {name}: {}\n", sql.unwrap_or_default()));
        if kind == "table" {
            let mut select = conn
                .prepare(&format!("SELECT * FROM \"{name}\" ORDER BY rowid"))
                .unwrap();
            let columns = select.column_count();
            let mut rows = select.query([]).unwrap();
            while let Some(row) = rows.next().unwrap() {
                let values: Vec<String> = (0..columns)
                    .map(|i| format!("{:?}", row.get_ref(i).unwrap()))
                    .collect();
                out.push_str(&format!("  {}\n", values.join(", ")));
            }
        }
    }
    out
}

fn count(conn: &Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
        r.get(0)
    })
    .unwrap()
}

fn version(migrations: &Migrations, conn: &Connection) -> SchemaVersion {
    migrations.version(conn).unwrap()
}

const fn at(version: Option<u64>, dirty: bool) -> SchemaVersion {
    SchemaVersion { version, dirty }
}

fn three_tables() -> Fixture {
    Fixture::new(&[
        (
            "000001_a.up.sql",
            "CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT);\nINSERT INTO a (v) VALUES ('seed');",
        ),
        ("000001_a.down.sql", "DROP TABLE a;"),
        (
            "000002_b.up.sql",
            "CREATE TABLE b (id INTEGER PRIMARY KEY);",
        ),
        ("000002_b.down.sql", "DROP TABLE b;"),
        (
            "000003_c.up.sql",
            "CREATE TABLE c (id INTEGER PRIMARY KEY);",
        ),
        ("000003_c.down.sql", "DROP TABLE c;"),
    ])
}

// ---------------------------------------------------------------------------------------------
// 1. golang-migrate's version table

/// Exactly what golang-migrate's sqlite3 driver runs in `ensureVersionTable`.
const GOLANG_ENSURE_VERSION_TABLE: &str = "
\tCREATE TABLE IF NOT EXISTS schema_migrations (version uint64,dirty bool);
  CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON schema_migrations (version);
  ";

/// golang-migrate's `SetVersion`: delete, then insert the one row.
fn golang_set_version(conn: &Connection, version: i64, dirty: bool) {
    conn.execute("DELETE FROM schema_migrations", []).unwrap();
    conn.execute(
        "INSERT INTO schema_migrations (version, dirty) VALUES (?, ?)",
        (version, dirty),
    )
    .unwrap();
}

#[test]
fn continues_a_database_migrated_by_golang_migrate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("go.db");
    {
        // The Go service: its driver's table, migrations 1 and 2 run as plain SQL, version 2.
        let go = Connection::open(&path).unwrap();
        go.execute_batch(GOLANG_ENSURE_VERSION_TABLE).unwrap();
        for m in MIGRATIONS.iter().take(2) {
            go.execute_batch(m.up().sql()).unwrap();
        }
        golang_set_version(&go, 2, false);
    }
    let mut conn = open(&path);
    let report = MIGRATIONS.up(&mut conn).unwrap();
    let ran: Vec<u64> = report.steps.iter().map(|s| s.version).collect();
    assert_eq!(ran, [3, 4]);
    assert_eq!((report.from, report.to), (Some(2), Some(4)));
    assert_eq!(version(&MIGRATIONS, &conn), at(Some(4), false));
}

#[test]
fn leaves_a_version_table_golang_migrate_reads() {
    let fx = three_tables();
    let mut conn = fx.open();
    fx.migrations.to(&mut conn, 2).unwrap();
    let table_sql: String = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = 'schema_migrations'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        table_sql,
        "CREATE TABLE schema_migrations (version uint64,dirty bool)"
    );
    let index_sql: String = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = 'version_unique'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        index_sql,
        "CREATE UNIQUE INDEX version_unique ON schema_migrations (version)"
    );
    // golang-migrate's `Version()` query, and the types its driver scans.
    let (v, dirty): (i64, bool) = conn
        .query_row(
            "SELECT version, dirty FROM schema_migrations LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((v, dirty), (2, false));
    assert_eq!(count(&conn, "schema_migrations"), 1);
    // Nothing applied is an empty table, as golang-migrate writes it.
    fx.migrations.to(&mut conn, 0).unwrap();
    assert_eq!(count(&conn, "schema_migrations"), 0);
    assert_eq!(version(&fx.migrations, &conn), at(None, false));
}

#[test]
fn a_database_golang_migrate_left_dirty_is_refused() {
    let fx = three_tables();
    let conn = fx.open();
    conn.execute_batch(GOLANG_ENSURE_VERSION_TABLE).unwrap();
    golang_set_version(&conn, 2, true);
    let before = dump(&conn);
    let mut conn = conn;
    let error = fx.migrations.up(&mut conn).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Dirty {
                version: Some(2),
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "the database is dirty at version 000002, and this tool did not record starting a \
         migration to it, so another tool left it so: golang-migrate marks the version dirty \
         before a migration and leaves it dirty when the migration fails, after rolling back the \
         migration's transaction, so the schema most likely is still that of version 000001 (or \
         of version 000003 if a down from 000003 failed); nothing was changed. Check the schema \
         against the migrations (one that ran outside a transaction may have run in part), then \
         record the version it matches with `force`, usually `force 1`, and run `up` again"
    );
    assert!(
        matches!(
            &error,
            Error::Dirty {
                origin: DirtyOrigin::OtherTool,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(dump(&conn), before);
    // `status` reads the same origin, without writing.
    let status = fx.migrations.status(&conn).unwrap();
    assert_eq!(status.dirty_origin, Some(DirtyOrigin::OtherTool));
    assert_eq!(dump(&conn), before);
    // golang-migrate's record of a failed first down: version -1, dirty.
    golang_set_version(&conn, -1, true);
    assert_eq!(version(&fx.migrations, &conn), at(None, true));
}

// ---------------------------------------------------------------------------------------------
// 2. All or nothing

fn failing_third() -> Fixture {
    Fixture::new(&[
        (
            "000001_a.up.sql",
            "CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT);\nINSERT INTO a (v) VALUES ('seed');",
        ),
        ("000001_a.down.sql", "DROP TABLE a;"),
        (
            "000002_b.up.sql",
            "CREATE TABLE b (id INTEGER PRIMARY KEY);\nUPDATE a SET v = 'changed by 2';",
        ),
        ("000002_b.down.sql", "DROP TABLE b;"),
        (
            "000003_c.up.sql",
            "-- Migration 000003\nCREATE TABLE c (id INTEGER PRIMARY KEY);\nINSERT INTO missing VALUES (1);\n",
        ),
        ("000003_c.down.sql", "DROP TABLE c;"),
    ])
}

#[test]
fn a_failing_migration_rolls_back_the_whole_run() {
    let fx = failing_third();
    let mut conn = fx.open();
    fx.migrations.to(&mut conn, 1).unwrap();
    let before = dump(&conn);
    let error = fx.migrations.up(&mut conn).unwrap_err();
    assert_eq!(
        error.to_string(),
        "migration `000003_c.up.sql` failed at line 3 (`INSERT INTO missing VALUES (1);`): no such \
         table: missing; it was rolled back and the database is at version 000001, not dirty: fix \
         the migration and run again"
    );
    match &error {
        Error::Migration {
            version,
            file,
            direction,
            line,
            column,
            left_at,
            ..
        } => {
            assert_eq!(
                (*version, file.as_str(), *direction),
                (3, "000003_c.up.sql", Direction::Up)
            );
            assert_eq!((*line, *column), (3, None));
            assert_eq!(*left_at, LeftAt::Clean(Some(1)));
        }
        other => panic!("{other:?}"),
    }
    assert!(std::error::Error::source(&error).is_some());
    // Schema, data (migration 2's UPDATE too) and version exactly as before.
    assert_eq!(dump(&conn), before);
}

#[test]
fn a_failing_first_run_leaves_no_trace() {
    let fx = failing_third();
    let mut conn = fx.open();
    fx.migrations.up(&mut conn).unwrap_err();
    assert_eq!(dump(&conn), "", "not even the version table is left behind");
}

#[test]
fn syntax_errors_name_line_and_column() {
    let fx = Fixture::new(&[
        (
            "000001_a.up.sql",
            "CREATE TABLE a (id INTEGER);\n\nCREATE TABEL b (id INTEGER);",
        ),
        ("000001_a.down.sql", "DROP TABLE a;"),
    ]);
    let error = fx.migrations.up(&mut fx.open()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "migration `000001_a.up.sql` failed at line 3, column 8 (`CREATE TABEL b (id INTEGER);`): \
         near \"TABEL\": syntax error; it was rolled back and the database is at nothing applied, \
         not dirty: fix the migration and run again"
    );
}

#[test]
fn a_failing_down_names_the_down_file() {
    let fx = Fixture::new(&[
        ("000001_a.up.sql", "CREATE TABLE a (id INTEGER);"),
        ("000001_a.down.sql", "DROP TABLE a;"),
        ("000002_b.up.sql", "CREATE TABLE b (id INTEGER);"),
        ("000002_b.down.sql", "DROP TABLE b;\nDROP TABLE nope;"),
    ]);
    let mut conn = fx.open();
    fx.migrations.up(&mut conn).unwrap();
    let error = fx.migrations.down(&mut conn, 2).unwrap_err();
    assert!(
        matches!(&error, Error::Migration { file, direction: Direction::Down, line: 2, .. } if file == "000002_b.down.sql"),
        "{error:?}"
    );
    assert_eq!(version(&fx.migrations, &conn), at(Some(2), false));
    assert_eq!(count(&conn, "b"), 0, "table b is still there");
}

#[test]
fn commit_each_migration_keeps_what_succeeded() {
    let fx = failing_third();
    let mut conn = fx.open();
    let migrator = fx
        .migrations
        .with_options(Options::new().commit_each_migration(true));
    let error = migrator.up(&mut conn).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Migration {
                left_at: LeftAt::Clean(Some(2)),
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(version(&fx.migrations, &conn), at(Some(2), false));
}

#[test]
fn up_to_and_down_move_in_order() {
    let fx = three_tables();
    let mut conn = fx.open();
    let report = fx.migrations.up(&mut conn).unwrap();
    assert_eq!(report.steps.len(), 3);
    let report = fx.migrations.to(&mut conn, 1).unwrap();
    let steps: Vec<(u64, Direction)> = report
        .steps
        .iter()
        .map(|s| (s.version, s.direction))
        .collect();
    assert_eq!(steps, [(3, Direction::Down), (2, Direction::Down)]);
    assert_eq!(version(&fx.migrations, &conn), at(Some(1), false));
    fx.migrations.to(&mut conn, 3).unwrap();
    let report = fx.migrations.down(&mut conn, 1).unwrap();
    assert_eq!((report.from, report.to), (Some(3), Some(2)));
    assert!(fx.migrations.down(&mut conn, 0).unwrap().is_empty());
    fx.migrations.down(&mut conn, 2).unwrap();
    assert_eq!(version(&fx.migrations, &conn), at(None, false));
    assert_eq!(count(&conn, "schema_migrations"), 0);
}

#[test]
fn up_by_applies_at_most_n_pending_migrations() {
    let fx = three_tables();
    let mut conn = fx.open();
    assert!(fx.migrations.up_by(&mut conn, 0).unwrap().is_empty());
    assert_eq!(version(&fx.migrations, &conn), at(None, false));
    let report = fx.migrations.up_by(&mut conn, 2).unwrap();
    let steps: Vec<u64> = report.steps.iter().map(|s| s.version).collect();
    assert_eq!(steps, [1, 2]);
    assert_eq!((report.from, report.to), (None, Some(2)));
    assert_eq!(version(&fx.migrations, &conn), at(Some(2), false));
    // Counted from where the database is: one more, though 2 were asked for.
    let report = fx.migrations.up_by(&mut conn, 2).unwrap();
    assert_eq!((report.from, report.to), (Some(2), Some(3)));
    assert!(fx.migrations.up_by(&mut conn, 5).unwrap().is_empty());
    assert_eq!(version(&fx.migrations, &conn), at(Some(3), false));
}

#[test]
fn up_by_counts_past_a_no_transaction_migration_that_splits_the_run() {
    let fx = with_no_transaction("-- migrate:no-transaction\nVACUUM;\n");
    let mut conn = fx.open();
    let report = fx
        .migrations
        .with_options(Options::new())
        .up_by(&mut conn, 2)
        .unwrap();
    let steps: Vec<u64> = report.steps.iter().map(|s| s.version).collect();
    assert_eq!(steps, [1, 2]);
    assert_eq!(version(&fx.migrations, &conn), at(Some(2), false));
}

// ---------------------------------------------------------------------------------------------
// 3. No-transaction migrations and dirty state

fn with_no_transaction(second_up: &str) -> Fixture {
    Fixture::new(&[
        (
            "000001_a.up.sql",
            "CREATE TABLE a (id INTEGER PRIMARY KEY);",
        ),
        ("000001_a.down.sql", "DROP TABLE a;"),
        ("000002_compact.up.sql", second_up),
        (
            "000002_compact.down.sql",
            "-- migrate:irreversible nothing to undo\n",
        ),
        (
            "000003_c.up.sql",
            "CREATE TABLE c (id INTEGER PRIMARY KEY);",
        ),
        ("000003_c.down.sql", "DROP TABLE c;"),
    ])
}

#[test]
fn no_transaction_migrations_run_outside_a_transaction() {
    let fx = with_no_transaction("-- migrate:no-transaction\nVACUUM;\n");
    let mut conn = fx.open();
    let report = fx.migrations.up(&mut conn).unwrap();
    assert_eq!(report.steps.len(), 3);
    assert_eq!(version(&fx.migrations, &conn), at(Some(3), false));
}

#[test]
fn a_failing_no_transaction_migration_leaves_the_database_dirty_until_forced() {
    let fx = with_no_transaction(
        "-- migrate:no-transaction\nCREATE TABLE half (id INTEGER);\nVACUUM nope;\n",
    );
    let mut conn = fx.open();
    let error = fx.migrations.up(&mut conn).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Migration {
                left_at: LeftAt::Dirty(Some(2)),
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().ends_with(
            "it ran outside a transaction, so the database is dirty at version 000002 (this run \
             committed `000001_a.up.sql` before it): repair the schema by hand, then record the \
             version it matches with `force` (`force 2` if you finished the migration, `force 1` \
             if you undid it)"
        ),
        "{error}"
    );
    assert_eq!(version(&fx.migrations, &conn), at(Some(2), true));
    assert_eq!(
        fx.migrations.status(&conn).unwrap().dirty_origin,
        Some(DirtyOrigin::Unfinished {
            file: "000002_compact.up.sql".to_owned(),
            direction: Direction::Up
        })
    );
    let before = dump(&conn);
    for result in [
        fx.migrations.up(&mut conn),
        fx.migrations.to(&mut conn, 1),
        fx.migrations.down(&mut conn, 1),
    ] {
        assert!(
            matches!(
                result,
                Err(Error::Dirty {
                    version: Some(2),
                    ..
                })
            ),
            "{result:?}"
        );
    }
    assert_eq!(dump(&conn), before, "refusals change nothing");
    // This runtime recorded the start, so the message says which migration did not finish.
    assert_eq!(
        fx.migrations.up(&mut conn).unwrap_err().to_string(),
        "the database is dirty at version 000002: `000002_compact.up.sql` runs outside a \
         transaction and started but did not finish (`schema_migrations_history` records its \
         start), so part of it may have run and `schema_migrations` cannot say which schema the \
         database has; nothing was changed. Finish or undo what it did by hand, then record the \
         version the schema matches with `force` (`force 2` if you finished it, `force 1` if you \
         undid it)"
    );
    // Recovery: the operator repairs the schema by hand and records what it matches.
    conn.execute_batch("DROP TABLE half;").unwrap();
    fx.migrations.force(&mut conn, 1).unwrap();
    assert_eq!(version(&fx.migrations, &conn), at(Some(1), false));
    // Settled by `force`: a later dirty state left by golang-migrate is not blamed on it.
    golang_set_version(&conn, 2, true);
    assert!(
        matches!(
            fx.migrations.up(&mut conn),
            Err(Error::Dirty {
                origin: DirtyOrigin::OtherTool,
                ..
            })
        ),
        "forced starts are settled"
    );
}

#[test]
fn an_error_gives_what_the_run_committed_before_it() {
    // 1 commits, 2 (VACUUM) runs outside a transaction and commits, 3 fails and is rolled back.
    let mut files = vec![
        (
            "000001_a.up.sql",
            "CREATE TABLE a (id INTEGER PRIMARY KEY);",
        ),
        ("000001_a.down.sql", "DROP TABLE a;"),
        (
            "000002_compact.up.sql",
            "-- migrate:no-transaction\nVACUUM;\n",
        ),
        (
            "000002_compact.down.sql",
            "-- migrate:irreversible nothing to undo\n",
        ),
        (
            "000003_c.up.sql",
            "CREATE TABLE c (id INTEGER PRIMARY KEY);\nINSERT INTO nowhere VALUES (1);",
        ),
        ("000003_c.down.sql", "DROP TABLE c;"),
    ];
    let fx = Fixture::new(&files);
    let mut conn = fx.open();
    let error = fx.migrations.up(&mut conn).unwrap_err();
    assert_eq!(
        error.committed(),
        ["000001_a.up.sql", "000002_compact.up.sql"],
        "{error:?}"
    );
    assert_eq!(error.left_at(), Some(LeftAt::Clean(Some(2))));
    assert_eq!(version(&fx.migrations, &conn), at(Some(2), false));
    // One transaction: nothing committed, and a refusal before running has no state to give.
    files[2] = (
        "000002_compact.up.sql",
        "CREATE TABLE b (id INTEGER PRIMARY KEY);",
    );
    files[3] = ("000002_compact.down.sql", "DROP TABLE b;");
    let fx = Fixture::new(&files);
    let mut conn = fx.open();
    let error = fx.migrations.up(&mut conn).unwrap_err();
    assert!(error.committed().is_empty(), "{error:?}");
    assert_eq!(error.left_at(), Some(LeftAt::Clean(None)));
    conn.execute_batch(GOLANG_ENSURE_VERSION_TABLE).unwrap();
    golang_set_version(&conn, 1, true);
    let error = fx.migrations.up(&mut conn).unwrap_err();
    assert!(matches!(error, Error::Dirty { .. }), "{error:?}");
    assert!(error.committed().is_empty());
    assert_eq!(error.left_at(), None);
}

#[test]
fn an_error_after_a_no_transaction_migration_says_what_was_committed() {
    // The no-transaction migration runs to the end, but the run cannot record it.
    let fx =
        with_no_transaction("-- migrate:no-transaction\nDROP TABLE schema_migrations_history;\n");
    let mut conn = fx.open();
    let error = fx.migrations.up(&mut conn).unwrap_err();
    assert!(
        matches!(&error, Error::Stopped { left_at: LeftAt::Dirty(Some(2)), committed, .. }
            if committed == &["000001_a.up.sql"]),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "SQLite failed while recording the end of a migration: no such table: \
         schema_migrations_history; before that, this run committed `000001_a.up.sql`, and the \
         database is dirty at version 000002, after a migration that runs outside a transaction: \
         check its schema, then record the version it matches with `force`"
    );
    assert_eq!(version(&fx.migrations, &conn), at(Some(2), true));
}

#[test]
fn a_failing_no_transaction_migration_with_its_own_transaction_leaves_the_connection_usable() {
    let fx = with_no_transaction(
        "-- migrate:no-transaction\nBEGIN;\nCREATE TABLE half (id INTEGER);\nINSERT INTO nope VALUES (1);\n",
    );
    let mut conn = fx.open();
    conn.busy_timeout(Duration::from_millis(1234)).unwrap();
    let error = fx.migrations.up(&mut conn).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Migration {
                left_at: LeftAt::Dirty(Some(2)),
                ..
            }
        ),
        "{error:?}"
    );
    assert!(conn.is_autocommit(), "no transaction left open");
    assert!(foreign_keys_enabled(&conn));
    let timeout: i64 = conn
        .pragma_query_value(None, "busy_timeout", |r| r.get(0))
        .unwrap();
    assert_eq!(timeout, 1234);
    // The migration's own transaction was rolled back, and the next command works.
    assert_eq!(
        conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'half'",
            [],
            |r| r.get::<_, i64>(0)
        )
        .unwrap(),
        0
    );
    fx.migrations.force(&mut conn, 1).unwrap();
    assert_eq!(version(&fx.migrations, &conn), at(Some(1), false));
    // Another connection can write: no lock is held.
    Connection::open(fx.db())
        .unwrap()
        .execute_batch("CREATE TABLE other (id INTEGER);")
        .unwrap();
}

#[test]
fn a_transaction_the_caller_has_open_is_left_alone() {
    let fx = three_tables();
    let mut conn = fx.open();
    fx.migrations.to(&mut conn, 1).unwrap();
    conn.execute_batch("BEGIN; INSERT INTO a (v) VALUES ('mine');")
        .unwrap();
    let error = fx.migrations.up(&mut conn).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("cannot start a transaction within a transaction"),
        "{error}"
    );
    assert!(
        !conn.is_autocommit(),
        "the caller's transaction is still open"
    );
    conn.execute_batch("COMMIT;").unwrap();
    assert_eq!(count(&conn, "a"), 2, "and keeps its row");
    assert!(foreign_keys_enabled(&conn));
}

#[test]
fn a_no_transaction_migration_that_leaves_its_transaction_open_is_an_error() {
    let fx =
        with_no_transaction("-- migrate:no-transaction\nBEGIN;\nCREATE TABLE half (id INTEGER);\n");
    let mut conn = fx.open();
    let error = fx.migrations.up(&mut conn).unwrap_err();
    assert_eq!(
        error.to_string(),
        "migration `000002_compact.up.sql` runs outside a transaction and left a transaction of \
         its own open (a BEGIN without COMMIT), which was rolled back; it ran outside a \
         transaction, so the database is dirty at version 000002 (this run committed \
         `000001_a.up.sql` before it): end every transaction the migration begins, then undo \
         what ran of it by hand and record the version the schema matches with `force`"
    );
    assert!(conn.is_autocommit());
    fx.migrations.force(&mut conn, 1).unwrap();
}

// ---------------------------------------------------------------------------------------------
// 4. Foreign keys

const PARENT_AND_CHILDREN: &str = "
CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE child (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER NOT NULL REFERENCES parent (id) ON DELETE CASCADE
);
INSERT INTO parent (id, name) VALUES (1, 'one'), (2, 'two');
INSERT INTO child (parent_id) VALUES (1), (1), (2);
";

/// The table-recreation pattern on the parent; `keep` selects which parents survive.
fn recreate_parent(pragma: bool, keep: &str) -> String {
    let (off, on) = if pragma {
        (
            "PRAGMA foreign_keys = OFF;\n",
            "PRAGMA foreign_keys = ON;\n",
        )
    } else {
        ("", "")
    };
    format!(
        "{off}CREATE TABLE parent_new (id INTEGER PRIMARY KEY, name TEXT);\n\
         INSERT INTO parent_new SELECT id, name FROM parent WHERE {keep};\n\
         DROP TABLE parent;\n\
         ALTER TABLE parent_new RENAME TO parent;\n{on}"
    )
}

fn foreign_key_fixture(second_up: &str) -> Fixture {
    Fixture::new(&[
        ("000001_tables.up.sql", PARENT_AND_CHILDREN),
        (
            "000001_tables.down.sql",
            "DROP TABLE child;\nDROP TABLE parent;",
        ),
        ("000002_nullable_name.up.sql", second_up),
        ("000002_nullable_name.down.sql", "SELECT 1;"),
    ])
}

fn foreign_keys_enabled(conn: &Connection) -> bool {
    conn.pragma_query_value(None, "foreign_keys", |r| r.get(0))
        .unwrap()
}

#[test]
fn recreating_a_parent_table_keeps_every_child_row() {
    let fx = foreign_key_fixture(&recreate_parent(true, "1"));
    let mut conn = fx.open();
    fx.migrations.up(&mut conn).unwrap();
    assert_eq!(
        count(&conn, "child"),
        3,
        "ON DELETE CASCADE must not have fired"
    );
    assert!(
        foreign_keys_enabled(&conn),
        "enforcement is on again afterwards"
    );
    // And enforcement really works on the recreated parent.
    let orphan = conn.execute("INSERT INTO child (parent_id) VALUES (99)", []);
    assert!(orphan.is_err());
}

#[test]
fn a_parent_recreated_without_the_pragma_keeps_every_cascade_child() {
    // Harmless under golang-migrate (go-sqlite3 does not enforce foreign keys by default);
    // under an enforcing connection DROP TABLE used to cascade and delete every child row.
    let fx = foreign_key_fixture(&recreate_parent(false, "1"));
    let mut conn = fx.open();
    fx.migrations.up(&mut conn).unwrap();
    assert_eq!(count(&conn, "child"), 3);
    assert_eq!(version(&fx.migrations, &conn), at(Some(2), false));
    assert!(foreign_keys_enabled(&conn));
}

#[test]
fn every_spelling_of_the_foreign_keys_pragma_keeps_every_row() {
    // SQLite reads all of these (the first ones as off); whatever the author wrote, no
    // foreign-key action runs in a migration.
    for value in [
        "OFF", "off", "0", "00", "+0", "-1", "DEFAULT", "no", "false", "'off'", "\"0\"", "ON", "1",
        "yes",
    ] {
        for pragma in [
            format!("PRAGMA foreign_keys = {value};"),
            format!("PRAGMA main.foreign_keys = {value};"),
            format!("pragma FOREIGN_KEYS({value});"),
        ] {
            for no_transaction in [false, true] {
                let header = if no_transaction {
                    "-- migrate:no-transaction\n"
                } else {
                    ""
                };
                let fx = foreign_key_fixture(&format!(
                    "{header}{pragma}\n{}",
                    recreate_parent(false, "1")
                ));
                let mut conn = fx.open();
                fx.migrations
                    .up(&mut conn)
                    .unwrap_or_else(|e| panic!("{pragma} (no-transaction: {no_transaction}): {e}"));
                assert_eq!(
                    count(&conn, "child"),
                    3,
                    "{pragma} (no-transaction: {no_transaction})"
                );
                assert!(foreign_keys_enabled(&conn), "{pragma}");
            }
        }
    }
}

/// A spelling of a value SQLite may read for `PRAGMA foreign_keys`: numbers with signs and
/// leading zeros, keywords in any case, quoted or not.
fn pragma_value() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let number = (
        prop::sample::select(vec!["", "+", "-"]),
        0..3usize,
        0..300u32,
    )
        .prop_map(|(sign, zeros, n)| format!("{sign}{}{n}", "0".repeat(zeros)));
    let keyword = (
        prop::sample::select(vec![
            "on", "off", "yes", "no", "true", "false", "default", "full", "none",
        ]),
        any::<u16>(),
    )
        .prop_map(|(word, case)| {
            word.chars()
                .enumerate()
                .map(|(i, c)| {
                    if case >> (i % 16) & 1 == 1 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect::<String>()
        });
    let bare = prop_oneof![number, keyword];
    (bare, prop::sample::select(vec!["", "'", "\""]))
        .prop_map(|(value, quote)| format!("{quote}{value}{quote}"))
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 48,
        ..proptest::prelude::ProptestConfig::default()
    })]

    /// Whatever value, form, spacing or comments the pragma is written with, inside a
    /// transaction or not, no foreign-key action runs in a migration and the connection
    /// enforces foreign keys afterwards.
    #[test]
    fn no_spelling_of_the_foreign_keys_pragma_loses_a_row(
        value in pragma_value(),
        form in 0..4usize,
        gap in proptest::sample::select(vec![" ", "\t", "\n", "/**/", " -- note\n"]),
        no_transaction in proptest::bool::ANY,
    ) {
        let pragma = match form {
            0 => format!("PRAGMA{gap}foreign_keys{gap}={gap}{value};"),
            1 => format!("pragma{gap}main.FOREIGN_KEYS{gap}=={gap}{value};"),
            2 => format!("PRAGMA{gap}foreign_keys({value});"),
            _ => format!("PrAgMa{gap}\"foreign_keys\"{gap}={gap}{value};"),
        };
        let header = if no_transaction { "-- migrate:no-transaction\n" } else { "" };
        let fx = foreign_key_fixture(&format!("{header}{pragma}\n{}", recreate_parent(false, "1")));
        let mut conn = fx.open();
        fx.migrations
            .up(&mut conn)
            .unwrap_or_else(|e| panic!("{pragma} (no-transaction: {no_transaction}): {e}"));
        proptest::prop_assert_eq!(count(&conn, "child"), 3, "{}", pragma);
        proptest::prop_assert!(foreign_keys_enabled(&conn), "{}", pragma);
    }
}

#[test]
fn a_migration_that_deletes_parents_expecting_a_cascade_fails_and_changes_nothing() {
    let fx = foreign_key_fixture("DELETE FROM parent WHERE id = 1;");
    let mut conn = fx.open();
    fx.migrations.to(&mut conn, 1).unwrap();
    let before = dump(&conn);
    let error = fx.migrations.up(&mut conn).unwrap_err();
    assert_eq!(
        error.to_string(),
        "migration `000002_nullable_name.up.sql` leaves 2 row(s) pointing at missing parents \
         (`child` row 1 → `parent`, `child` row 2 → `parent`); it was rolled back and the database \
         is at version 000001, not dirty. Migrations run with foreign-key enforcement off, so no \
         `ON DELETE CASCADE` or other foreign-key action runs in them: delete or update the child \
         rows in the migration before removing their parents, and keep the keys when recreating \
         a parent table"
    );
    assert_eq!(dump(&conn), before);
    assert!(foreign_keys_enabled(&conn));
}

#[test]
fn orphans_left_by_a_foreign_keys_off_migration_roll_it_back() {
    let fx = foreign_key_fixture(&recreate_parent(true, "id = 1"));
    let mut conn = fx.open();
    fx.migrations.to(&mut conn, 1).unwrap();
    let before = dump(&conn);
    let error = fx.migrations.up(&mut conn).unwrap_err();
    match &error {
        Error::ForeignKeyViolation {
            violations,
            total,
            left_at,
            committed,
            ..
        } => {
            assert_eq!(*total, 1);
            assert_eq!(
                (
                    violations[0].table.as_str(),
                    violations[0].rowid,
                    violations[0].parent.as_str()
                ),
                ("child", Some(3), "parent")
            );
            assert_eq!(*left_at, LeftAt::Clean(Some(1)));
            assert!(committed.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert!(
        error.to_string().starts_with(
            "migration `000002_nullable_name.up.sql` leaves 1 row(s) pointing at missing parents \
             (`child` row 3 → `parent`); it was rolled back and the database is at version 000001, \
             not dirty."
        ),
        "{error}"
    );
    assert_eq!(dump(&conn), before);
    assert!(foreign_keys_enabled(&conn));
}

/// The example in issue 18.1: a foreign-keys-off migration used to commit on its own, so a
/// later failure left the database at an intermediate version the previous binary refuses.
#[test]
fn a_failure_after_a_foreign_keys_off_migration_leaves_the_previous_version() {
    let fx = Fixture::new(&[
        ("000001_tables.up.sql", PARENT_AND_CHILDREN),
        (
            "000001_tables.down.sql",
            "DROP TABLE child;\nDROP TABLE parent;",
        ),
        ("000002_recreate.up.sql", &recreate_parent(true, "1")),
        ("000002_recreate.down.sql", "SELECT 1;"),
        (
            "000003_tags.up.sql",
            "CREATE TABLE tags (id INTEGER PRIMARY KEY);\nUPDATE parent SET name = 'x';\nINSERT INTO missing VALUES (1);",
        ),
        ("000003_tags.down.sql", "DROP TABLE tags;"),
    ]);
    let mut conn = fx.open();
    fx.migrations.to(&mut conn, 1).unwrap();
    let before = dump(&conn);
    let error = fx.migrations.up(&mut conn).unwrap_err();
    assert!(
        error.to_string().ends_with(
            "no such table: missing; it was rolled back and the database is at version 000001, \
             not dirty: fix the migration and run again"
        ),
        "{error}"
    );
    assert_eq!(
        dump(&conn),
        before,
        "schema, rows and version as before the run"
    );
    assert_eq!(version(&fx.migrations, &conn), at(Some(1), false));
}

#[test]
fn a_run_of_the_example_migrations_commits_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir.path().join("app.db"));
    let commits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = std::sync::Arc::clone(&commits);
    conn.commit_hook(Some(move || {
        seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        false
    }))
    .unwrap();
    let report = MIGRATIONS.up(&mut conn).unwrap();
    assert_eq!(report.steps.len(), 4);
    assert!(
        MIGRATIONS
            .iter()
            .any(|m| m.up().disables_foreign_keys() || m.down().disables_foreign_keys()),
        "the example set has a foreign-keys-off migration"
    );
    assert_eq!(commits.load(std::sync::atomic::Ordering::SeqCst), 1);
    // And back down: one commit too.
    MIGRATIONS.to(&mut conn, 0).unwrap();
    assert_eq!(commits.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[test]
fn a_malformed_foreign_key_names_the_migration_and_where_the_database_was_left() {
    let fx = Fixture::new(&[
        (
            "000001_parent.up.sql",
            "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);\n\
             INSERT INTO parent (name) VALUES ('a');",
        ),
        ("000001_parent.down.sql", "DROP TABLE parent;"),
        (
            "000002_child.up.sql",
            "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_name TEXT REFERENCES parent (name));",
        ),
        ("000002_child.down.sql", "DROP TABLE child;"),
    ]);
    let mut conn = fx.open();
    let error = fx.migrations.up(&mut conn).unwrap_err();
    // Blamed on the migration that created the table, even with no row in it.
    assert!(
        matches!(&error, Error::ForeignKeyMismatch { file, table, left_at: LeftAt::Clean(None), .. }
            if file == "000002_child.up.sql" && table == "child"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "after migration `000002_child.up.sql`, a foreign key cannot work: \
         `child(parent_name) REFERENCES parent(name)`, because `parent(name)` is neither the \
         PRIMARY KEY of `parent` nor covered by a UNIQUE constraint or unique index; SQLite \
         accepts it, then fails every write to `child` while foreign keys are enforced: \
         reference the primary key `parent(id)`, or add `CREATE UNIQUE INDEX … ON parent (name)` \
         if those values are unique (or, if the service runs without foreign-key enforcement on \
         purpose, declare `foreign_keys = \"unenforced\"` in `embed_migrations!`, \
         `ForeignKeys::Unenforced`); it was rolled back and the database is at nothing applied, \
         not dirty"
    );
    assert_eq!(dump(&conn), "");
    // A service that runs without enforcement on purpose declares it, and the set applies.
    fx.migrations
        .with_options(Options::new().foreign_keys(ForeignKeys::Unenforced))
        .up(&mut conn)
        .unwrap();
    assert_eq!(version(&fx.migrations, &conn), at(Some(2), false));
    assert!(
        foreign_keys_enabled(&conn),
        "the connection's setting is kept"
    );
}

#[test]
fn unenforced_foreign_keys_are_not_checked_and_never_cascade() {
    let fx = foreign_key_fixture("DELETE FROM parent WHERE id = 1;");
    let mut conn = fx.open();
    fx.migrations
        .with_options(Options::new().foreign_keys(ForeignKeys::Unenforced))
        .up(&mut conn)
        .unwrap();
    assert_eq!(
        count(&conn, "child"),
        3,
        "no cascade, and orphans are allowed"
    );
    assert!(foreign_keys_enabled(&conn));
}

/// A set declared unenforced (`embed_migrations!("…", foreign_keys = "unenforced")`, here
/// `with_foreign_keys`) runs that way through every operation, even with default options or
/// options that say nothing about foreign keys.
#[test]
fn a_set_declared_unenforced_runs_unchecked_whatever_the_options() {
    for with_options in [false, true] {
        let fx = foreign_key_fixture("DELETE FROM parent WHERE id = 1;");
        let set = fx
            .migrations
            .clone()
            .with_foreign_keys(ForeignKeys::Unenforced);
        let mut conn = fx.open();
        if with_options {
            set.with_options(Options::new().table_name("schema_migrations"))
                .up(&mut conn)
                .unwrap();
        } else {
            set.up(&mut conn).unwrap();
        }
        assert_eq!(count(&conn, "child"), 3, "no check and no cascade");
        assert_eq!(version(&set, &conn), at(Some(2), false));
        // The same set declared enforced refuses the orphans the delete leaves.
        let enforced = fx.migrations.clone();
        let mut fresh = open(&fx.dir.path().join("other.db"));
        assert!(
            enforced.up(&mut fresh).is_err(),
            "enforced sets check foreign keys"
        );
    }
}

#[test]
fn violations_in_tables_a_run_does_not_touch_do_not_block_it() {
    let fx = Fixture::new(&[
        ("000001_tables.up.sql", PARENT_AND_CHILDREN),
        (
            "000001_tables.down.sql",
            "DROP TABLE child;\nDROP TABLE parent;",
        ),
        (
            "000002_tags.up.sql",
            "CREATE TABLE tags (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id));\n\
             INSERT INTO tags (parent_id) VALUES (1);",
        ),
        ("000002_tags.down.sql", "DROP TABLE tags;"),
    ]);
    let mut conn = fx.open();
    fx.migrations.to(&mut conn, 1).unwrap();
    // Written by a service that ran without enforcement: an orphan, before this deploy.
    conn.pragma_update(None, "foreign_keys", false).unwrap();
    conn.execute("INSERT INTO child (parent_id) VALUES (42)", [])
        .unwrap();
    conn.pragma_update(None, "foreign_keys", true).unwrap();
    fx.migrations.up(&mut conn).unwrap();
    assert_eq!(version(&fx.migrations, &conn), at(Some(2), false));
}

/// The check finds the children of a touched parent however they came to be: created earlier
/// in the same run, or re-pointed by a rename (SQLite rewrites the REFERENCES of other tables
/// when a table is renamed, the classic trap of renaming the old table away).
#[test]
fn the_children_of_a_touched_parent_are_found_within_one_run() {
    let created_in_the_run = Fixture::new(&[
        (
            "000001_p.up.sql",
            "CREATE TABLE p (id INTEGER PRIMARY KEY);\nINSERT INTO p VALUES (1), (2);\n\
             CREATE TABLE other (id INTEGER PRIMARY KEY);\nINSERT INTO other VALUES (1);\n\
             DELETE FROM other;",
        ),
        ("000001_p.down.sql", "DROP TABLE other;\nDROP TABLE p;"),
        (
            "000002_c.up.sql",
            "CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id));\n\
             INSERT INTO c VALUES (10, 1);",
        ),
        ("000002_c.down.sql", "DROP TABLE c;"),
        ("000003_purge.up.sql", "DELETE FROM p WHERE id = 1;"),
        ("000003_purge.down.sql", "INSERT INTO p VALUES (1);"),
    ]);
    let renamed_away = Fixture::new(&[
        (
            "000001_p.up.sql",
            "CREATE TABLE p (id INTEGER PRIMARY KEY, v TEXT);\nINSERT INTO p VALUES (1, 'a');\n\
             CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id));\n\
             INSERT INTO c VALUES (10, 1);\nDELETE FROM p WHERE id = 99;",
        ),
        ("000001_p.down.sql", "DROP TABLE c;\nDROP TABLE p;"),
        (
            "000002_rename.up.sql",
            "ALTER TABLE p RENAME TO p_old;\nCREATE TABLE p (id INTEGER PRIMARY KEY, v TEXT NOT NULL);\n\
             INSERT INTO p SELECT id, v FROM p_old;",
        ),
        ("000002_rename.down.sql", "SELECT 1;"),
        ("000003_drop.up.sql", "DROP TABLE p_old;"),
        ("000003_drop.down.sql", "SELECT 1;"),
    ]);
    for (fx, file, parent) in [
        (&created_in_the_run, "000003_purge.up.sql", "p"),
        (&renamed_away, "000003_drop.up.sql", "p_old"),
    ] {
        let mut conn = fx.open();
        let error = fx.migrations.up(&mut conn).unwrap_err();
        assert!(
            error.to_string().starts_with(&format!(
                "migration `{file}` leaves 1 row(s) pointing at missing parents (`c` row 10 → \
                 `{parent}`); it was rolled back and the database is at nothing applied"
            )),
            "{error}"
        );
        assert_eq!(dump(&conn), "");
    }
}

#[test]
fn old_orphans_in_a_table_a_migration_touches_are_not_blamed_on_it() {
    let fx = Fixture::new(&[
        ("000001_tables.up.sql", PARENT_AND_CHILDREN),
        (
            "000001_tables.down.sql",
            "DROP TABLE child;\nDROP TABLE parent;",
        ),
        (
            "000002_more.up.sql",
            "INSERT INTO child (id, parent_id) VALUES (20, 2);\n\
             UPDATE parent SET name = upper(name);",
        ),
        ("000002_more.down.sql", "DELETE FROM child WHERE id = 20;"),
        (
            "000003_bad.up.sql",
            "INSERT INTO child (id, parent_id) VALUES (30, 77);",
        ),
        ("000003_bad.down.sql", "DELETE FROM child WHERE id = 30;"),
    ]);
    let mut conn = fx.open();
    fx.migrations.to(&mut conn, 1).unwrap();
    // Left by a service that ran without enforcement: an orphan, before this deploy.
    conn.pragma_update(None, "foreign_keys", false).unwrap();
    conn.execute("INSERT INTO child (id, parent_id) VALUES (9, 42)", [])
        .unwrap();
    conn.pragma_update(None, "foreign_keys", true).unwrap();
    let before = dump(&conn);
    // 000003 adds an orphan of its own: only that one is reported, and the run rolls back.
    let error = fx.migrations.up(&mut conn).unwrap_err();
    assert!(
        error.to_string().starts_with(
            "migration `000003_bad.up.sql` leaves 1 row(s) pointing at missing parents (`child` \
             row 30 → `parent`)"
        ),
        "{error}"
    );
    assert_eq!(dump(&conn), before);
    // 000002 writes to the same table and its parent: the old orphan does not stop it, and
    // the migration's rows are all there (it ran once, as written).
    fx.migrations.to(&mut conn, 2).unwrap();
    assert_eq!(count(&conn, "child"), 5);
    let names: String = conn
        .query_row("SELECT group_concat(name) FROM parent", [], |r| r.get(0))
        .unwrap();
    assert_eq!(names, "ONE,TWO");
}

#[test]
fn foreign_keys_are_restored_when_the_migration_fails() {
    let fx = foreign_key_fixture(
        "PRAGMA foreign_keys = OFF;\nDROP TABLE nope;\nPRAGMA foreign_keys = ON;",
    );
    let mut conn = fx.open();
    fx.migrations.up(&mut conn).unwrap_err();
    assert!(foreign_keys_enabled(&conn));
}

#[test]
fn a_connection_without_enforcement_keeps_it_off() {
    let fx = foreign_key_fixture(&recreate_parent(true, "1"));
    let mut conn = Connection::open(fx.db()).unwrap();
    // rusqlite's bundled SQLite enforces foreign keys by default: this host opts out.
    conn.pragma_update(None, "foreign_keys", false).unwrap();
    fx.migrations.up(&mut conn).unwrap();
    assert!(!foreign_keys_enabled(&conn));
    assert_eq!(count(&conn, "child"), 3);
}

#[test]
fn a_no_transaction_migration_that_turns_foreign_keys_off_leaves_the_connection_enforcing() {
    let fx = foreign_key_fixture(&format!(
        "-- migrate:no-transaction\n{}",
        recreate_parent(true, "1").replace("PRAGMA foreign_keys = ON;\n", "")
    ));
    let mut conn = fx.open();
    fx.migrations.up(&mut conn).unwrap();
    assert!(foreign_keys_enabled(&conn));
    assert_eq!(count(&conn, "child"), 3);
}

// ---------------------------------------------------------------------------------------------
// 6. Guard rails: each a clear error, nothing changed

/// Runs `up`, asserts it fails with `expected` as its message, and that nothing changed.
fn refuses(fx: &Fixture, conn: &mut Connection, expected: &str) {
    let before = dump(conn);
    let error = fx.migrations.up(conn).unwrap_err();
    assert_eq!(error.to_string(), expected);
    assert_eq!(dump(conn), before);
}

#[test]
fn a_database_newer_than_the_binary_is_refused() {
    let fx = three_tables();
    let mut conn = fx.open();
    fx.migrations.up(&mut conn).unwrap();
    conn.execute("UPDATE schema_migrations SET version = 7", [])
        .unwrap();
    refuses(
        &fx,
        &mut conn,
        "the database is at version 000007, but this binary knows migrations up to 000003; nothing \
         was changed. Run a binary that has the newer migrations (the database was probably migrated \
         by a newer release)",
    );
}

#[test]
fn corrupt_version_tables_are_refused() {
    let cases = [
        (
            "INSERT INTO schema_migrations VALUES (1, 0), (2, 0)",
            "holds 2 rows, but golang-migrate's layout keeps exactly one (the current version)",
        ),
        (
            "INSERT INTO schema_migrations VALUES ('two', 0)",
            "holds version 'two', stored as text, where golang-migrate stores an integer",
        ),
        (
            "INSERT INTO schema_migrations VALUES (1.8e19, 0)",
            "holds version 1.8e19, stored as a floating-point number (REAL), where golang-migrate \
             stores an integer",
        ),
        (
            "INSERT INTO schema_migrations VALUES (-3, 0)",
            "holds the negative version -3",
        ),
        (
            "INSERT INTO schema_migrations VALUES (1.5, 0)",
            "holds version 1.5, stored as a floating-point number (REAL), where golang-migrate \
             stores an integer",
        ),
        (
            "INSERT INTO schema_migrations VALUES (1, 'yes')",
            "holds dirty = 'yes', stored as text, where golang-migrate stores the integer 0 or 1",
        ),
    ];
    for (insert, problem) in cases {
        let fx = three_tables();
        let mut conn = fx.open();
        conn.execute_batch("CREATE TABLE schema_migrations (version uint64,dirty bool);")
            .unwrap();
        conn.execute(insert, []).unwrap();
        refuses(
            &fx,
            &mut conn,
            &format!(
                "the version table `schema_migrations` {problem}; nothing was changed. Inspect it, \
                 then record the right version with `force`"
            ),
        );
        assert!(
            fx.migrations.version(&conn).is_err(),
            "never read as nothing applied"
        );
    }
    // Columns without a declared type keep what is written as it is: a REAL 2.0 stays one.
    let fx = three_tables();
    let mut conn = fx.open();
    conn.execute_batch(
        "CREATE TABLE schema_migrations (version, dirty);\n\
         INSERT INTO schema_migrations VALUES (2.0, 0);",
    )
    .unwrap();
    refuses(
        &fx,
        &mut conn,
        "the version table `schema_migrations` holds version 2.0, stored as a floating-point \
         number (REAL), where golang-migrate stores an integer; nothing was changed. Inspect it, \
         then record the right version with `force`",
    );
}

#[test]
fn version_tables_that_would_convert_versions_are_refused_before_anything_runs() {
    let text = "declares column `version` as `TEXT`, so SQLite would store the integers this \
                tool and golang-migrate write there as text";
    let cases = [
        (
            "version TEXT, dirty bool",
            "INSERT INTO schema_migrations VALUES ('1', 0)",
            text,
        ),
        ("version TEXT, dirty bool", "SELECT 1", text),
        (
            "version uint64, dirty TEXT",
            "INSERT INTO schema_migrations VALUES (1, '0')",
            "declares column `dirty` as `TEXT`, so SQLite would store the integers this tool and \
             golang-migrate write there as text",
        ),
        (
            "version REAL, dirty bool",
            "INSERT INTO schema_migrations VALUES (1, 0)",
            "declares column `version` as `REAL`, so SQLite would store the integers this tool \
             and golang-migrate write there as floating-point numbers",
        ),
        (
            "version uint64",
            "INSERT INTO schema_migrations VALUES (1)",
            "has no column `dirty`",
        ),
    ];
    for (columns, insert, problem) in cases {
        let fx = three_tables();
        let mut conn = fx.open();
        if insert.contains("VALUES ('1'") || insert.contains("(1, ") || insert.contains("(1)") {
            // Migration 1 applied by hand, as the version row says.
            conn.execute_batch(fx.migrations.get(1).unwrap().up().sql())
                .unwrap();
        }
        conn.execute_batch(&format!("CREATE TABLE schema_migrations ({columns});"))
            .unwrap();
        conn.execute_batch(insert).unwrap();
        refuses(
            &fx,
            &mut conn,
            &format!(
                "the version table `schema_migrations` {problem} (golang-migrate creates it as \
                 `version uint64, dirty bool`); nothing was changed. Inspect it, then record the \
                 right version with `force`"
            ),
        );
    }
}

#[test]
fn going_down_through_an_irreversible_migration_is_refused_before_anything_runs() {
    let fx = with_no_transaction("CREATE TABLE b (id INTEGER PRIMARY KEY);");
    let mut conn = fx.open();
    fx.migrations.up(&mut conn).unwrap();
    let before = dump(&conn);
    let error = fx.migrations.to(&mut conn, 0).unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot go below version 000002: `000002_compact.down.sql` is marked irreversible (nothing \
         to undo); nothing was changed"
    );
    assert_eq!(dump(&conn), before, "migration 3's down did not run either");
    fx.migrations.down(&mut conn, 1).unwrap();
}

#[test]
fn out_of_range_targets_are_refused() {
    let fx = three_tables();
    let mut conn = fx.open();
    fx.migrations.to(&mut conn, 2).unwrap();
    let error = fx.migrations.to(&mut conn, 9).unwrap_err();
    assert_eq!(
        error.to_string(),
        "there is no migration 000009: this binary knows migrations up to 000003; nothing was changed"
    );
    let error = fx.migrations.down(&mut conn, 3).unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot go down 3 step(s): the database is at version 000002; nothing was changed"
    );
    assert!(matches!(
        fx.migrations.force(&mut conn, 4),
        Err(Error::TargetOutOfRange { target: 4, .. })
    ));
    assert_eq!(version(&fx.migrations, &conn), at(Some(2), false));
}

#[test]
fn invalid_table_names_are_refused_before_touching_the_database() {
    let fx = three_tables();
    let mut conn = fx.open();
    for name in ["x; DROP TABLE a", "", "1abc", "sqlite_master", "a\"b"] {
        let error = fx
            .migrations
            .with_options(Options::new().table_name(name.to_owned()))
            .up(&mut conn)
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "`{name}` cannot be the version table's name: use letters, digits and `_`, starting \
                 with a letter or `_`"
            )
        );
    }
    assert_eq!(dump(&conn), "");
}

// ---------------------------------------------------------------------------------------------
// 7. Cheap when idle

#[test]
fn an_idle_up_only_reads() {
    let fx = three_tables();
    let mut conn = fx.open();
    fx.migrations.up(&mut conn).unwrap();
    let observer = Connection::open(fx.db()).unwrap();
    let data_version = |c: &Connection| -> i64 {
        c.pragma_query_value(None, "data_version", |r| r.get(0))
            .unwrap()
    };
    let seen = data_version(&observer);
    let modified = std::fs::metadata(fx.db()).unwrap().modified().unwrap();
    let changes = conn.total_changes();
    for _ in 0..3 {
        let report = fx.migrations.up(&mut conn).unwrap();
        assert!(report.is_empty());
        assert_eq!(report.to_string(), "up to date at 000003");
    }
    assert_eq!(conn.total_changes(), changes, "no row written");
    assert_eq!(
        data_version(&observer),
        seen,
        "no commit seen by another connection"
    );
    assert_eq!(
        std::fs::metadata(fx.db()).unwrap().modified().unwrap(),
        modified
    );
    assert!(conn.is_autocommit());
}

// ---------------------------------------------------------------------------------------------
// Baseline, options, busy timeout, status, report, logging

#[test]
fn a_legacy_database_is_baselined() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("legacy.db");
    let mut conn = open(&path);
    // A database created before migrations existed: version 1's schema, no version table.
    conn.execute_batch(MIGRATIONS.get(1).unwrap().up().sql())
        .unwrap();
    conn.execute("UPDATE quality_profile SET name = 'My SD' WHERE id = 1", [])
        .unwrap();
    let migrator =
        MIGRATIONS.with_options(Options::new().baseline_if_table_exists("quality_profile", 1));
    let report = migrator.up(&mut conn).unwrap();
    let ran: Vec<u64> = report.steps.iter().map(|s| s.version).collect();
    assert_eq!(ran, [2, 3, 4]);
    let name: String = conn
        .query_row("SELECT name FROM quality_profile WHERE id = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(name, "My SD", "the user's data is kept");
    // A fresh database has no legacy table: everything runs.
    let mut fresh = open(&dir.path().join("fresh.db"));
    assert_eq!(migrator.up(&mut fresh).unwrap().steps.len(), 4);
}

#[test]
fn a_custom_version_table_is_used() {
    let fx = three_tables();
    let mut conn = fx.open();
    let migrator = fx
        .migrations
        .with_options(Options::new().table_name("app_versions"));
    migrator.up(&mut conn).unwrap();
    assert_eq!(migrator.version(&conn).unwrap(), at(Some(3), false));
    assert_eq!(
        version(&fx.migrations, &conn),
        at(None, false),
        "schema_migrations untouched"
    );
    let exists: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!exists);
}

/// How long a busy-timeout test lets `up` run against a held lock before releasing it. Not a
/// timing assertion: a runtime that applies the option waits far longer (10 s or 60 s), so
/// the pause only gives one that ignores the option (and so gives up at once, under a
/// connection timeout of 0 or 1 ms) the time to return while the lock is still held.
const LOCK_HELD_FOR: Duration = Duration::from_millis(300);

/// What `up` did on a connection with its own busy timeout `own`, while another connection
/// held the write lock.
struct AgainstHeldLock {
    /// `up` returned before the lock was released.
    returned_while_locked: bool,
    result: Result<(), String>,
    /// The connection's busy timeout after `up`, in milliseconds.
    restored_ms: i64,
    conn: Connection,
}

/// Holds the write lock from a second connection; runs `up` (with `options`, or plain `up`
/// with the defaults) in a thread; once the runtime has prepared its `BEGIN` (seen by an
/// authorizer on the connection), waits [`LOCK_HELD_FOR`] or until `up` returns, and only
/// then releases the lock.
fn up_against_a_held_lock(
    fx: &Fixture,
    own: Duration,
    options: Option<Options>,
) -> AgainstHeldLock {
    use migrate_runtime::rusqlite::TransactionBehavior;
    use migrate_runtime::rusqlite::hooks::{
        AuthAction, AuthContext, Authorization, TransactionOperation,
    };
    use std::sync::mpsc;

    let mut writer = Connection::open(fx.db()).unwrap();
    let lock = writer
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .unwrap();
    let mut conn = fx.open();
    conn.busy_timeout(own).unwrap();
    let (began_tx, began) = mpsc::channel();
    // A run installs its own authorizer, which calls the one its options carry.
    let began_tx = std::sync::Mutex::new(began_tx);
    let watch = move |context: &AuthContext<'_>| {
        if let AuthAction::Transaction {
            operation: TransactionOperation::Begin,
        } = context.action
        {
            let _ = began_tx.lock().unwrap().send(());
        }
        Authorization::Allow
    };
    // Without options: the defaults, as plain `up` has them, plus the authorizer.
    let options = options.unwrap_or_default().authorizer(watch);
    let (done_tx, done) = mpsc::channel();
    let (returned_while_locked, (result, mut conn)) = std::thread::scope(|scope| {
        let migrating = scope.spawn(move || {
            let result = fx.migrations.with_options(options).up(&mut conn);
            done_tx.send(()).unwrap();
            (result.map(|_| ()).map_err(|e| e.to_string()), conn)
        });
        began.recv().expect("up never began a transaction");
        let returned_while_locked = done.recv_timeout(LOCK_HELD_FOR).is_ok();
        lock.rollback().unwrap();
        (returned_while_locked, migrating.join().unwrap())
    });
    conn.authorizer(None::<fn(AuthContext<'_>) -> Authorization>)
        .unwrap();
    let restored_ms = conn
        .pragma_query_value(None, "busy_timeout", |r| r.get(0))
        .unwrap();
    AgainstHeldLock {
        returned_while_locked,
        result,
        restored_ms,
        conn,
    }
}

/// The connection's own timeout (1 ms) cannot cover the wait: only the option can.
#[test]
fn waits_for_a_writer_within_the_busy_timeout_and_restores_the_connections_own() {
    let fx = three_tables();
    let outcome = up_against_a_held_lock(
        &fx,
        Duration::from_millis(1),
        Some(Options::new().busy_timeout(Duration::from_secs(10))),
    );
    assert!(
        !outcome.returned_while_locked,
        "up returned while the lock was held ({:?}): it did not wait the option's 10 s",
        outcome.result
    );
    assert_eq!(outcome.result, Ok(()));
    assert_eq!(
        outcome.restored_ms, 1,
        "the connection's own timeout is restored"
    );
    assert_eq!(version(&fx.migrations, &outcome.conn), at(Some(3), false));
}

/// The option also shortens the wait: with a busy timeout of 0, `up` fails at once although
/// the connection's own timeout (10 s) would have waited for the lock to be released.
#[test]
fn a_busy_timeout_of_zero_fails_at_once_although_the_connection_would_wait() {
    let fx = three_tables();
    let outcome = up_against_a_held_lock(
        &fx,
        Duration::from_secs(10),
        Some(Options::new().busy_timeout(Duration::ZERO)),
    );
    assert!(
        outcome.returned_while_locked,
        "up was still waiting for the lock with a busy timeout of 0 ({:?})",
        outcome.result
    );
    assert_eq!(
        outcome.result,
        Err(
            "SQLite failed while starting the migration transaction: database is locked \
             (another connection held the lock past the busy timeout)"
                .to_owned()
        )
    );
    assert_eq!(outcome.restored_ms, 10_000);
    assert_eq!(version(&fx.migrations, &outcome.conn), at(None, false));
}

/// The default is 60 s: the value, and plain `up` waiting for a writer on a connection whose
/// own timeout is 0 (without waiting a minute).
#[test]
fn the_default_busy_timeout_is_60_seconds_and_waits_for_a_writer() {
    assert_eq!(
        Options::default(),
        Options::new().busy_timeout(Duration::from_secs(60))
    );
    assert_ne!(
        Options::default(),
        Options::new().busy_timeout(Duration::from_secs(59))
    );
    let fx = three_tables();
    let outcome = up_against_a_held_lock(&fx, Duration::ZERO, None);
    assert!(
        !outcome.returned_while_locked,
        "plain up returned while the lock was held ({:?}): the default did not wait",
        outcome.result
    );
    assert_eq!(outcome.result, Ok(()));
    assert_eq!(outcome.restored_ms, 0);
    assert_eq!(version(&fx.migrations, &outcome.conn), at(Some(3), false));
}

#[test]
fn a_lock_held_past_the_busy_timeout_is_a_clear_error() {
    let fx = three_tables();
    let mut conn = fx.open();
    let mut writer = Connection::open(fx.db()).unwrap();
    let lock = writer
        .transaction_with_behavior(migrate_runtime::rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    let migrator = fx
        .migrations
        .with_options(Options::new().busy_timeout(Duration::from_millis(100)));
    let error = migrator.up(&mut conn).unwrap_err();
    assert_eq!(
        error.to_string(),
        "SQLite failed while starting the migration transaction: database is locked (another \
         connection held the lock past the busy timeout)"
    );
    drop(lock);
    assert_eq!(version(&fx.migrations, &conn), at(None, false));
}

#[test]
fn status_lists_applied_and_pending() {
    let fx = three_tables();
    let mut conn = fx.open();
    fx.migrations.to(&mut conn, 1).unwrap();
    let status = fx.migrations.status(&conn).unwrap();
    let applied: Vec<(u64, bool)> = status
        .migrations
        .iter()
        .map(|m| (m.migration.version(), m.applied))
        .collect();
    assert_eq!(applied, [(1, true), (2, false), (3, false)]);
    assert_eq!(status.pending().count(), 2);
    assert_eq!(
        status.to_string(),
        "version 000001\n  applied  000001_a\n  pending  000002_b\n  pending  000003_c"
    );
}

#[test]
fn read_only_calls_create_nothing() {
    let fx = three_tables();
    let conn = fx.open();
    assert_eq!(version(&fx.migrations, &conn), at(None, false));
    assert_eq!(fx.migrations.status(&conn).unwrap().pending().count(), 3);
    assert_eq!(dump(&conn), "");
}

#[test]
fn the_report_says_what_ran_in_which_direction() {
    let fx = three_tables();
    let mut conn = fx.open();
    let report = fx.migrations.up(&mut conn).unwrap();
    let text = report.to_string();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("nothing applied → 000003 (3 migrations)")
    );
    assert!(lines.next().unwrap().starts_with("  up   000001_a ("));
    assert_eq!(report.steps[2].name, "c");
}

/// Collects every log record of the `migrate` target.
struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target() == "migrate"
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            self.0
                .lock()
                .unwrap()
                .push(format!("{} {}", record.level(), record.args()));
        }
    }
    fn flush(&self) {}
}

fn captured() -> &'static Capture {
    static CAPTURE: OnceLock<&'static Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture: &'static Capture = Box::leak(Box::new(Capture(Mutex::new(Vec::new()))));
        log::set_logger(capture).unwrap();
        log::set_max_level(log::LevelFilter::Info);
        capture
    })
}

#[test]
fn each_migration_is_logged_through_the_log_facade() {
    let capture = captured();
    let fx = Fixture::new(&[
        ("000001_logged_one.up.sql", "CREATE TABLE a (id INTEGER);"),
        ("000001_logged_one.down.sql", "DROP TABLE a;"),
        ("000002_logged_two.up.sql", "CREATE TABLE b (id INTEGER);"),
        ("000002_logged_two.down.sql", "DROP TABLE b;"),
    ]);
    let mut conn = fx.open();
    fx.migrations.up(&mut conn).unwrap();
    fx.migrations.down(&mut conn, 1).unwrap();
    let lines: Vec<String> = capture
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("logged_"))
        .map(|l| l.split(" in ").next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        lines,
        [
            "INFO up 1 logged_one",
            "INFO up 2 logged_two",
            "INFO down 2 logged_two"
        ]
    );
}
