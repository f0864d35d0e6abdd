//! Hostile databases: a file that is not a database, and a database the connection may only
//! read. Every operation on them fails with an error that says what is wrong and what to do,
//! and leaves the file byte for byte as it was, with no journal beside it; the read-only
//! operations (`version`, `status`) succeed where they can.
//!
//! The version-table cases (two rows, a version that is not a number, a negative version, a
//! version beyond the latest, a dirty flag), an injection attempt in the table name and a lock
//! held past the busy timeout are in `tests/runtime.rs`.
//!
//! The `…_with_what_to_do` tests assert the whole message: SQLite's text ("file is not a
//! database", "attempt to write a readonly database") followed by what to do, and never
//! "fix the migration" for a migration that only failed because the database is read-only.
//!
//! `read_only_file_worker` is not a test of its own: it is marked `#[ignore]` so that it never
//! counts as a passing test, and `a_read_only_file_is_refused_and_left_as_it_was` runs it in a
//! child process (`--ignored --exact`) without root's rights when the tests run as root.

use std::fs;
use std::path::{Path, PathBuf};

use migrate_runtime::rusqlite::{Connection, OpenFlags};
use migrate_runtime::{Error, Migrations, SchemaVersion};
use tempfile::TempDir;

/// What SQLite says, and what to do, for a file that is not a database.
const NOT_A_DATABASE: &str = "file is not a database (the file is not an SQLite database, or it \
                              is encrypted: check the database path)";
/// What SQLite says, and what to do, for a write through a read-only connection or file.
const READ_ONLY: &str = "attempt to write a readonly database (the connection or the file is \
                         read-only: migrate through a read-write connection to a writable file)";

/// Two migrations in a temporary directory, and room for database files beside them.
struct Fixture {
    dir: TempDir,
    migrations: Migrations,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = TempDir::new().expect("temporary directory");
        let migrations_dir = dir.path().join("migrations");
        fs::create_dir(&migrations_dir).expect("migrations directory");
        for (name, sql) in [
            (
                "000001_a.up.sql",
                "CREATE TABLE a (id INTEGER PRIMARY KEY);",
            ),
            ("000001_a.down.sql", "DROP TABLE a;"),
            (
                "000002_b.up.sql",
                "CREATE TABLE b (id INTEGER PRIMARY KEY);",
            ),
            ("000002_b.down.sql", "DROP TABLE b;"),
        ] {
            fs::write(migrations_dir.join(name), sql).expect("writing a migration");
        }
        let migrations =
            Migrations::from_dir(&migrations_dir).unwrap_or_else(|problems| panic!("{problems}"));
        Fixture { dir, migrations }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A database file migrated to `version` (0: an empty database, without a version table),
    /// then closed.
    fn database_at(&self, name: &str, version: u64) -> PathBuf {
        let path = self.path(name);
        let mut conn = Connection::open(&path).expect("creating the database");
        conn.execute_batch("CREATE TABLE scratch (x); DROP TABLE scratch;")
            .expect("writing the database header");
        if version > 0 {
            self.migrations
                .to(&mut conn, version)
                .expect("migrating the fixture");
        }
        path
    }

    /// Every operation that changes the database, each with its result's message.
    fn writes(&self, conn: &mut Connection) -> Vec<(&'static str, Result<String, String>)> {
        let m = &self.migrations;
        vec![
            ("up", describe(m.up(conn))),
            ("to(2)", describe(m.to(conn, 2))),
            ("down(1)", describe(m.down(conn, 1))),
            ("force(2)", describe(m.force(conn, 2))),
        ]
    }

    /// Every operation that only reads.
    fn reads(&self, conn: &Connection) -> Vec<(&'static str, Result<String, String>)> {
        let m = &self.migrations;
        vec![
            ("version", describe(m.version(conn))),
            ("status", describe(m.status(conn))),
        ]
    }
}

fn describe<T: std::fmt::Debug>(result: Result<T, Error>) -> Result<String, String> {
    result
        .map(|value| format!("{value:?}"))
        .map_err(|error| error.to_string())
}

/// The bytes of every file in the database's directory (the database, and any journal).
fn snapshot(database: &Path) -> Vec<(String, Vec<u8>)> {
    let dir = database.parent().expect("the database's directory");
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .expect("listing the directory")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_file())
        .map(|path| {
            let name = path.file_name().expect("a file name").to_string_lossy();
            (name.into_owned(), fs::read(&path).expect("reading a file"))
        })
        .collect();
    files.sort();
    files
}

// ---------------------------------------------------------------------------------------------
// A file that is not a database

/// Files a misconfigured path could name.
fn not_databases() -> Vec<(&'static str, Vec<u8>)> {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.resize(2048, 0x5a);
    let mut sqlite_magic_then_garbage = b"SQLite format 3\0".to_vec();
    sqlite_magic_then_garbage.resize(4096, 0xa5);
    vec![
        (
            "a text file",
            b"# notes\nthis is not a database\n".repeat(40),
        ),
        ("an image", png),
        ("a JSON file", b"{\"database\": \"app.db\"}\n".to_vec()),
        ("a file of 4 bytes", b"tiny".to_vec()),
        ("SQLite's magic then garbage", sqlite_magic_then_garbage),
    ]
}

/// Runs every operation on each file that is not a database and returns their messages, after
/// asserting that each failed and left the directory as it was.
fn not_a_database_messages() -> Vec<(String, String)> {
    let fx = Fixture::new();
    let mut messages = Vec::new();
    for (index, (what, bytes)) in not_databases().into_iter().enumerate() {
        let path = fx.path(&format!("not-a-database-{index}.db"));
        fs::write(&path, &bytes).expect("writing the file");
        let before = snapshot(&path);
        let mut conn = Connection::open(&path).expect("SQLite opens any file lazily");
        let mut results = fx.writes(&mut conn);
        results.extend(fx.reads(&conn));
        drop(conn);
        for (operation, result) in results {
            let message = result
                .err()
                .unwrap_or_else(|| panic!("{operation} on {what} succeeded"));
            messages.push((format!("{operation} on {what}"), message));
        }
        assert_eq!(snapshot(&path), before, "{what} was changed");
        fs::remove_file(&path).expect("removing the file");
    }
    messages
}

#[test]
fn a_file_that_is_not_a_database_is_refused_and_left_as_it_was() {
    for (context, message) in not_a_database_messages() {
        assert!(
            message.contains("file is not a database"),
            "{context}: {message}"
        );
    }
}

#[test]
fn a_file_that_is_not_a_database_is_refused_with_what_to_do() {
    for (context, message) in not_a_database_messages() {
        let doing = if context.starts_with("force") {
            "starting the transaction for force"
        } else if context.starts_with("version") || context.starts_with("status") {
            "looking for the version table"
        } else {
            "starting the migration transaction"
        };
        assert_eq!(
            message,
            format!("SQLite failed while {doing}: {NOT_A_DATABASE}"),
            "{context}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// A database the connection may only read

fn open_read_only(path: &Path) -> Connection {
    Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .expect("opening read-only")
}

/// One read-only case: the database, how to open it, and what `version` reads.
struct ReadOnlyCase {
    what: &'static str,
    path: PathBuf,
    open: fn(&Path) -> Connection,
    version: Option<u64>,
}

fn read_only_cases(fx: &Fixture) -> Vec<ReadOnlyCase> {
    vec![
        ReadOnlyCase {
            what: "a read-only connection to a database with a pending migration",
            path: fx.database_at("pending.db", 1),
            open: open_read_only,
            version: Some(1),
        },
        ReadOnlyCase {
            what: "a read-only connection to an empty database",
            path: fx.database_at("empty.db", 0),
            open: open_read_only,
            version: None,
        },
        ReadOnlyCase {
            what: "a read-write connection with PRAGMA query_only",
            path: fx.database_at("query-only.db", 1),
            open: |path| {
                let conn = Connection::open(path).expect("opening the database");
                conn.pragma_update(None, "query_only", true)
                    .expect("setting query_only");
                conn
            },
            version: Some(1),
        },
    ]
}

/// Runs every operation on each read-only case and returns the messages of the writes, after
/// asserting that the reads succeeded, the writes failed, and nothing changed.
fn read_only_messages() -> Vec<(String, String)> {
    let fx = Fixture::new();
    let mut messages = Vec::new();
    for case in read_only_cases(&fx) {
        let before = snapshot(&case.path);
        let mut conn = (case.open)(&case.path);
        assert_eq!(
            fx.migrations.version(&conn).expect("version reads"),
            SchemaVersion {
                version: case.version,
                dirty: false
            },
            "{}",
            case.what
        );
        for (operation, result) in fx.reads(&conn) {
            assert!(result.is_ok(), "{operation} on {}: {result:?}", case.what);
        }
        for (operation, result) in fx.writes(&mut conn) {
            // `down(1)` from nothing applied is refused before SQLite is asked to write.
            if case.version.is_none() && operation == "down(1)" {
                continue;
            }
            let message = result
                .err()
                .unwrap_or_else(|| panic!("{operation} on {} succeeded", case.what));
            messages.push((format!("{operation} on {}", case.what), message));
        }
        drop(conn);
        assert_eq!(snapshot(&case.path), before, "{} was changed", case.what);
    }
    messages
}

#[test]
fn a_read_only_database_is_refused_and_left_as_it_was() {
    for (context, message) in read_only_messages() {
        assert!(
            message.contains("attempt to write a readonly database"),
            "{context}: {message}"
        );
    }
}

#[test]
fn a_read_only_database_is_refused_with_what_to_do() {
    for (context, message) in read_only_messages() {
        assert!(message.contains(READ_ONLY), "{context}: {message}");
        assert!(
            !message.contains("fix the migration"),
            "{context}: the migration is not at fault: {message}"
        );
    }
    let fx = Fixture::new();
    let path = fx.database_at("pending.db", 1);
    let mut conn = open_read_only(&path);
    assert_eq!(
        fx.migrations.up(&mut conn).unwrap_err().to_string(),
        format!(
            "migration `000002_b.up.sql` failed at line 1 (`CREATE TABLE b (id INTEGER PRIMARY \
             KEY);`): {READ_ONLY}; it was rolled back and the database is at version 000001, not \
             dirty"
        )
    );
    let path = fx.database_at("empty.db", 0);
    let mut conn = open_read_only(&path);
    assert_eq!(
        fx.migrations.up(&mut conn).unwrap_err().to_string(),
        format!("SQLite failed while creating the version table: {READ_ONLY}")
    );
}

/// A replica opened read-only at the latest version starts: `up` has nothing to do and only
/// reads.
#[test]
fn a_read_only_database_at_the_latest_version_starts() {
    let fx = Fixture::new();
    let path = fx.database_at("latest.db", 2);
    let before = snapshot(&path);
    let mut conn = open_read_only(&path);
    let report = fx
        .migrations
        .up(&mut conn)
        .expect("up on a read-only replica");
    assert!(report.is_empty(), "{report:?}");
    drop(conn);
    assert_eq!(snapshot(&path), before);
}

/// A file without write permission: SQLite opens it read-only on its own. Root may write any
/// file whatever its mode (and CI runs as root), so there the checks run in a child process
/// started with the user and group ids of `nobody`, for whom the mode holds.
#[test]
fn a_read_only_file_is_refused_and_left_as_it_was() {
    use std::os::unix::fs::PermissionsExt;
    let fx = Fixture::new();
    let path = fx.database_at("read-only-file.db", 1);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).expect("chmod 444");
    let before = snapshot(&path);
    if fs::OpenOptions::new().write(true).open(&path).is_err() {
        refuse_read_only_file(&fx.migrations, &path);
    } else {
        // The directory must be readable by `nobody` (a temporary directory is mode 0700).
        fs::set_permissions(fx.dir.path(), fs::Permissions::from_mode(0o755))
            .expect("chmod 755 on the temporary directory");
        let output = without_root(&fx, &path);
        assert!(
            output.status.success(),
            "the worker without root's rights failed ({})\n--- stdout ---\n{}\n--- stderr ---\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.contains(READ_ONLY_FILE_CHECKED),
            "the worker did not run the checks (was it filtered out?):\n{stdout}"
        );
    }
    assert_eq!(snapshot(&path), before);
}

/// Environment variables that carry the fixture to [`read_only_file_worker`].
const READ_ONLY_FILE_VAR: &str = "MIGRATE_HOSTILE_READ_ONLY_FILE";
const MIGRATIONS_DIR_VAR: &str = "MIGRATE_HOSTILE_MIGRATIONS_DIR";
/// What the worker prints once its checks passed.
const READ_ONLY_FILE_CHECKED: &str = "[read-only file checked]";
/// The user and group `nobody`.
const NOBODY: u32 = 65_534;

/// Runs [`read_only_file_worker`] as `nobody` and returns what it did. The test binary is
/// copied into the (world-readable) temporary directory first: `nobody` may not be allowed to
/// reach the build directory (a checkout under `/root`, say).
fn without_root(fx: &Fixture, path: &Path) -> std::process::Output {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    // In a directory of its own: the snapshots compare the files beside the database.
    let bin = fx.path("bin");
    fs::create_dir(&bin).expect("a directory for the test binary");
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).expect("chmod 755");
    let exe = bin.join("hostile-worker");
    fs::copy(
        std::env::current_exe().expect("the test binary's path"),
        &exe,
    )
    .expect("copying the test binary");
    fs::set_permissions(&exe, fs::Permissions::from_mode(0o755)).expect("chmod 755");
    std::process::Command::new(exe)
        .args([
            "--ignored",
            "--exact",
            // A module of `tests/integration.rs`: the test is named by its path there.
            "hostile::read_only_file_worker",
            "--nocapture",
        ])
        .env(READ_ONLY_FILE_VAR, path)
        .env(MIGRATIONS_DIR_VAR, fx.path("migrations"))
        .uid(NOBODY)
        .gid(NOBODY)
        .output()
        .expect("starting the test binary as nobody")
}

/// The child side of [`a_read_only_file_is_refused_and_left_as_it_was`] when the tests run as
/// root.
#[test]
#[ignore = "not a test: run as another user by a_read_only_file_is_refused_and_left_as_it_was"]
fn read_only_file_worker() {
    let path = PathBuf::from(std::env::var_os(READ_ONLY_FILE_VAR).expect(READ_ONLY_FILE_VAR));
    let dir = PathBuf::from(std::env::var_os(MIGRATIONS_DIR_VAR).expect(MIGRATIONS_DIR_VAR));
    assert!(
        fs::OpenOptions::new().write(true).open(&path).is_err(),
        "this process may still write {}",
        path.display()
    );
    let migrations = Migrations::from_dir(&dir).unwrap_or_else(|problems| panic!("{problems}"));
    refuse_read_only_file(&migrations, &path);
    println!("{READ_ONLY_FILE_CHECKED}");
}

/// `up` on a file this process may not write fails with SQLite's read-only error, and
/// `version` still reads it.
fn refuse_read_only_file(migrations: &Migrations, path: &Path) {
    let mut conn = Connection::open(path).expect("opening the file");
    let error = migrations.up(&mut conn).unwrap_err().to_string();
    assert!(error.contains(READ_ONLY), "{error}");
    assert_eq!(
        migrations.version(&conn).expect("version reads").version,
        Some(1)
    );
}
