//! Concurrent starters: several processes, and several connections in one process, calling
//! `up` on one database file at once all end at the latest version, each migration runs
//! exactly once, and none fails with "database is locked".
//!
//! The migration set is written at run time: 20 migrations, each of which ends by recording
//! its own run as a row in `runs` (with the id of the worker whose connection ran it), three
//! of which insert 200,000 rows, and three of which rebuild a parent table with
//! `PRAGMA foreign_keys = OFF` while a child table references it with `ON DELETE CASCADE`.
//! (`-- migrate:no-transaction` migrations are left out on purpose: they are documented as
//! not protected against concurrent starters.)
//!
//! # The interleaving is forced, not left to luck
//!
//! Each trial starts 8 workers on a fresh database file. Every worker's run carries an
//! authorizer (`Options::authorizer`; SQLite calls it when a statement is prepared) that reports two moments to the
//! test and waits for its go-ahead: the runtime preparing `BEGIN` (the worker holds no lock
//! yet), and a migration preparing its `INSERT INTO runs` (the worker holds the write lock,
//! inside a migration transaction). With these the test conducts every trial the same way:
//!
//! 0. the test applies migration 1 itself, so the database has a version to read;
//! 1. one worker (the leader, a different one each trial) starts alone, and is held inside
//!    its first migration transaction, holding the write lock;
//! 2. the other 7 start, read the version (the runtime's idle check) while the leader holds
//!    the lock, and begin their own transactions, so they queue on SQLite's lock; only then is
//!    the leader let go;
//! 3. a worker that has committed a transaction may not begin another while any other worker
//!    is still running, until another worker has taken the lock: so every transaction after
//!    the first is run by a different worker than the transaction before it.
//!
//! So in every trial each worker must read the version inside its own transaction, after the
//! lock was handed over: a runtime that trusted the version read before the lock, or one that
//! stopped re-reading it between its own transactions, runs a migration twice in every trial
//! (the `runs` checks below fail). With [`Options::commit_each_migration`] each of the 19
//! migrations left is a transaction of its own, so the migrations are split among workers in
//! every trial (consecutive migrations by different workers). With the default commits, a run
//! splits into as many pieces as the runtime has transactions, and the trial checks the same
//! hand-over at each boundary.
//!
//! The workers are real OS processes (the test binary run again with `--ignored --exact
//! worker_process --nocapture`; run alone, `worker_process` is an ignored test), or threads of
//! this process, each with its own connection; processes also run on a database switched to
//! `journal_mode = WAL` beforehand, and with a commit after each migration.
//!
//! After each trial the test checks that every worker succeeded, that the database is at the
//! latest version and clean with exactly one row in `schema_migrations`, that `runs` holds
//! exactly one row per migration, that the workers' reports together name every migration
//! exactly once and agree with `runs` on who ran it, that consecutive transactions were run by
//! different workers, that the slow migrations inserted all their rows, and that the child
//! rows survived the parent rebuilds with no foreign-key violation. The default run does 3
//! trials per test; for a stress run, raise the count with `MIGRATE_RACE_TRIALS`:
//!
//! ```text
//! MIGRATE_RACE_TRIALS=100 cargo test --test concurrency -- --nocapture
//! ```

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Instant;

use migrate_runtime::rusqlite::Connection;
use migrate_runtime::rusqlite::hooks::{
    AuthAction, AuthContext, Authorization, TransactionOperation,
};
use migrate_runtime::{Error, Migrations, Options, SchemaVersion};
use support::{JournalMode, Output, WorkerProcess};
use tempfile::TempDir;

/// How many workers race in each trial.
const WORKERS: u32 = 8;
/// The number of migrations, and so the latest version.
const LATEST: u64 = 20;
/// The migrations that insert [`BULK_ROWS`] rows each.
const SLOW: [u64; 3] = [4, 10, 16];
/// The migrations that rebuild the parent table with foreign-key enforcement off.
const FOREIGN_KEYS_OFF: [u64; 3] = [7, 13, 18];
const BULK_ROWS: i64 = 200_000;
/// Rows of the child table, which references the parent with `ON DELETE CASCADE`: a rebuild
/// that ran with enforcement on would delete them when it drops the old parent.
const CHILD_ROWS: i64 = 6;

/// Trials per test unless [`TRIALS_VAR`] says otherwise.
const DEFAULT_TRIALS: usize = 3;
const TRIALS_VAR: &str = "MIGRATE_RACE_TRIALS";

/// The ignored test that, in a child process, is the worker.
const WORKER_TEST: &str = "worker_process";
const MIGRATIONS_VAR: &str = "MIGRATE_RACE_WORKER_MIGRATIONS";
const DATABASE_VAR: &str = "MIGRATE_RACE_WORKER_DATABASE";
const WORKER_ID_VAR: &str = "MIGRATE_RACE_WORKER_ID";
/// Set when the worker should commit after each migration.
const COMMIT_EACH_VAR: &str = "MIGRATE_RACE_WORKER_COMMIT_EACH";

/// What a worker reports, each on a line of its own; the first three wait for the test's
/// go-ahead. Its connection is open and it waits for the start:
const READY: &str = "[race-worker ready]";
/// The runtime is preparing `BEGIN` (no lock held):
const BEGIN: &str = "[race-worker begin]";
/// A migration is preparing its `INSERT INTO runs` (the write lock held):
const HOLDING: &str = "[race-worker holding]";
/// `up` succeeded; the versions it applied follow.
const APPLIED: &str = "[race-worker applied]";
/// `up` failed (threads; a process panics instead); the error follows.
const FAILED: &str = "[race-worker failed]";

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

/// One trial's inputs.
struct Trial<'a> {
    migrations_dir: &'a Path,
    migrations: &'a Migrations,
    database: &'a Path,
    commit_each: bool,
    /// The worker that starts alone.
    leader: u32,
}

/// What one worker did: its id and the versions its `up` applied, or why it failed.
type Outcome = (u32, Result<Vec<u64>, String>);

#[test]
fn concurrent_processes_end_at_latest_with_each_migration_run_once() {
    race_in_trials(Setup {
        label: "processes",
        workers: Workers::Processes,
        journal_mode: JournalMode::Delete,
        commit_each: false,
    });
}

#[test]
fn concurrent_connections_in_one_process_end_at_latest_with_each_migration_run_once() {
    race_in_trials(Setup {
        label: "threads",
        workers: Workers::Threads,
        journal_mode: JournalMode::Delete,
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

/// With a commit after every migration, the write lock changes hands after every migration:
/// the 20 migrations are split among the workers in every trial.
#[test]
fn concurrent_processes_committing_each_migration_behave_the_same() {
    race_in_trials(Setup {
        label: "processes, commit each",
        workers: Workers::Processes,
        journal_mode: JournalMode::Delete,
        commit_each: true,
    });
}

/// The worker side of [`race_processes`], run by the test in a child process.
#[test]
#[ignore = "not a test: the worker process that the concurrency tests start"]
fn worker_process() {
    let var = |name: &str| std::env::var_os(name).unwrap_or_else(|| panic!("{name} is not set"));
    let (dir, database, id) = (var(MIGRATIONS_VAR), var(DATABASE_VAR), var(WORKER_ID_VAR));
    let id: u32 = id
        .to_str()
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("{WORKER_ID_VAR} must be a number, not {id:?}"));
    let commit_each = std::env::var_os(COMMIT_EACH_VAR).is_some();
    let migrations = support::load_migration_set(Path::new(&dir));
    let (mut conn, options) = open_as_worker(Path::new(&database), id, Gate::Process);
    Gate::Process.pass(READY);
    match migrate_up(&migrations, &mut conn, options, commit_each) {
        Ok(versions) => support::report(&format!("{APPLIED}{}", format_versions(&versions))),
        Err(error) => panic!("worker {id}: up failed: {error}\n{error:?}"),
    }
}

/// Runs the race of `setup` on a fresh database [`DEFAULT_TRIALS`] times (or
/// [`TRIALS_VAR`]) and checks the result of each.
fn race_in_trials(setup: Setup) {
    let label = setup.label;
    let dir = TempDir::new().expect("temporary directory");
    let migrations_dir = dir.path().join("migrations");
    write_migration_set(&migrations_dir);
    let migrations = support::load_migration_set(&migrations_dir);
    assert_eq!(migrations.latest(), Some(LATEST));
    let trials = support::trials(TRIALS_VAR, DEFAULT_TRIALS);
    let started = Instant::now();
    for number in 1..=trials {
        let database = dir.path().join(format!("trial-{number}.db"));
        prepare_trial(&migrations, &database, setup.journal_mode);
        let trial = Trial {
            migrations_dir: &migrations_dir,
            migrations: &migrations,
            database: &database,
            commit_each: setup.commit_each,
            leader: 1 + u32::try_from(number - 1).expect("a small trial number") % WORKERS,
        };
        let trial_started = Instant::now();
        let (outcomes, transactions) = match setup.workers {
            Workers::Processes => race_processes(&trial),
            Workers::Threads => race_threads(&trial),
        };
        let elapsed = trial_started.elapsed();
        let context = format!("{label}, trial {number}");
        let mut applied = assert_every_worker_succeeded(&outcomes, &context);
        assert_handed_over(&transactions, &applied, setup.commit_each, &context);
        applied.push((THE_TEST, (1..=PREPARED).collect()));
        assert_migrated_exactly_once(&migrations, &database, &applied, &context);
        if setup.journal_mode == JournalMode::Wal {
            assert_eq!(support::journal_mode_of(&database), "wal", "{context}");
        }
        eprintln!(
            "{label}, trial {number}/{trials}: {:.0} ms; {} transactions, by workers {:?}; {}",
            elapsed.as_secs_f64() * 1000.0,
            transactions.len(),
            transactions,
            describe_who_ran_what(&applied)
        );
        support::remove_database(&database);
    }
    eprintln!(
        "{label}: {trials} trials of {WORKERS} workers in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// `up` as a service calls it, with the defaults but for the worker's authorizer, or with
/// [`Options::commit_each_migration`]. Returns the versions applied.
fn migrate_up(
    migrations: &Migrations,
    conn: &mut Connection,
    options: Options,
    commit_each: bool,
) -> Result<Vec<u64>, Error> {
    let report = migrations
        .with_options(options.commit_each_migration(commit_each))
        .up(conn)?;
    Ok(report.steps.iter().map(|step| step.version).collect())
}

// ---------------------------------------------------------------------------------------------
// The worker side: reporting a moment and waiting for the go-ahead

/// How a worker reports a moment to the test and waits for its go-ahead.
#[derive(Clone)]
enum Gate {
    /// A worker process: a line on standard output, then a line from standard input.
    Process,
    /// A worker thread: a message on the test's channel, then one on its own.
    Thread {
        id: u32,
        output: Sender<(u32, Output)>,
        go: Arc<Mutex<Receiver<()>>>,
    },
}

impl Gate {
    /// Reports `marker` and waits until the test lets the worker go on.
    fn pass(&self, marker: &str) {
        match self {
            Gate::Process => {
                support::report(marker);
                support::await_go_ahead();
            }
            Gate::Thread { id, output, go } => {
                let _ = output.send((*id, Output::Line(marker.to_owned())));
                let go = go.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                // The test dropped its end: it failed, and the worker goes on to its end.
                let _ = go.recv();
            }
        }
    }
}

/// Opens a connection as a service does (foreign keys enforced) and records the worker's id in
/// a temporary table for [`record_run`] (temporary tables live in the connection's own `temp`
/// database and take no lock on the file). Returns it with the options that install the
/// authorizer passing the [`BEGIN`] and [`HOLDING`] moments through `gate` (a run replaces the
/// connection's authorizer with its own, which calls the one given in the options).
fn open_as_worker(database: &Path, id: u32, gate: Gate) -> (Connection, Options) {
    let conn = open_recording_as(database, id);
    let options = Options::new().authorizer(move |context: &AuthContext<'_>| {
        match context.action {
            AuthAction::Transaction {
                operation: TransactionOperation::Begin,
            } => gate.pass(BEGIN),
            AuthAction::Insert { table_name: "runs" } => gate.pass(HOLDING),
            _ => {}
        }
        Authorization::Allow
    });
    (conn, options)
}

/// Opens a connection as a service does (foreign keys enforced) whose migrations record `id`
/// as the worker in `runs`.
fn open_recording_as(database: &Path, id: u32) -> Connection {
    let conn = Connection::open(database).expect("opening the database");
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys = ON;\n\
         CREATE TEMP TABLE worker (id INTEGER NOT NULL);\n\
         INSERT INTO temp.worker (id) VALUES ({id});"
    ))
    .expect("preparing the connection");
    conn
}

/// The worker id the test records for the migrations it applies itself before a trial.
const THE_TEST: u32 = 0;
/// The version every trial's database starts at, applied by the test.
const PREPARED: u64 = 1;

/// Brings a trial's database to [`PREPARED`], so that the version the workers read before
/// they take the lock is a real one that the leader's commits then make stale.
fn prepare_trial(migrations: &Migrations, database: &Path, journal_mode: JournalMode) {
    support::prepare_database(database, journal_mode);
    let mut conn = open_recording_as(database, THE_TEST);
    migrations
        .to(&mut conn, PREPARED)
        .expect("preparing the trial's database");
}

fn format_versions(versions: &[u64]) -> String {
    versions.iter().map(|v| format!(" {v}")).collect::<String>()
}

// ---------------------------------------------------------------------------------------------
// The test side: the conductor

/// Lets one worker go on, and learns how a worker ended.
trait Crew {
    fn go(&mut self, id: u32);
    fn record(&mut self, id: u32, line: &str);
    /// Called once a worker's output ended: `Err` with everything it printed if it failed.
    fn ended(&mut self, id: u32, reported: Option<&Result<Vec<u64>, String>>)
    -> Result<(), String>;
}

/// Conducts one trial as the module documentation describes; returns what each worker did
/// and, for each transaction that applied migrations, the worker that ran it.
struct Conductor {
    leader: u32,
    others_started: bool,
    /// Workers started after the leader that have not yet begun their first transaction.
    awaiting_first_begin: BTreeSet<u32>,
    /// The leader, held inside its first transaction until the others queue on the lock.
    leader_on_hold: Option<u32>,
    /// Whether a worker's current transaction already reported [`HOLDING`].
    in_transaction: BTreeMap<u32, bool>,
    /// The worker of the last transaction that applied migrations.
    last_holder: Option<u32>,
    /// The last holder, waiting at `BEGIN` until another worker takes the lock.
    deferred: Option<u32>,
    /// The worker of each transaction that applied migrations, in order.
    transactions: Vec<u32>,
    reported: BTreeMap<u32, Result<Vec<u64>, String>>,
    ended: BTreeMap<u32, Result<Vec<u64>, String>>,
}

impl Conductor {
    fn run(
        crew: &mut impl Crew,
        output: &Receiver<(u32, Output)>,
        leader: u32,
    ) -> (Vec<Outcome>, Vec<u32>) {
        let mut conductor = Conductor {
            leader,
            others_started: false,
            awaiting_first_begin: BTreeSet::new(),
            leader_on_hold: None,
            in_transaction: BTreeMap::new(),
            last_holder: None,
            deferred: None,
            transactions: Vec::new(),
            reported: BTreeMap::new(),
            ended: BTreeMap::new(),
        };
        // Every worker opens its connection and waits.
        let mut ready = BTreeSet::new();
        while ready.len() + conductor.ended.len() < WORKERS as usize {
            let (id, output) = output.recv().expect("the workers' output");
            match output {
                Output::Line(line) if line.contains(READY) => {
                    ready.insert(id);
                }
                Output::Line(line) => crew.record(id, &line),
                Output::End => conductor.end(crew, id),
            }
        }
        if conductor.ended.is_empty() {
            crew.go(leader);
        } else {
            // A worker failed before the start: let the others run, to report everything.
            for id in ready {
                crew.go(id);
            }
            conductor.others_started = true;
        }
        while conductor.ended.len() < WORKERS as usize {
            let (id, output) = output.recv().expect("the workers' output");
            match output {
                Output::Line(line) => {
                    crew.record(id, &line);
                    if line.contains(BEGIN) {
                        conductor.begin(crew, id);
                    } else if line.contains(HOLDING) {
                        conductor.holding(crew, id);
                    } else if let Some((_, versions)) = line.split_once(APPLIED) {
                        let versions = versions
                            .split_whitespace()
                            .map(|v| v.parse().map_err(|_| format!("bad report: {line}")))
                            .collect();
                        conductor.reported.insert(id, versions);
                    } else if let Some((_, error)) = line.split_once(FAILED) {
                        conductor.reported.insert(id, Err(error.to_owned()));
                    }
                }
                Output::End => conductor.end(crew, id),
            }
        }
        (
            conductor.ended.into_iter().collect(),
            conductor.transactions,
        )
    }

    /// Whether a worker other than `id` has started and not ended.
    fn someone_else_running(&self, id: u32) -> bool {
        (1..=WORKERS).any(|other| {
            other != id
                && !self.ended.contains_key(&other)
                && (other == self.leader || self.others_started)
        })
    }

    fn begin(&mut self, crew: &mut impl Crew, id: u32) {
        self.in_transaction.insert(id, false);
        if self.awaiting_first_begin.remove(&id) {
            crew.go(id);
            self.release_leader_once_all_queued(crew);
        } else if self.others_started
            && self.last_holder == Some(id)
            && self.someone_else_running(id)
        {
            self.deferred = Some(id);
        } else {
            crew.go(id);
        }
    }

    fn holding(&mut self, crew: &mut impl Crew, id: u32) {
        if self.in_transaction.get(&id) == Some(&true) {
            // A later migration of the same transaction.
            crew.go(id);
            return;
        }
        self.in_transaction.insert(id, true);
        self.transactions.push(id);
        self.last_holder = Some(id);
        if let Some(deferred) = self.deferred.filter(|d| *d != id) {
            self.deferred = None;
            crew.go(deferred);
        }
        if self.others_started {
            crew.go(id);
            return;
        }
        self.others_started = true;
        self.leader_on_hold = Some(id);
        for other in (1..=WORKERS).filter(|o| *o != id && !self.ended.contains_key(o)) {
            self.awaiting_first_begin.insert(other);
            crew.go(other);
        }
        self.release_leader_once_all_queued(crew);
    }

    fn release_leader_once_all_queued(&mut self, crew: &mut impl Crew) {
        if self.awaiting_first_begin.is_empty()
            && let Some(leader) = self.leader_on_hold.take()
        {
            crew.go(leader);
        }
    }

    fn end(&mut self, crew: &mut impl Crew, id: u32) {
        let reported = self.reported.remove(&id);
        let result = match crew.ended(id, reported.as_ref()) {
            Ok(()) => reported.unwrap_or_else(|| Err("ended without a report".to_owned())),
            Err(failure) => Err(failure),
        };
        self.ended.insert(id, result);
        self.awaiting_first_begin.remove(&id);
        self.release_leader_once_all_queued(crew);
        if let Some(deferred) = self.deferred
            && !self.someone_else_running(deferred)
        {
            self.deferred = None;
            crew.go(deferred);
        }
    }
}

/// Worker processes, by id.
struct Processes(BTreeMap<u32, WorkerProcess>);

impl Crew for Processes {
    fn go(&mut self, id: u32) {
        if let Some(worker) = self.0.get_mut(&id) {
            worker.send("go");
        }
    }

    fn record(&mut self, id: u32, line: &str) {
        if let Some(worker) = self.0.get_mut(&id) {
            worker.record(line);
        }
    }

    fn ended(
        &mut self,
        id: u32,
        reported: Option<&Result<Vec<u64>, String>>,
    ) -> Result<(), String> {
        let worker = self.0.get_mut(&id).expect("a worker of this trial");
        let (status, _) = worker.wait();
        if status.success() && reported.is_some() {
            Ok(())
        } else {
            Err(worker.describe_failure("failed"))
        }
    }
}

/// One trial with the workers as processes.
fn race_processes(trial: &Trial<'_>) -> (Vec<Outcome>, Vec<u32>) {
    let (sender, output) = support::output_channel();
    let workers = (1..=WORKERS)
        .map(|id| {
            let id_text = id.to_string();
            let mut vars: Vec<(&str, &OsStr)> = vec![
                (MIGRATIONS_VAR, trial.migrations_dir.as_os_str()),
                (DATABASE_VAR, trial.database.as_os_str()),
                (WORKER_ID_VAR, OsStr::new(&id_text)),
            ];
            if trial.commit_each {
                vars.push((COMMIT_EACH_VAR, OsStr::new("1")));
            }
            let worker =
                WorkerProcess::spawn(WORKER_TEST, id, &vars, &[COMMIT_EACH_VAR], sender.clone());
            (id, worker)
        })
        .collect();
    drop(sender);
    Conductor::run(&mut Processes(workers), &output, trial.leader)
}

/// Worker threads: the go-ahead channel of each.
struct Threads(BTreeMap<u32, Sender<()>>);

impl Crew for Threads {
    fn go(&mut self, id: u32) {
        if let Some(go) = self.0.get(&id) {
            let _ = go.send(());
        }
    }

    fn record(&mut self, _id: u32, _line: &str) {}

    fn ended(
        &mut self,
        _id: u32,
        _reported: Option<&Result<Vec<u64>, String>>,
    ) -> Result<(), String> {
        Ok(())
    }
}

/// One trial with the workers as threads of this process, each with its own connection.
fn race_threads(trial: &Trial<'_>) -> (Vec<Outcome>, Vec<u32>) {
    let (sender, output) = support::output_channel();
    thread::scope(|scope| {
        let mut goes = BTreeMap::new();
        for id in 1..=WORKERS {
            let (go, go_ahead) = channel();
            goes.insert(id, go);
            let gate = Gate::Thread {
                id,
                output: sender.clone(),
                go: Arc::new(Mutex::new(go_ahead)),
            };
            let sender = sender.clone();
            scope.spawn(move || {
                let (mut conn, options) = open_as_worker(trial.database, id, gate.clone());
                gate.pass(READY);
                let line = match migrate_up(trial.migrations, &mut conn, options, trial.commit_each)
                {
                    Ok(versions) => format!("{APPLIED}{}", format_versions(&versions)),
                    Err(error) => format!("{FAILED} {error}\n{error:?}"),
                };
                // The authorizer holds a clone of the channel: close the connection first.
                drop(conn);
                let _ = sender.send((id, Output::Line(line)));
                let _ = sender.send((id, Output::End));
            });
        }
        drop(sender);
        Conductor::run(&mut Threads(goes), &output, trial.leader)
    })
}

/// Asserts that the test did force the hand-over it is there for: each transaction that
/// applied migrations was run by a different worker than the one before, and with a commit
/// after each migration there is one such transaction per migration.
fn assert_handed_over(
    transactions: &[u32],
    applied: &[(u32, Vec<u64>)],
    commit_each: bool,
    context: &str,
) {
    assert!(
        !transactions.is_empty(),
        "{context}: no worker applied anything"
    );
    for pair in transactions.windows(2) {
        assert_ne!(
            pair[0], pair[1],
            "{context}: one worker ran two transactions in a row ({transactions:?}): the test did \
             not force the hand-over"
        );
    }
    let appliers = applied
        .iter()
        .filter(|(_, versions)| !versions.is_empty())
        .count();
    if commit_each {
        assert_eq!(
            transactions.len() as u64,
            LATEST - PREPARED,
            "{context}: transactions that applied migrations"
        );
    }
    if transactions.len() > 1 {
        assert!(
            appliers > 1,
            "{context}: {} transactions but one worker applied every migration",
            transactions.len()
        );
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
    let distinct: BTreeSet<u32> = spans
        .iter()
        .map(|(id, ..)| *id)
        .filter(|id| *id != THE_TEST)
        .collect();
    let spans: Vec<String> = spans
        .iter()
        .map(|(id, start, end)| {
            let who = if *id == THE_TEST {
                "the test".to_owned()
            } else {
                format!("worker {id}")
            };
            if start == end {
                format!("{who}: {start}")
            } else {
                format!("{who}: {start}-{end}")
            }
        })
        .collect();
    format!(
        "{} workers applied migrations ({})",
        distinct.len(),
        spans.join("; ")
    )
}
