//! Concurrent starters: several processes, and several connections in one process, calling
//! `up` on one database file at once all end at the latest version, each migration runs
//! exactly once, and none fails with "database is locked".
//!
//! The migration set is written at run time: 20 migrations, each of which records its own run
//! as a row in `runs` (with the id of the worker whose connection ran it), three of which
//! insert 200,000 rows so that the starters really overlap, and three of which rebuild a
//! parent table with `PRAGMA foreign_keys = OFF` while a child table references it with
//! `ON DELETE CASCADE`. The runtime runs each of those three in a transaction of its own, so
//! every run is split into several transactions, and between them another starter can take
//! the write lock: that is where a race would slip in. (`-- migrate:no-transaction`
//! migrations are left out on purpose: they are documented as not protected against
//! concurrent starters.)
//!
//! Each trial starts 8 workers on a fresh database file, as simultaneously as possible:
//!
//! - as real OS processes: the test binary runs itself again (`--exact worker_process
//!   --nocapture`, which works under `cargo test` and `cargo nextest`) with the migrations
//!   directory, the database and a worker id in environment variables. Each worker opens its
//!   connection as a service would (`PRAGMA foreign_keys = ON`), says on its standard output
//!   that it is ready, and waits until the test closes its standard input, which the test
//!   does for all workers at once, once all are ready. Run alone, `worker_process` passes
//!   without doing anything;
//! - as threads of this process, each with its own connection, released by a barrier;
//! - as processes on a database switched to `journal_mode = WAL` beforehand;
//! - as processes committing after each migration
//!   ([`Options::commit_each_migration`](migrate_runtime::Options::commit_each_migration)),
//!   where the write lock changes hands most often.
//!
//! After each trial the test checks that every worker succeeded, that the database is at the
//! latest version and clean with exactly one row in `schema_migrations`, that `runs` holds
//! exactly one row per migration, that the workers' reports together name every migration
//! exactly once and agree with `runs` on who ran it, that the slow migrations inserted all
//! their rows, and that the child rows survived the parent rebuilds with no foreign-key
//! violation.
//!
//! SQLite's busy handler lets waiting connections sleep with back-off, so the worker that
//! takes the lock first usually takes it again between its own transactions and applies every
//! migration; in a few percent of trials the run is shared among several workers (the
//! `--nocapture` output says which worker applied what). The default run does 5 trials per
//! test; for a stress run, raise the count with `MIGRATE_RACE_TRIALS`:
//!
//! ```text
//! MIGRATE_RACE_TRIALS=200 cargo test --test concurrency -- --nocapture
//! ```

use std::collections::BTreeMap;
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::Barrier;
use std::thread;
use std::time::Instant;

use migrate_runtime::rusqlite::Connection;
use migrate_runtime::{Error, Migrations, Options, SchemaVersion};
use tempfile::TempDir;

/// How many workers race in each trial.
const WORKERS: u32 = 8;
/// The number of migrations, and so the latest version.
const LATEST: u64 = 20;
/// The migrations that insert [`BULK_ROWS`] rows each, so that the workers overlap.
const SLOW: [u64; 3] = [4, 10, 16];
/// The migrations that rebuild the parent table with foreign-key enforcement off.
const FOREIGN_KEYS_OFF: [u64; 3] = [7, 13, 18];
const BULK_ROWS: i64 = 200_000;
/// Rows of the child table, which references the parent with `ON DELETE CASCADE`: a rebuild
/// that ran with enforcement on would delete them when it drops the old parent.
const CHILD_ROWS: i64 = 6;

/// Trials per test unless [`TRIALS_VAR`] says otherwise.
const DEFAULT_TRIALS: usize = 5;
const TRIALS_VAR: &str = "MIGRATE_RACE_TRIALS";

/// The test that, in a child process, is the worker.
const WORKER_TEST: &str = "worker_process";
const MIGRATIONS_VAR: &str = "MIGRATE_RACE_WORKER_MIGRATIONS";
const DATABASE_VAR: &str = "MIGRATE_RACE_WORKER_DATABASE";
const WORKER_ID_VAR: &str = "MIGRATE_RACE_WORKER_ID";
/// Set when the worker should commit after each migration.
const COMMIT_EACH_VAR: &str = "MIGRATE_RACE_WORKER_COMMIT_EACH";
/// What a worker process prints once its connection is open and it waits for the start.
const READY: &str = "[race-worker ready]";
/// What a worker process prints before the versions its `up` applied.
const APPLIED: &str = "[race-worker applied]";

/// How one test's workers run.
#[derive(Clone, Copy, Debug)]
struct Setup {
    /// Names the test in messages.
    label: &'static str,
    workers: Workers,
    journal_mode: JournalMode,
    /// Whether the workers commit after each migration
    /// ([`Options::commit_each_migration`]) instead of once per run.
    commit_each: bool,
}

/// What the workers are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Workers {
    /// Processes running [`worker_process`].
    Processes,
    /// Threads of the test's process, each with its own connection.
    Threads,
}

/// How the database file is prepared before the workers start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JournalMode {
    /// No file yet: the workers create it (rollback journal, SQLite's default).
    Default,
    /// A file already switched to write-ahead logging.
    Wal,
}

/// One trial's inputs.
struct Trial<'a> {
    migrations_dir: &'a Path,
    migrations: &'a Migrations,
    database: &'a Path,
    commit_each: bool,
}

/// What one worker did: its id and the versions its `up` applied, or why it failed.
type Outcome = (u32, Result<Vec<u64>, String>);

#[test]
fn concurrent_processes_end_at_latest_with_each_migration_run_once() {
    race_in_trials(Setup {
        label: "processes",
        workers: Workers::Processes,
        journal_mode: JournalMode::Default,
        commit_each: false,
    });
}

#[test]
fn concurrent_connections_in_one_process_end_at_latest_with_each_migration_run_once() {
    race_in_trials(Setup {
        label: "threads",
        workers: Workers::Threads,
        journal_mode: JournalMode::Default,
        commit_each: false,
    });
}

#[test]
fn concurrent_processes_on_a_wal_database_behave_the_same() {
    race_in_trials(Setup {
        label: "processes, WAL",
        workers: Workers::Processes,
        journal_mode: JournalMode::Wal,
        commit_each: false,
    });
}

/// With a commit after every migration, the write lock changes hands up to 20 times per run
/// instead of a few: the most chances for a race.
#[test]
fn concurrent_processes_committing_each_migration_behave_the_same() {
    race_in_trials(Setup {
        label: "processes, commit each",
        workers: Workers::Processes,
        journal_mode: JournalMode::Default,
        commit_each: true,
    });
}

/// The worker side of [`race_processes`]: does nothing unless started by it.
#[test]
fn worker_process() {
    let (Some(dir), Some(database), Some(id)) = (
        env::var_os(MIGRATIONS_VAR),
        env::var_os(DATABASE_VAR),
        env::var_os(WORKER_ID_VAR),
    ) else {
        return;
    };
    let id: u32 = id
        .to_str()
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("{WORKER_ID_VAR} must be a number, not {id:?}"));
    let commit_each = env::var_os(COMMIT_EACH_VAR).is_some();
    let migrations = load_migration_set(Path::new(&dir));
    let mut conn = open_as_worker(Path::new(&database), id);
    println!("{READY}");
    wait_for_standard_input_to_close();
    match migrate_up(&migrations, &mut conn, commit_each) {
        Ok(versions) => println!("{APPLIED}{}", format_versions(&versions)),
        Err(error) => panic!("worker {id}: up failed: {error}\n{error:?}"),
    }
}

/// Runs the race of `setup` on a fresh database [`trials`] times and checks the result of
/// each.
fn race_in_trials(setup: Setup) {
    let label = setup.label;
    let dir = TempDir::new().expect("temporary directory");
    let migrations_dir = dir.path().join("migrations");
    write_migration_set(&migrations_dir);
    let migrations = load_migration_set(&migrations_dir);
    assert_eq!(migrations.latest(), Some(LATEST));
    let trials = trials();
    let started = Instant::now();
    let mut shared = 0;
    for number in 1..=trials {
        let database = dir.path().join(format!("trial-{number}.db"));
        prepare_database(&database, setup.journal_mode);
        let trial = Trial {
            migrations_dir: &migrations_dir,
            migrations: &migrations,
            database: &database,
            commit_each: setup.commit_each,
        };
        let trial_started = Instant::now();
        let outcomes = match setup.workers {
            Workers::Processes => race_processes(&trial),
            Workers::Threads => race_threads(&trial),
        };
        let elapsed = trial_started.elapsed();
        let context = format!("{label}, trial {number}");
        let applied = assert_every_worker_succeeded(&outcomes, &context);
        assert_migrated_exactly_once(&migrations, &database, &applied, &context);
        if setup.journal_mode == JournalMode::Wal {
            assert_eq!(journal_mode_of(&database), "wal", "{context}");
        }
        let appliers = applied.iter().filter(|(_, versions)| !versions.is_empty());
        if appliers.count() > 1 {
            shared += 1;
        }
        eprintln!(
            "{label}, trial {number}/{trials}: {:.0} ms; {}",
            elapsed.as_secs_f64() * 1000.0,
            describe_who_ran_what(&applied)
        );
    }
    eprintln!(
        "{label}: {trials} trials of {WORKERS} workers in {:.1} s; the migrations were shared \
         among several workers in {shared} of them",
        started.elapsed().as_secs_f64()
    );
}

/// `up` as a service calls it: [`Migrations::up`], or with
/// [`Options::commit_each_migration`]. Returns the versions applied.
fn migrate_up(
    migrations: &Migrations,
    conn: &mut Connection,
    commit_each: bool,
) -> Result<Vec<u64>, Error> {
    let report = if commit_each {
        migrations
            .with_options(Options::new().commit_each_migration(true))
            .up(conn)?
    } else {
        migrations.up(conn)?
    };
    Ok(report.steps.iter().map(|step| step.version).collect())
}

/// The number of trials: [`DEFAULT_TRIALS`], or the value of [`TRIALS_VAR`].
fn trials() -> usize {
    match env::var(TRIALS_VAR) {
        Ok(value) => value
            .trim()
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .unwrap_or_else(|| panic!("{TRIALS_VAR} must be a positive number, not {value:?}")),
        Err(_) => DEFAULT_TRIALS,
    }
}

/// Writes the migration set described in the module documentation.
fn write_migration_set(dir: &Path) {
    fs::create_dir(dir).expect("migrations directory");
    let mut parent_columns = vec![
        "id INTEGER PRIMARY KEY".to_owned(),
        "name TEXT NOT NULL".to_owned(),
    ];
    for version in 1..=LATEST {
        let (name, mut up, mut down) = match version {
            1 => (
                "runs".to_owned(),
                "CREATE TABLE runs (version INTEGER NOT NULL, worker INTEGER);\n".to_owned(),
                String::new(),
            ),
            2 => parent_and_child(),
            v if SLOW.contains(&v) => bulk_insert(v),
            v if FOREIGN_KEYS_OFF.contains(&v) => rebuild_parent(v, &mut parent_columns),
            v => plain_table(v),
        };
        writeln!(up, "{}", record_run(version)).expect("writing to a String");
        if version == 1 {
            down.push_str("DROP TABLE runs;\n");
        } else {
            writeln!(down, "DELETE FROM runs WHERE version = {version};")
                .expect("writing to a String");
        }
        let base = format!("{version:06}_{name}");
        fs::write(dir.join(format!("{base}.up.sql")), up).expect("writing an up file");
        fs::write(dir.join(format!("{base}.down.sql")), down).expect("writing a down file");
    }
}

/// The statement every migration ends with: one row in `runs` naming the migration and the
/// worker whose connection ran it (each worker keeps its id in a temporary table).
fn record_run(version: u64) -> String {
    format!("INSERT INTO runs (version, worker) VALUES ({version}, (SELECT id FROM temp.worker));")
}

fn parent_and_child() -> (String, String, String) {
    let up = format!(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n\
         INSERT INTO parent (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three');\n\
         CREATE TABLE child (\n    \
             id INTEGER PRIMARY KEY,\n    \
             parent_id INTEGER NOT NULL REFERENCES parent (id) ON DELETE CASCADE\n\
         );\n\
         WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {CHILD_ROWS})\n\
         INSERT INTO child (id, parent_id) SELECT x, 1 + x % 3 FROM c;\n"
    );
    let down = "DROP TABLE child;\nDROP TABLE parent;\n".to_owned();
    ("parent_and_child".to_owned(), up, down)
}

fn bulk_insert(version: u64) -> (String, String, String) {
    let up = format!(
        "CREATE TABLE bulk_{version} (x INTEGER NOT NULL);\n\
         WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {BULK_ROWS})\n\
         INSERT INTO bulk_{version} (x) SELECT x FROM c;\n"
    );
    let down = format!("DROP TABLE bulk_{version};\n");
    (format!("bulk_{version}"), up, down)
}

/// Rebuilds the parent table with one more column, by SQLite's 12-step procedure: with
/// enforcement on, dropping the old table would delete every child row.
fn rebuild_parent(version: u64, parent_columns: &mut Vec<String>) -> (String, String, String) {
    let before = parent_columns.clone();
    parent_columns.push(format!(
        "rebuilt_at_{version} INTEGER NOT NULL DEFAULT {version}"
    ));
    let up = recreate_parent(&before, parent_columns);
    let down = recreate_parent(parent_columns, &before);
    (format!("rebuild_parent_{version}"), up, down)
}

/// The table recreation from the columns `from` to the columns `to`, copying the columns
/// both have, with foreign-key enforcement off.
fn recreate_parent(from: &[String], to: &[String]) -> String {
    let name = |definition: &String| {
        definition
            .split_whitespace()
            .next()
            .expect("a column definition starts with its name")
            .to_owned()
    };
    let common: Vec<String> = from
        .iter()
        .map(name)
        .filter(|column| to.iter().map(name).any(|c| c == *column))
        .collect();
    let common = common.join(", ");
    format!(
        "PRAGMA foreign_keys = OFF;\n\
         CREATE TABLE parent_new ({});\n\
         INSERT INTO parent_new ({common}) SELECT {common} FROM parent;\n\
         DROP TABLE parent;\n\
         ALTER TABLE parent_new RENAME TO parent;\n\
         PRAGMA foreign_keys = ON;\n",
        to.join(", ")
    )
}

fn plain_table(version: u64) -> (String, String, String) {
    let up = format!("CREATE TABLE plain_{version} (id INTEGER PRIMARY KEY, note TEXT);\n");
    let down = format!("DROP TABLE plain_{version};\n");
    (format!("plain_{version}"), up, down)
}

fn load_migration_set(dir: &Path) -> Migrations {
    Migrations::from_dir(dir).unwrap_or_else(|problems| panic!("{problems}"))
}

/// Leaves no file for [`JournalMode::Default`] (the workers create it), and creates the file
/// in WAL mode for [`JournalMode::Wal`].
fn prepare_database(database: &Path, journal_mode: JournalMode) {
    if journal_mode == JournalMode::Wal {
        let conn = Connection::open(database).expect("creating the database");
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .expect("switching to WAL");
        assert_eq!(mode, "wal");
    }
}

fn journal_mode_of(database: &Path) -> String {
    let conn = Connection::open(database).expect("opening the database");
    conn.pragma_query_value(None, "journal_mode", |row| row.get(0))
        .expect("reading the journal mode")
}

/// Opens a connection as a service does (foreign keys enforced), and records the worker's id
/// in a temporary table for [`record_run`]. Temporary tables live in the connection's own
/// `temp` database and take no lock on the file.
fn open_as_worker(database: &Path, id: u32) -> Connection {
    let conn = Connection::open(database).expect("opening the database");
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys = ON;\n\
         CREATE TEMP TABLE worker (id INTEGER NOT NULL);\n\
         INSERT INTO temp.worker (id) VALUES ({id});"
    ))
    .expect("preparing the worker's connection");
    conn
}

fn format_versions(versions: &[u64]) -> String {
    versions.iter().map(|v| format!(" {v}")).collect::<String>()
}

/// Blocks until the test closes this process's standard input: the start signal.
fn wait_for_standard_input_to_close() {
    let mut ignored = Vec::new();
    std::io::stdin()
        .read_to_end(&mut ignored)
        .expect("reading standard input");
}

/// One trial with the workers as processes: spawns them all, waits until each has opened its
/// connection, then releases them together and collects what each did.
fn race_processes(trial: &Trial<'_>) -> Vec<Outcome> {
    let mut workers: Vec<WorkerProcess> = (1..=WORKERS)
        .map(|id| WorkerProcess::spawn(trial, id))
        .collect();
    for worker in &mut workers {
        worker.await_ready();
    }
    for worker in &mut workers {
        worker.release();
    }
    workers.into_iter().map(WorkerProcess::finish).collect()
}

/// One trial with the workers as threads of this process, each with its own connection,
/// released together by a barrier.
fn race_threads(trial: &Trial<'_>) -> Vec<Outcome> {
    let barrier = Barrier::new(WORKERS as usize);
    let barrier = &barrier;
    thread::scope(|scope| {
        let handles: Vec<_> = (1..=WORKERS)
            .map(|id| {
                scope.spawn(move || {
                    let mut conn = open_as_worker(trial.database, id);
                    barrier.wait();
                    let result = migrate_up(trial.migrations, &mut conn, trial.commit_each)
                        .map_err(|error| format!("{error}\n{error:?}"));
                    (id, result)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("a worker thread panicked"))
            .collect()
    })
}

/// A worker process: this test binary running [`worker_process`].
struct WorkerProcess {
    id: u32,
    child: Child,
    stdout: BufReader<ChildStdout>,
    /// Everything read from its standard output so far.
    transcript: String,
}

impl WorkerProcess {
    fn spawn(trial: &Trial<'_>, id: u32) -> WorkerProcess {
        let exe: PathBuf = env::current_exe().expect("the test binary's path");
        let mut command = Command::new(exe);
        command
            .args(["--exact", WORKER_TEST, "--nocapture"])
            .env(MIGRATIONS_VAR, trial.migrations_dir)
            .env(DATABASE_VAR, trial.database)
            .env(WORKER_ID_VAR, id.to_string())
            .env_remove(COMMIT_EACH_VAR);
        if trial.commit_each {
            command.env(COMMIT_EACH_VAR, "1");
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting a worker process");
        let stdout = BufReader::new(child.stdout.take().expect("piped standard output"));
        WorkerProcess {
            id,
            child,
            stdout,
            transcript: String::new(),
        }
    }

    /// Reads the worker's output until it says it is ready, or ends (a failure that
    /// [`WorkerProcess::finish`] reports).
    fn await_ready(&mut self) {
        let mut line = String::new();
        loop {
            line.clear();
            let read = self
                .stdout
                .read_line(&mut line)
                .expect("reading a worker's output");
            self.transcript.push_str(&line);
            if read == 0 || line.contains(READY) {
                return;
            }
        }
    }

    /// Closes the worker's standard input, its start signal.
    fn release(&mut self) {
        drop(self.child.stdin.take());
    }

    /// Waits for the worker to exit and returns the versions it applied, or its output.
    fn finish(mut self) -> Outcome {
        self.stdout
            .read_to_string(&mut self.transcript)
            .expect("reading a worker's output");
        let output = self.child.wait_with_output().expect("waiting for a worker");
        let applied = parse_applied(&self.transcript);
        let result = match (output.status.success(), applied) {
            (true, Some(applied)) => Ok(applied),
            (success, _) => Err(describe_failed_process(
                output.status,
                success,
                &self.transcript,
                &String::from_utf8_lossy(&output.stderr),
            )),
        };
        (self.id, result)
    }
}

/// The versions after the [`APPLIED`] marker in a worker's output.
fn parse_applied(transcript: &str) -> Option<Vec<u64>> {
    let (_, rest) = transcript.split_once(APPLIED)?;
    let line = rest.lines().next().unwrap_or_default();
    line.split_whitespace()
        .map(|v| v.parse().ok())
        .collect::<Option<Vec<u64>>>()
}

fn describe_failed_process(
    status: ExitStatus,
    success: bool,
    stdout: &str,
    stderr: &str,
) -> String {
    let why = if success {
        "exited successfully without reporting what it applied"
    } else {
        "failed"
    };
    format!("process {why} ({status})\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}")
}

/// Asserts that every worker succeeded (none, in particular, with "database is locked") and
/// returns the versions each applied.
fn assert_every_worker_succeeded(outcomes: &[Outcome], context: &str) -> Vec<(u32, Vec<u64>)> {
    let failures: Vec<String> = outcomes
        .iter()
        .filter_map(|(id, result)| {
            let error = result.as_ref().err()?;
            let locked = if error.contains("database is locked") {
                " with \"database is locked\""
            } else {
                ""
            };
            Some(format!("worker {id} failed{locked}:\n{error}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{context}: {} of {WORKERS} workers failed\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    outcomes
        .iter()
        .map(|(id, result)| (*id, result.clone().expect("checked above")))
        .collect()
}

/// Asserts the promise on the database after a race: latest version, clean, one row in the
/// version table, each migration's side effect exactly once, by the worker that reported it.
fn assert_migrated_exactly_once(
    migrations: &Migrations,
    database: &Path,
    applied: &[(u32, Vec<u64>)],
    context: &str,
) {
    let conn = Connection::open(database).expect("opening the database");
    assert_eq!(
        migrations.version(&conn).expect("reading the version"),
        SchemaVersion {
            version: Some(LATEST),
            dirty: false
        },
        "{context}"
    );
    assert_eq!(
        count(&conn, "SELECT count(*) FROM schema_migrations"),
        1,
        "{context}"
    );

    let runs = runs_by_version(&conn);
    let once: Vec<(u64, i64)> = (1..=LATEST).map(|v| (v, 1)).collect();
    let counted: Vec<(u64, i64)> = runs.iter().map(|(v, n, _)| (*v, *n)).collect();
    assert_eq!(
        counted, once,
        "{context}: runs per migration (version, count)"
    );

    let mut reported: Vec<(u64, u32)> = applied
        .iter()
        .flat_map(|(id, versions)| versions.iter().map(move |v| (*v, *id)))
        .collect();
    reported.sort_unstable();
    let recorded: Vec<(u64, u32)> = runs.iter().map(|(v, _, worker)| (*v, *worker)).collect();
    assert_eq!(
        reported, recorded,
        "{context}: the workers' reports (version, worker) against the runs recorded"
    );

    for version in SLOW {
        let rows = count(&conn, &format!("SELECT count(*) FROM bulk_{version}"));
        assert_eq!(rows, BULK_ROWS, "{context}: rows of bulk_{version}");
    }
    assert_eq!(
        count(&conn, "SELECT count(*) FROM child"),
        CHILD_ROWS,
        "{context}: child rows"
    );
    assert_eq!(
        count(&conn, "SELECT count(*) FROM pragma_foreign_key_check"),
        0,
        "{context}"
    );
    for version in FOREIGN_KEYS_OFF {
        let column = format!("rebuilt_at_{version}");
        let sql =
            format!("SELECT count(*) FROM pragma_table_info('parent') WHERE name = '{column}'");
        assert_eq!(count(&conn, &sql), 1, "{context}: parent lacks {column}");
    }
}

/// `runs` grouped by version: (version, how many runs, the worker of the last one).
fn runs_by_version(conn: &Connection) -> Vec<(u64, i64, u32)> {
    let mut statement = conn
        .prepare(
            "SELECT version, count(*), max(worker) FROM runs GROUP BY version ORDER BY version",
        )
        .expect("preparing the runs query");
    statement
        .query_map([], |row| {
            Ok((row.get::<_, i64>(0)?, row.get(1)?, row.get(2)?))
        })
        .expect("querying runs")
        .map(|row| {
            let (version, runs, worker) = row.expect("reading runs");
            let version = u64::try_from(version).expect("a positive version in runs");
            (version, runs, worker)
        })
        .collect()
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |row| row.get(0))
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
}

/// "worker 3: 1-6; worker 5: 7; …", in version order: shows how the run was split.
fn describe_who_ran_what(applied: &[(u32, Vec<u64>)]) -> String {
    let by_version: BTreeMap<u64, u32> = applied
        .iter()
        .flat_map(|(id, versions)| versions.iter().map(move |v| (*v, *id)))
        .collect();
    let mut spans: Vec<(u32, u64, u64)> = Vec::new();
    for (version, id) in by_version {
        match spans.last_mut() {
            Some((last_id, _, end)) if *last_id == id && *end + 1 == version => *end = version,
            _ => spans.push((id, version, version)),
        }
    }
    let distinct: std::collections::BTreeSet<u32> = spans.iter().map(|(id, ..)| *id).collect();
    let spans: Vec<String> = spans
        .iter()
        .map(|(id, start, end)| {
            if start == end {
                format!("worker {id}: {start}")
            } else {
                format!("worker {id}: {start}-{end}")
            }
        })
        .collect();
    format!(
        "{} workers applied migrations ({})",
        distinct.len(),
        spans.join("; ")
    )
}
