//! `Options::on_step`: one call per migration, as soon as its SQL has run, also inside the one
//! transaction that several migrations share.

use std::path::Path;
use std::sync::{Arc, Mutex};

use migrate_core::{Direction, Migration};
use migrate_engine::{Error, Options, Target};
use rusqlite::Connection;

/// Writes `files` (name, SQL) into `dir` and loads them with the macro's rules.
fn migrations(dir: &Path, files: &[(&str, &str)]) -> Vec<Migration> {
    for (name, sql) in files {
        std::fs::write(dir.join(name), sql).expect("write a migration");
    }
    migrate_core::load_dir(dir).expect("a valid set")
}

const SET: &[(&str, &str)] = &[
    (
        "000001_users.up.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);",
    ),
    ("000001_users.down.sql", "DROP TABLE users;"),
    (
        "000002_posts.up.sql",
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));",
    ),
    ("000002_posts.down.sql", "DROP TABLE posts;"),
    (
        "000003_tags.up.sql",
        "CREATE TABLE tags (name TEXT PRIMARY KEY);",
    ),
    ("000003_tags.down.sql", "DROP TABLE tags;"),
];

/// What the callback saw: (version, direction, not committed yet), in call order.
type Seen = Arc<Mutex<Vec<(u64, Direction, bool)>>>;

/// Options whose callback records (version, direction, whether the migration's table was
/// still invisible to another connection, i.e. not committed yet) into the returned list.
fn recording(conn_path: &Path) -> (Options, Seen) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    // A second connection to the same file: while the run's transaction is open, it cannot
    // see the table the migration creates (or, going down, still sees the one it drops).
    let observer = Mutex::new(Connection::open(conn_path).expect("open an observer"));
    let options = Options::new().on_step(move |step| {
        let table = step.name.as_str();
        let exists: bool = observer
            .lock()
            .expect("observer")
            .query_row(
                "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |row| row.get(0),
            )
            .expect("the observer reads the committed schema");
        let visible = match step.direction {
            Direction::Up => exists,
            Direction::Down => !exists,
        };
        sink.lock()
            .expect("sink")
            .push((step.version, step.direction, !visible));
    });
    (options, seen)
}

#[test]
fn reports_each_migration_before_the_shared_transaction_commits() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let set = migrations(dir.path(), SET);
    let db = dir.path().join("app.db");
    let mut conn = Connection::open(&db).expect("open");
    let (options, seen) = recording(&db);

    let report = migrate_engine::run(&set, &options, &mut conn, Target::Latest).expect("up");
    assert_eq!(report.steps.len(), 3);
    // Three calls, one per migration, each while the single transaction of the run was still
    // open (another connection could not see the version table yet).
    assert_eq!(
        *seen.lock().expect("seen"),
        vec![
            (1, Direction::Up, true),
            (2, Direction::Up, true),
            (3, Direction::Up, true)
        ]
    );

    seen.lock().expect("seen").clear();
    migrate_engine::run(&set, &options, &mut conn, Target::DownSteps(2)).expect("down");
    assert_eq!(
        *seen.lock().expect("seen"),
        vec![(3, Direction::Down, true), (2, Direction::Down, true)]
    );
}

#[test]
fn a_step_reported_before_a_failure_can_still_be_rolled_back() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut files = SET.to_vec();
    files[4] = ("000003_tags.up.sql", "INSERT INTO missing VALUES (1);");
    let set = migrations(dir.path(), &files);
    let db = dir.path().join("app.db");
    let mut conn = Connection::open(&db).expect("open");
    let (options, seen) = recording(&db);

    let error =
        migrate_engine::run(&set, &options, &mut conn, Target::Latest).expect_err("000003 fails");
    assert!(
        matches!(error, Error::Migration { version: 3, .. }),
        "{error}"
    );
    let versions: Vec<u64> = seen.lock().expect("seen").iter().map(|s| s.0).collect();
    assert_eq!(versions, vec![1, 2]);
    // The whole run shared one transaction, so the two reported steps were rolled back.
    let state = migrate_engine::version(&options, &conn).expect("version");
    assert_eq!(state.version, None);
}
