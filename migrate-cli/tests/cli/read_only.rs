//! Commands that only look never write: `status` and `version` leave every file of the
//! database's directory byte for byte as it was (a WAL database included), `down` and `to 0`
//! never create a missing database, and a hot journal left by a crash is explained.

use migrate_runtime::rusqlite::Connection;

use crate::snapshot;
use crate::support::Sandbox;

/// A database at 000003 in WAL mode, with no connection open (so no `-wal` or `-shm` file).
fn wal_database(sandbox: &Sandbox) {
    sandbox.run(&["up", "--database", "app.db"]).code(0);
    let conn = sandbox.open("app.db");
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .expect("switching to WAL");
    assert_eq!(mode, "wal");
    drop(conn);
    assert_eq!(sandbox.list("."), ["app.db", "migrations"]);
}

#[test]
fn status_and_version_leave_a_wal_database_byte_for_byte() {
    let sandbox = Sandbox::with_migrations();
    wal_database(&sandbox);
    let before = sandbox.files();
    let run = sandbox.run(&["version", "--database", "app.db"]);
    assert_eq!(run.code(0).stdout, "000003\n");
    let run = sandbox.run(&["status", "--database", "sqlite://app.db", "--json"]);
    assert_eq!(run.code(0).json()["version"], 3);
    let run = sandbox.run(&["status", "--database", "file:app.db?mode=ro"]);
    assert!(run.code(0).stdout.contains("3 applied, 0 pending"), "{run}");
    assert_eq!(
        sandbox.list("."),
        ["app.db", "migrations"],
        "no -wal or -shm file"
    );
    assert!(sandbox.files() == before, "the database's bytes changed");
}

#[test]
fn status_reads_what_an_open_writer_committed_to_the_wal() {
    let sandbox = Sandbox::with_migrations();
    sandbox.run(&["to", "2", "--database", "app.db"]).code(0);
    let writer = sandbox.open("app.db");
    writer
        .execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
             CREATE TABLE tags (name TEXT PRIMARY KEY);
             UPDATE schema_migrations SET version = 3;",
        )
        .unwrap();
    // The writer's commit is in `app.db-wal` only: reading the main file alone would say 2.
    let before = sandbox.files();
    let run = sandbox.run(&["version", "--database", "app.db"]);
    assert_eq!(run.code(0).stdout, "000003\n");
    // `-shm` is the live connections' shared memory, where every reader marks what it reads.
    let mut after = sandbox.files();
    assert_eq!(
        after.remove("app.db-shm").is_some(),
        before.contains_key("app.db-shm")
    );
    let mut before = before;
    before.remove("app.db-shm");
    assert!(after == before, "the database or its WAL changed");
    drop(writer);
}

#[test]
fn status_and_version_leave_a_rollback_journal_database_byte_for_byte() {
    let sandbox = Sandbox::with_migrations();
    sandbox.run(&["to", "2", "--database", "app.db"]).code(0);
    let before = sandbox.files();
    sandbox.run(&["status", "--database", "app.db"]).code(0);
    sandbox
        .run(&["version", "--database", "app.db", "--json"])
        .code(0);
    assert!(sandbox.files() == before, "the directory changed");
}

/// Copies `app.db` and its journal in the middle of a write transaction to `crashed.db` and
/// `crashed.db-journal`: what a process killed at that moment leaves (no process holds the
/// copy's lock, so its journal is hot). The cache holds one page, so the transaction has
/// already written changed pages to the database file, after the original pages to the
/// journal: the copy is half-written, and only the journal can restore it.
fn hot_journal(sandbox: &Sandbox) {
    sandbox.run(&["to", "2", "--database", "app.db"]).code(0);
    let conn = Connection::open(sandbox.path("app.db")).expect("opening app.db");
    conn.execute_batch(
        "PRAGMA journal_mode = DELETE; PRAGMA cache_size = 1;
         BEGIN; CREATE TABLE filler (x TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
         INSERT INTO filler SELECT hex(randomblob(500)) FROM n;
         UPDATE schema_migrations SET version = 3;",
    )
    .expect("a transaction left open");
    assert!(
        sandbox.exists("app.db-journal"),
        "the transaction has a journal"
    );
    for (from, to) in [
        ("app.db", "crashed.db"),
        ("app.db-journal", "crashed.db-journal"),
    ] {
        std::fs::copy(sandbox.path(from), sandbox.path(to)).expect("copying a file");
    }
    conn.execute_batch("ROLLBACK").expect("rolling back");
    drop(conn);
    std::fs::remove_file(sandbox.path("app.db")).expect("removing app.db");
}

#[test]
fn a_hot_journal_is_explained_and_left_alone_by_status_and_version() {
    let sandbox = Sandbox::with_migrations();
    hot_journal(&sandbox);
    let before = sandbox.files();
    let run = sandbox.run(&["status", "--database", "crashed.db"]);
    run.code(1);
    snapshot!("status_hot_journal", run);
    let run = sandbox.run(&["version", "--database", "crashed.db", "--json"]);
    assert_eq!(run.code(1).json()["error"]["kind"], "hot_journal");
    assert!(
        sandbox.files() == before,
        "the journal or the database changed"
    );
    // A read-write open rolls the interrupted write back, as the message says.
    let run = sandbox.run(&["up", "--database", "crashed.db"]);
    assert!(run.code(0).stdout.contains("000002 → 000003"), "{run}");
    assert!(!sandbox.exists("crashed.db-journal"));
}

#[test]
fn down_and_to_zero_never_create_a_missing_database() {
    let sandbox = Sandbox::with_migrations();
    let run = sandbox.run(&["down", "--database", "app.db"]);
    run.code(1);
    snapshot!("down_missing_database", run);
    let run = sandbox.run(&["to", "0", "--database", "app.db"]);
    run.code(0);
    snapshot!("to_zero_missing_database", run);
    let run = sandbox.run(&["to", "0", "--database", "app.db", "--json"]);
    assert_eq!(run.code(0).json()["exists"], false);
    // An unknown version is refused before the file would be created.
    let run = sandbox.run(&["to", "9", "--database", "app.db"]);
    assert!(
        run.code(1).stderr.contains("there is no migration 000009"),
        "{run}"
    );
    let run = sandbox.run(&["force", "9", "--database", "app.db"]);
    assert!(
        run.code(1).stderr.contains("there is no migration 000009"),
        "{run}"
    );
    assert_eq!(sandbox.list("."), ["migrations"], "nothing was created");
    // `up`, `to V` and `force` start from a fresh file.
    sandbox.run(&["to", "1", "--database", "a.db"]).code(0);
    sandbox.run(&["force", "2", "--database", "b.db"]).code(0);
    assert_eq!(sandbox.list("."), ["a.db", "b.db", "migrations"]);
}

#[test]
#[cfg(unix)]
fn a_named_pipe_in_the_directory_is_refused_by_check_and_up_without_hanging() {
    let sandbox = Sandbox::with_migrations();
    std::fs::remove_file(sandbox.path("migrations/000003_tags.down.sql")).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(sandbox.path("migrations/000003_tags.down.sql"))
        .status()
        .expect("running mkfifo");
    assert!(status.success());
    let check = sandbox.run(&["check"]);
    check.code(3);
    snapshot!("check_named_pipe", check);
    let up = sandbox.run(&["up", "--database", "app.db"]);
    assert_eq!(up.code(3).stderr, check.stderr);
    assert!(!sandbox.exists("app.db"));
}

#[test]
#[cfg(unix)]
fn a_database_path_that_is_a_named_pipe_or_a_directory_is_refused_without_blocking() {
    let sandbox = Sandbox::with_migrations();
    let status = std::process::Command::new("mkfifo")
        .arg(sandbox.path("pipe.db"))
        .status()
        .expect("running mkfifo");
    assert!(status.success());
    std::fs::create_dir(sandbox.path("dir.db")).unwrap();
    let mut stderr = String::new();
    for database in ["pipe.db", "dir.db"] {
        for command in ["status", "up", "down"] {
            // Opening the pipe would block here forever: nothing ever writes to it.
            let run = sandbox.run(&[command, "--database", database]);
            run.code(1);
            if command == "status" {
                stderr.push_str(&run.stderr);
            }
        }
    }
    snapshot!("database_not_a_regular_file", stderr);
    assert_eq!(sandbox.list("."), ["dir.db", "migrations", "pipe.db"]);
}

#[test]
fn a_write_ahead_log_left_by_a_crash_is_explained_and_left_alone() {
    let sandbox = Sandbox::with_migrations();
    sandbox.run(&["to", "2", "--database", "app.db"]).code(0);
    let writer = sandbox.open("app.db");
    writer
        .execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
             CREATE TABLE tags (name TEXT PRIMARY KEY);
             UPDATE schema_migrations SET version = 3;",
        )
        .unwrap();
    // What a writer killed after its commit leaves: the commit is in the log only, and
    // nothing has the shared-memory index that a reader needs to find it.
    for (from, to) in [("app.db", "crashed.db"), ("app.db-wal", "crashed.db-wal")] {
        std::fs::copy(sandbox.path(from), sandbox.path(to)).unwrap();
    }
    drop(writer);
    let before = sandbox.files();
    let run = sandbox.run(&["version", "--database", "crashed.db"]);
    run.code(1);
    snapshot!("version_wal_to_recover", run);
    let run = sandbox.run(&["status", "--database", "crashed.db", "--json"]);
    assert_eq!(run.code(1).json()["error"]["kind"], "wal_recovery");
    assert!(sandbox.files() == before, "a file was created or changed");
    // A read-write open recovers the log, as the message says: the commit is kept.
    let run = sandbox.run(&["up", "--database", "crashed.db"]);
    assert_eq!(run.code(0).stdout, "up to date at 000003\n");
}
