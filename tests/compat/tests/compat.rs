//! The service's view: migrate-runtime (a dependency renamed `migrate` here) works with the
//! rusqlite release and the SQLite library this build selected.

use migrate::{Error, Migrations};
use migrate_compat::{MIGRATIONS, NEEDS_SQLITE_3_45};
use rusqlite::Connection;

fn open(dir: &tempfile::TempDir) -> Connection {
    let conn = Connection::open(dir.path().join("app.db")).expect("open the database file");
    conn.pragma_update(None, "foreign_keys", true)
        .expect("enable foreign keys");
    conn
}

#[test]
fn migrates_a_file_up_and_down_again() {
    eprintln!("SQLite {} linked", rusqlite::version());
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut conn = open(&dir);

    let report = MIGRATIONS.up(&mut conn).expect("up");
    assert_eq!(report.to, Some(3));
    assert!(MIGRATIONS.up(&mut conn).expect("second up").is_empty());
    let email: String = conn
        .query_row(
            "SELECT email FROM accounts WHERE email = 'OPS@example.com'",
            [],
            |row| row.get(0),
        )
        .expect("the recreated table compares emails without case");
    assert_eq!(email, "ops@example.com");

    MIGRATIONS.to(&mut conn, 0).expect("down to nothing");
    assert_eq!(MIGRATIONS.version(&conn).expect("version").version, None);
}

/// The column of a syntax error comes from rusqlite's `Error::SqlInputError`, which releases
/// before 0.41 have only with `modern_sqlite` (enabled by migrate-engine): this is the API that
/// bounds the supported range below.
#[test]
fn a_syntax_error_names_its_line_and_column() {
    let migrations_dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(
        migrations_dir.path().join("000001_broken.up.sql"),
        "CREATE TABLE t (id INTEGER PRIMARY KEY);\nCREATE TABLE u (id INTEGER,);\n",
    )
    .expect("write the up");
    std::fs::write(
        migrations_dir.path().join("000001_broken.down.sql"),
        "DROP TABLE t;\n",
    )
    .expect("write the down");
    let migrations = Migrations::from_dir(migrations_dir.path()).expect("a valid set of files");

    let dir = tempfile::tempdir().expect("temporary directory");
    let mut conn = open(&dir);
    match migrations.up(&mut conn) {
        Err(Error::Migration {
            file, line, column, ..
        }) => {
            assert_eq!(file, "000001_broken.up.sql");
            assert_eq!(line, 2);
            assert!(column.is_some(), "no column for a syntax error");
        }
        other => panic!("expected a migration error, got {other:?}"),
    }
    assert_eq!(migrations.version(&conn).expect("version").version, None);
}

/// `NEEDS_SQLITE_3_45` compiled, so the macro verified `jsonb()` on a SQLite of 3.45 or newer:
/// its own bundled copy. At run time the linked SQLite decides.
#[test]
fn verification_ran_on_the_macros_own_sqlite() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut conn = open(&dir);
    let result = NEEDS_SQLITE_3_45.up(&mut conn);
    if rusqlite::version_number() >= 3_045_000 {
        result.expect("jsonb() exists in this SQLite");
    } else {
        match result {
            Err(Error::Migration { message, .. }) => {
                assert!(message.contains("no such function: jsonb"), "{message}");
            }
            other => panic!("expected `no such function: jsonb`, got {other:?}"),
        }
        assert_eq!(
            NEEDS_SQLITE_3_45.version(&conn).expect("version").version,
            None
        );
    }
}

/// Without `bundled`, the service links the system's SQLite: the version `pkg-config` reported
/// when the crate was built, not the bundled one, although the macro compiled its own.
#[cfg(not(feature = "bundled"))]
#[test]
fn links_the_system_sqlite() {
    assert_eq!(rusqlite::version(), env!("SYSTEM_SQLITE_VERSION"));
}

/// With `bundled`, the SQLite compiled from source, whose version is the bindings'.
#[cfg(feature = "bundled")]
#[test]
fn links_the_bundled_sqlite() {
    assert_eq!(
        rusqlite::version_number(),
        rusqlite::ffi::SQLITE_VERSION_NUMBER
    );
}
