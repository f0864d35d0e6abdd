//! Crash safety: a process applying migrations is killed with SIGKILL in the middle of a
//! migration, and every time the database is left at a version whose schema and data are
//! exactly those of a clean apply to that version, not dirty, and a new `up` completes.
//!
//! The migration set is written at run time: 8 migrations with long steps (recursive-CTE bulk
//! inserts of 40,000 rows into a table whose foreign key is enforced, index builds, a large
//! `UPDATE`, an archive that copies and deletes half a table) and one table recreation with
//! `PRAGMA foreign_keys = OFF` that rebuilds the parent of two `ON DELETE CASCADE` children and
//! the 40,000-row child itself. Every migration is transactional; a
//! `-- migrate:no-transaction` migration is documented as able to leave the database dirty.
//! Each up script starts with a progress marker, `INSERT INTO temp.progress (version) VALUES
//! (k);`: a row in a temporary table of the connection running it (not part of the database
//! file), which the worker observes with an update hook.
//!
//! The reference is computed once: a clean apply `to(v)` of every version `v` on a fresh
//! database, recording after each the database's fingerprint: every schema object (type, name,
//! SQL) except the runtime's own tables, and every table's row count and SHA-256 of its rows in
//! rowid order. The fingerprints of the versions are pairwise different, so a database whose
//! fingerprint equals one of them holds exactly that version's schema and data.
//!
//! Each trial starts a worker process (this test binary running the ignored test
//! [`crash_worker`] with `--ignored --exact`) on a fresh database file in one of four setups:
//! `up` with its default commits or with [`Options::commit_each_migration`], on a database in
//! rollback-journal mode (`DELETE`) or in `WAL` mode. A seeded PRNG picks, for each trial, a
//! migration `k` and how the kill lands:
//!
//! - **pinned** (the first 4 trials of every 8, one per setup): the worker's update hook stops
//!   the worker inside migration `k`, right after its marker, with the migration's transaction
//!   open, and reports it; the test then kills it. Every pinned kill lands inside the run, and
//!   the test asserts it: the worker never reported success, and the version found is below
//!   `k` (exactly `k - 1` with a commit after each migration; with the default commits, it
//!   depends on how many transactions the runtime makes, which the test does not assume);
//! - **delayed** (the other 4 of every 8): the worker reports reaching migration `k` and goes
//!   on; the test kills it after a delay drawn uniformly from 0 to 110 % of the share of an
//!   uninterrupted `up` left from migration `k` on (measured per setup, the fastest of two
//!   runs, each checked against the reference). These land anywhere: inside a statement,
//!   between migrations, after the last commit, or after `up` returned.
//!
//! After each kill the test checks that:
//!
//! - `version()` succeeds and is not dirty, and the golang-migrate table is well-formed;
//! - the database's fingerprint equals the reference of that version (so a kill never leaves
//!   a half-applied migration, a schema that matches no version, or a version that does not
//!   match the schema), `PRAGMA integrity_check` says `ok`, and no foreign key is violated (the
//!   children of the rebuilt parent survived);
//! - a new `up` in the same setup completes, and the database then equals the latest
//!   reference.
//!
//! Each trial is classified by what the kill interrupted: `up` itself with the database found
//! below the latest version (of those, the trials where SQLite had to roll back a write
//! transaction in progress: a hot rollback journal, or uncommitted frames at the end of the
//! WAL), `up` after its last commit, or nothing (the worker had already reported success). The
//! summary prints these counts, the versions the kills left, and the seed.
//!
//! The default run does 8 trials (2 per setup, 4 of them pinned) with seed 1, so it picks the
//! same migrations and delays every time. For a stress run, or another sequence, set the
//! count and the seed:
//!
//! ```text
//! MIGRATE_CRASH_TRIALS=200 MIGRATE_CRASH_SEED=7 cargo test --test crash -- --nocapture
//! ```

mod support;

use std::collections::BTreeMap;
use std::env;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::sync::mpsc::Receiver;
use std::thread;
use std::time::{Duration, Instant};

use migrate_core::Checksum;
use migrate_runtime::rusqlite::Connection;
use migrate_runtime::rusqlite::hooks::Action;
use migrate_runtime::{Migrations, Options};
use support::{JournalMode, Output, WorkerProcess};
use tempfile::TempDir;

/// The number of migrations, and so the latest version.
const LATEST: u64 = 8;
/// Rows of the `event` table, the long migrations' subject.
const EVENTS: u64 = 40_000;
const ACCOUNTS: u64 = 2_000;
const SESSIONS: u64 = 10_000;
/// The version table, and the prefix of every table the runtime owns (its history table):
/// left out of the fingerprints, since what the runtime records about a run (durations) differs
/// between runs.
const VERSION_TABLE: &str = "schema_migrations";

const DEFAULT_TRIALS: usize = 8;
const TRIALS_VAR: &str = "MIGRATE_CRASH_TRIALS";
const SEED_VAR: &str = "MIGRATE_CRASH_SEED";
/// The seed unless [`SEED_VAR`] says otherwise: every run picks the same kill points.
const DEFAULT_SEED: u64 = 1;
/// A delayed kill's delay is drawn from 0 to this share of the time an uninterrupted `up`
/// takes from the migration it is measured from.
const DELAY_SPAN: f64 = 1.1;
/// Uninterrupted runs per setup to measure that duration; the fastest counts (the first run
/// of a process is often slower, and a window too wide lands kills after `up` returned).
const CALIBRATION_RUNS: usize = 2;

/// The ignored test that, in a child process, is the worker.
const WORKER_TEST: &str = "crash_worker";
const MIGRATIONS_VAR: &str = "MIGRATE_CRASH_WORKER_MIGRATIONS";
const DATABASE_VAR: &str = "MIGRATE_CRASH_WORKER_DATABASE";
const COMMIT_EACH_VAR: &str = "MIGRATE_CRASH_WORKER_COMMIT_EACH";
/// The migration inside which the worker stops (pinned trials).
const STOP_AT_VAR: &str = "MIGRATE_CRASH_WORKER_STOP_AT";
/// What the worker prints just before it calls `up`.
const STARTED: &str = "[crash-worker started]";
/// What the worker prints when a migration's marker runs; the version follows.
const REACHED: &str = "[crash-worker reached]";
/// What the worker prints when it stops inside a migration, waiting to be killed.
const STOPPED: &str = "[crash-worker stopped]";
/// What the worker prints once `up` returned successfully.
const DONE: &str = "[crash-worker done]";

/// How a trial's worker runs.
#[derive(Clone, Copy, Debug)]
struct Setup {
    journal_mode: JournalMode,
    /// [`Options::commit_each_migration`].
    commit_each: bool,
}

const SETUPS: [Setup; 4] = [
    Setup {
        journal_mode: JournalMode::Delete,
        commit_each: false,
    },
    Setup {
        journal_mode: JournalMode::Wal,
        commit_each: false,
    },
    Setup {
        journal_mode: JournalMode::Delete,
        commit_each: true,
    },
    Setup {
        journal_mode: JournalMode::Wal,
        commit_each: true,
    },
];

impl Setup {
    fn label(self) -> String {
        let commits = if self.commit_each {
            "commit each"
        } else {
            "default commits"
        };
        format!(
            "{}, {commits}",
            self.journal_mode.pragma_value().to_uppercase()
        )
    }

    fn options(self) -> Options {
        Options::new().commit_each_migration(self.commit_each)
    }
}

/// Where a trial's kill is aimed.
#[derive(Clone, Copy, Debug)]
enum Kill {
    /// The worker stops inside migration `k` and is killed there.
    Pinned { k: u64 },
    /// The worker is killed `delay` after it reported reaching migration `k`.
    Delayed { k: u64, delay: Duration },
}

impl Kill {
    fn describe(self) -> String {
        match self {
            Kill::Pinned { k } => format!("killed while stopped inside migration {k}"),
            Kill::Delayed { k, delay } => format!(
                "killed {:.0} ms after reaching migration {k}",
                delay.as_secs_f64() * 1000.0
            ),
        }
    }
}

/// What a kill interrupted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Landed {
    /// `up` was running and the database was found below the latest version.
    MidRun,
    /// `up` was running, but had committed the latest version.
    AfterLastCommit,
    /// The worker had already reported that `up` returned.
    AfterUp,
}

#[test]
fn sigkill_in_the_middle_of_up_leaves_a_consistent_database_that_up_completes() {
    let started = Instant::now();
    let dir = TempDir::new().expect("temporary directory");
    let migrations_dir = dir.path().join("migrations");
    write_migration_set(&migrations_dir);
    let migrations = support::load_migration_set(&migrations_dir);
    assert_eq!(migrations.latest(), Some(LATEST));
    let reference = Reference::compute(&migrations, &dir.path().join("reference.db"));
    let trials = support::trials(TRIALS_VAR, DEFAULT_TRIALS);
    let seed = seed();
    let mut rng = SplitMix64(seed);
    eprintln!(
        "crash: seed {seed} ({SEED_VAR}), {trials} trials; reference computed in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let workers = Workers {
        migrations_dir: &migrations_dir,
        migrations: &migrations,
        reference: &reference,
    };
    let mut runs = BTreeMap::new();
    for (index, setup) in SETUPS.iter().enumerate() {
        let run = (1..=CALIBRATION_RUNS)
            .map(|number| {
                let database = dir.path().join(format!("calibration-{index}-{number}.db"));
                let run = workers.uninterrupted(*setup, &database);
                support::remove_database(&database);
                run
            })
            .min_by_key(|run| run.total)
            .expect("at least one calibration run");
        eprintln!(
            "{}: an uninterrupted up takes {:.0} ms (the fastest of {CALIBRATION_RUNS} runs)",
            setup.label(),
            run.total.as_secs_f64() * 1000.0
        );
        runs.insert(index, run);
    }

    let mut tally = Tally::default();
    for number in 1..=trials {
        let index = (number - 1) % SETUPS.len();
        let setup = SETUPS[index];
        let k = 1 + rng.next_u64() % LATEST;
        let pinned = ((number - 1) / SETUPS.len()).is_multiple_of(2);
        let kill = if pinned {
            Kill::Pinned { k }
        } else {
            let left = runs[&index].left_from(k);
            Kill::Delayed {
                k,
                delay: left.mul_f64(DELAY_SPAN * rng.unit()),
            }
        };
        let database = dir.path().join(format!("trial-{number}.db"));
        let outcome = workers.kill_and_recover(setup, &database, kill, number);
        eprintln!(
            "trial {number}/{trials} ({}): {}: {}",
            setup.label(),
            kill.describe(),
            outcome.describe()
        );
        tally.add(&setup, kill, &outcome);
        support::remove_database(&database);
    }
    eprintln!(
        "crash: {trials} trials in {:.1} s (seed {seed}): {}",
        started.elapsed().as_secs_f64(),
        tally.describe()
    );
    // The stated minimum: at least half the trials are pinned inside a migration, and each of
    // those landed while up was migrating (asserted trial by trial above).
    assert!(
        2 * tally.pinned >= trials && tally.count(Landed::MidRun) >= tally.pinned,
        "fewer than half the trials killed the worker while up was migrating ({})",
        tally.describe()
    );
}

/// The worker side of the crash test, run by it in a child process.
#[test]
#[ignore = "not a test: the worker process that the crash test starts and kills"]
fn crash_worker() {
    let var = |name: &str| env::var_os(name).unwrap_or_else(|| panic!("{name} is not set"));
    let (dir, database) = (var(MIGRATIONS_VAR), var(DATABASE_VAR));
    let commit_each = env::var_os(COMMIT_EACH_VAR).is_some();
    let stop_at: Option<i64> = env::var(STOP_AT_VAR).ok().map(|k| {
        k.parse()
            .unwrap_or_else(|_| panic!("{STOP_AT_VAR} must be a number, not {k:?}"))
    });
    let migrations = support::load_migration_set(Path::new(&dir));
    let mut conn = open_as_service(Path::new(&database));
    conn.update_hook(Some(
        move |action: Action, database: &str, table: &str, version: i64| {
            if action == Action::SQLITE_INSERT && database == "temp" && table == "progress" {
                support::report(&format!("{REACHED} {version}"));
                if stop_at == Some(version) {
                    support::report(&format!("{STOPPED} {version}"));
                    // Never answered: the test kills the worker here. If the test goes away
                    // instead, the worker exits without finishing the migration.
                    support::await_go_ahead();
                    std::process::exit(4);
                }
            }
        },
    ))
    .expect("installing the update hook");
    support::report(STARTED);
    let report = migrations
        .with_options(Options::new().commit_each_migration(commit_each))
        .up(&mut conn)
        .unwrap_or_else(|error| panic!("up failed: {error}\n{error:?}"));
    support::report(&format!("{DONE} {}", report.steps.len()));
}

/// What the trials share.
struct Workers<'a> {
    migrations_dir: &'a Path,
    migrations: &'a Migrations,
    reference: &'a Reference,
}

/// The timing of an uninterrupted `up`.
struct Run {
    total: Duration,
    /// When each migration's marker ran, from the start of `up`.
    reached: BTreeMap<u64, Duration>,
}

impl Run {
    /// The time an uninterrupted `up` takes from migration `k`'s marker to its end.
    fn left_from(&self, k: u64) -> Duration {
        let at = self.reached.get(&k).copied().unwrap_or_default();
        self.total.saturating_sub(at)
    }
}

/// What one trial found.
struct Outcome {
    landed: Landed,
    /// The version the kill left.
    found: Option<u64>,
    /// Whether SQLite found a write transaction to roll back (a hot journal, or uncommitted
    /// frames at the end of the WAL).
    interrupted_write: bool,
    /// How long the recovering `up` took.
    recovery: Duration,
}

impl Outcome {
    fn describe(&self) -> String {
        let landed = match self.landed {
            Landed::MidRun => "during up",
            Landed::AfterLastCommit => "during up, after its last commit",
            Landed::AfterUp => "after up returned",
        };
        let rolled_back = if self.interrupted_write {
            ", rolling back a write transaction in progress"
        } else {
            ""
        };
        format!(
            "{landed}; found at {}{rolled_back}, consistent; up resumed in {:.0} ms",
            version_text(self.found),
            self.recovery.as_secs_f64() * 1000.0
        )
    }
}

impl Workers<'_> {
    /// Runs a worker to the end on a fresh database and returns how long its `up` took and
    /// when it reached each migration; checks that the result equals the latest reference.
    fn uninterrupted(&self, setup: Setup, database: &Path) -> Run {
        support::prepare_database(database, setup.journal_mode);
        let mut worker = self.spawn(setup, database, None);
        worker.await_line(STARTED);
        let started = Instant::now();
        let mut reached = BTreeMap::new();
        loop {
            let line = worker.next_line();
            let Some(line) = line else {
                panic!(
                    "{}: the uninterrupted worker failed:\n{}",
                    setup.label(),
                    worker.process.describe_failure("failed")
                );
            };
            if let Some(k) = reached_version(&line) {
                reached.insert(k, started.elapsed());
            }
            if line.contains(DONE) {
                break;
            }
        }
        let total = started.elapsed();
        worker.process.wait();
        let conn = open_as_service(database);
        self.reference
            .assert_matches(&conn, Some(LATEST), &setup.label());
        Run { total, reached }
    }

    /// One trial: a worker killed as `kill` says, then the checks.
    fn kill_and_recover(
        &self,
        setup: Setup,
        database: &Path,
        kill: Kill,
        number: usize,
    ) -> Outcome {
        let context = format!("trial {number} ({}, {})", setup.label(), kill.describe());
        support::prepare_database(database, setup.journal_mode);
        let (stop_at, k) = match kill {
            Kill::Pinned { k } => (Some(k), k),
            Kill::Delayed { k, .. } => (None, k),
        };
        let mut worker = self.spawn(setup, database, stop_at);
        let marker = if stop_at.is_some() { STOPPED } else { REACHED };
        let mut seen = false;
        while let Some(line) = worker.next_line() {
            if line.contains(marker) && reached_version(&line) == Some(k) {
                seen = true;
                break;
            }
        }
        if !seen {
            panic!(
                "{context}: the worker ended before migration {k}:\n{}",
                worker.process.describe_failure("ended")
            );
        }
        if let Kill::Delayed { delay, .. } = kill {
            thread::sleep(delay);
        }
        worker.process.kill();
        while worker.next_line().is_some() {}
        let transcript = worker.process.transcript.clone();
        let interrupted_write = match setup.journal_mode {
            JournalMode::Delete => hot_journal(database),
            JournalMode::Wal => uncommitted_wal_frames(database) > 0,
        };

        let mut conn = open_as_service(database);
        let state = self
            .migrations
            .version(&conn)
            .unwrap_or_else(|error| panic!("{context}: version() after the kill: {error}"));
        assert!(
            !state.dirty,
            "{context}: the kill left the database dirty at {}",
            version_text(state.version)
        );
        self.reference
            .assert_matches(&conn, state.version, &context);
        assert_eq!(
            support::journal_mode_of(database),
            setup.journal_mode.pragma_value(),
            "{context}"
        );

        let landed = if transcript.contains(DONE) {
            Landed::AfterUp
        } else if state.version == Some(LATEST) {
            Landed::AfterLastCommit
        } else {
            Landed::MidRun
        };
        if let Kill::Pinned { k } = kill {
            let found = state.version.unwrap_or(0);
            assert_eq!(landed, Landed::MidRun, "{context}: {transcript}");
            assert!(
                found < k,
                "{context}: migration {k} was in progress, yet the database is at {found}"
            );
            if setup.commit_each {
                assert_eq!(
                    found,
                    k - 1,
                    "{context}: with a commit after each migration, every migration before {k} \
                     was committed"
                );
            }
        }

        let recovering = Instant::now();
        self.migrations
            .with_options(setup.options())
            .up(&mut conn)
            .unwrap_or_else(|error| panic!("{context}: up after the kill: {error}\n{error:?}"));
        let recovery = recovering.elapsed();
        self.reference
            .assert_matches(&conn, Some(LATEST), &format!("{context}, after up"));
        Outcome {
            landed,
            found: state.version,
            interrupted_write,
            recovery,
        }
    }

    fn spawn(&self, setup: Setup, database: &Path, stop_at: Option<u64>) -> Worker {
        let (sender, output) = support::output_channel();
        let stop_at = stop_at.map(|k| k.to_string());
        let mut vars: Vec<(&str, &OsStr)> = vec![
            (MIGRATIONS_VAR, self.migrations_dir.as_os_str()),
            (DATABASE_VAR, database.as_os_str()),
        ];
        if setup.commit_each {
            vars.push((COMMIT_EACH_VAR, OsStr::new("1")));
        }
        if let Some(k) = &stop_at {
            vars.push((STOP_AT_VAR, OsStr::new(k)));
        }
        let process = WorkerProcess::spawn(
            WORKER_TEST,
            1,
            &vars,
            &[COMMIT_EACH_VAR, STOP_AT_VAR],
            sender,
        );
        Worker { process, output }
    }
}

/// The version after [`REACHED`] or [`STOPPED`] in a worker's line.
fn reached_version(line: &str) -> Option<u64> {
    let (_, version) = line
        .split_once(REACHED)
        .or_else(|| line.split_once(STOPPED))?;
    version.trim().parse().ok()
}

/// A worker process and its output.
struct Worker {
    process: WorkerProcess,
    output: Receiver<support::Message>,
}

impl Worker {
    /// The next line the worker printed (recorded in its transcript), or `None` once its
    /// output ended.
    fn next_line(&mut self) -> Option<String> {
        match self.output.recv() {
            Ok((_, Output::Line(line))) => {
                self.process.record(&line);
                Some(line)
            }
            Ok((_, Output::End)) | Err(_) => None,
        }
    }

    /// Reads lines until one contains `marker`; panics if the output ends first.
    fn await_line(&mut self, marker: &str) {
        while let Some(line) = self.next_line() {
            if line.contains(marker) {
                return;
            }
        }
        panic!(
            "the worker ended before printing {marker}:\n{}",
            self.process.describe_failure("ended")
        );
    }
}

/// The fingerprint of every version, from a clean apply.
struct Reference {
    /// Index `v` holds version `v`'s fingerprint (0: nothing applied).
    fingerprints: Vec<Vec<String>>,
}

impl Reference {
    /// Applies `to(v)` for v = 1, 2, …, LATEST on a fresh database, recording the fingerprint
    /// after each.
    fn compute(migrations: &Migrations, database: &Path) -> Reference {
        let mut conn = open_as_service(database);
        let mut fingerprints = vec![fingerprint(&conn)];
        for version in 1..=LATEST {
            migrations
                .to(&mut conn, version)
                .unwrap_or_else(|error| panic!("reference to({version}): {error}"));
            fingerprints.push(fingerprint(&conn));
        }
        for (a, first) in fingerprints.iter().enumerate() {
            for (b, second) in fingerprints.iter().enumerate().skip(a + 1) {
                assert_ne!(
                    first, second,
                    "versions {a} and {b} have the same fingerprint"
                );
            }
        }
        Reference { fingerprints }
    }

    /// Asserts that the database is at `version`, clean, and equal to that version's reference.
    fn assert_matches(&self, conn: &Connection, version: Option<u64>, context: &str) {
        let found = fingerprint(conn);
        let index = usize::try_from(version.unwrap_or(0)).expect("a small version");
        let expected = self
            .fingerprints
            .get(index)
            .unwrap_or_else(|| panic!("{context}: version {index} is beyond the set"));
        if found != *expected {
            let matching: Vec<usize> = self
                .fingerprints
                .iter()
                .enumerate()
                .filter(|(_, f)| **f == found)
                .map(|(v, _)| v)
                .collect();
            panic!(
                "{context}: the database is recorded at {} but its schema and data {}\n\
                 --- found ---\n{}\n--- expected ---\n{}",
                version_text(version),
                if matching.is_empty() {
                    "match no version".to_owned()
                } else {
                    format!("are those of version(s) {matching:?}")
                },
                found.join("\n"),
                expected.join("\n")
            );
        }
        let integrity: String = conn
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .expect("running integrity_check");
        assert_eq!(integrity, "ok", "{context}");
        let violations: i64 = conn
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |row| {
                row.get(0)
            })
            .expect("running foreign_key_check");
        assert_eq!(violations, 0, "{context}: foreign-key violations");
    }
}

/// Every schema object but the runtime's own (type, name, SQL), and every table's row count
/// and the SHA-256 of its rows (rowid and every column, quoted) in rowid order.
fn fingerprint(conn: &Connection) -> Vec<String> {
    let mut statement = conn
        .prepare(
            "SELECT type, name, sql FROM sqlite_master \
             WHERE tbl_name NOT LIKE ?1 || '%' ORDER BY type, name",
        )
        .expect("preparing the schema query");
    let objects: Vec<(String, String, Option<String>)> = statement
        .query_map([VERSION_TABLE], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .expect("querying the schema")
        .collect::<Result<_, _>>()
        .expect("reading the schema");
    let mut lines = Vec::new();
    for (kind, name, sql) in objects {
        lines.push(format!("{kind} {name}: {}", sql.unwrap_or_default()));
        if kind == "table" {
            let (rows, digest) = table_digest(conn, &name);
            lines.push(format!("  {rows} rows, sha256 {digest}"));
        }
    }
    lines
}

fn table_digest(conn: &Connection, table: &str) -> (i64, Checksum) {
    let columns: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
        .and_then(|mut statement| {
            statement
                .query_map([table], |row| row.get(0))?
                .collect::<Result<_, _>>()
        })
        .expect("reading a table's columns");
    let mut row = "quote(rowid)".to_owned();
    for column in &columns {
        write!(row, " || ',' || quote(\"{}\")", column.replace('"', "\"\"")).expect("a String");
    }
    let sql = format!(
        "SELECT count(*), group_concat({row}, char(10) ORDER BY rowid) FROM \"{}\"",
        table.replace('"', "\"\"")
    );
    let (rows, text): (i64, Option<String>) = conn
        .query_row(&sql, [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap_or_else(|error| panic!("{sql}: {error}"));
    (rows, Checksum::of(&text.unwrap_or_default()))
}

/// Whether a rollback journal was left behind: the kill interrupted a write transaction after
/// it changed a page.
fn hot_journal(database: &Path) -> bool {
    fs::metadata(format!("{}-journal", database.display())).is_ok_and(|m| m.len() > 0)
}

/// The frames at the end of the WAL after its last commit frame: pages a transaction wrote
/// before the kill and never committed. (A transaction's pages reach the WAL before its commit
/// only when they overflow the page cache, so this undercounts interrupted transactions.)
fn uncommitted_wal_frames(database: &Path) -> usize {
    let Ok(wal) = fs::read(format!("{}-wal", database.display())) else {
        return 0;
    };
    let word = |at: usize| {
        wal.get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let (Some(page_size), Some(salt1), Some(salt2)) = (word(8), word(16), word(20)) else {
        return 0;
    };
    let frame_size = 24 + page_size as usize;
    let mut since_commit = 0;
    let mut at = 32;
    while at + frame_size <= wal.len() {
        if word(at + 8) != Some(salt1) || word(at + 12) != Some(salt2) {
            break;
        }
        since_commit = if word(at + 4).unwrap_or(0) == 0 {
            since_commit + 1
        } else {
            0
        };
        at += frame_size;
    }
    since_commit
}

/// The counts the summary reports.
#[derive(Default)]
struct Tally {
    landed: BTreeMap<Landed, usize>,
    interrupted_writes: usize,
    found: BTreeMap<Option<u64>, usize>,
    /// Trials whose kill was pinned inside a migration.
    pinned: usize,
    /// Per setup: trials, and kills that landed while `up` was migrating.
    by_setup: BTreeMap<String, (usize, usize)>,
}

impl Tally {
    fn add(&mut self, setup: &Setup, kill: Kill, outcome: &Outcome) {
        *self.landed.entry(outcome.landed).or_default() += 1;
        *self.found.entry(outcome.found).or_default() += 1;
        if outcome.interrupted_write {
            self.interrupted_writes += 1;
        }
        if let Kill::Pinned { .. } = kill {
            self.pinned += 1;
        }
        let (trials, mid_run) = self.by_setup.entry(setup.label()).or_default();
        *trials += 1;
        if outcome.landed == Landed::MidRun {
            *mid_run += 1;
        }
    }

    fn count(&self, landed: Landed) -> usize {
        self.landed.get(&landed).copied().unwrap_or(0)
    }

    fn describe(&self) -> String {
        let found: Vec<String> = self
            .found
            .iter()
            .map(|(version, n)| format!("{} ×{n}", version.unwrap_or(0)))
            .collect();
        let by_setup: Vec<String> = self
            .by_setup
            .iter()
            .map(|(label, (trials, mid_run))| format!("{label}: {mid_run} of {trials}"))
            .collect();
        format!(
            "{} kills landed while up was migrating (database found below the latest version; \
             {} of them interrupted a write transaction that SQLite rolled back; {} were pinned \
             inside a migration), {} after up's last commit, {} after up returned; while \
             migrating, by setup: {}; versions the kills left: {}; every database was \
             consistent and clean, and up completed on each",
            self.count(Landed::MidRun),
            self.interrupted_writes,
            self.pinned,
            self.count(Landed::AfterLastCommit),
            self.count(Landed::AfterUp),
            by_setup.join(", "),
            found.join(", ")
        )
    }
}

/// SplitMix64: a small, good PRNG, so a seed replays a run's delays.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// [`SEED_VAR`], or [`DEFAULT_SEED`].
fn seed() -> u64 {
    match env::var(SEED_VAR) {
        Ok(value) => value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{SEED_VAR} must be a number, not {value:?}")),
        Err(_) => DEFAULT_SEED,
    }
}

fn version_text(version: Option<u64>) -> String {
    version.map_or_else(|| "nothing applied".to_owned(), |v| format!("{v:06}"))
}

/// Opens a connection as a service does (foreign keys enforced), with the temporary table the
/// migrations' progress markers write to (it lives in the connection's own `temp` database,
/// outside the file).
fn open_as_service(database: &Path) -> Connection {
    let conn = Connection::open(database).expect("opening the database");
    conn.execute_batch(
        "PRAGMA foreign_keys = ON;\n\
         CREATE TEMP TABLE progress (version INTEGER PRIMARY KEY);",
    )
    .expect("preparing the connection");
    conn
}

/// The statement each up script starts with (see the module documentation).
fn progress_marker(version: u64) -> String {
    format!("INSERT INTO temp.progress (version) VALUES ({version});\n")
}

/// Writes the migration set described in the module documentation. The downs are marked
/// irreversible: this test only goes up.
fn write_migration_set(dir: &Path) {
    fs::create_dir(dir).expect("migrations directory");
    let numbers = |to: u64| {
        format!("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < {to})")
    };
    let token = "printf('%08x', (x * 2654435761) % 4294967296)";
    let ups = [
        (
            "accounts",
            format!(
                "CREATE TABLE account (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n\
                 CREATE TABLE session (\n    \
                     id INTEGER PRIMARY KEY,\n    \
                     account_id INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE,\n    \
                     token TEXT NOT NULL\n\
                 );\n\
                 {}\nINSERT INTO account (id, name) SELECT x, 'account-' || x FROM n;\n\
                 {}\nINSERT INTO session (id, account_id, token) \
                 SELECT x, 1 + x % {ACCOUNTS}, {token} FROM n;\n",
                numbers(ACCOUNTS),
                numbers(SESSIONS)
            ),
        ),
        (
            "events",
            format!(
                "CREATE TABLE event (\n    \
                     id INTEGER PRIMARY KEY,\n    \
                     account_id INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE,\n    \
                     kind TEXT NOT NULL,\n    \
                     payload TEXT NOT NULL\n\
                 );\n\
                 {}\nINSERT INTO event (id, account_id, kind, payload)\n\
                 SELECT x, 1 + (x * 7) % {ACCOUNTS},\n    \
                 CASE x % 4 WHEN 0 THEN 'login' WHEN 1 THEN 'view' \
                 WHEN 2 THEN 'edit' ELSE 'logout' END,\n    \
                 {token} || '-' || x || '-' || hex(zeroblob(x % 24))\n\
                 FROM n;\n",
                numbers(EVENTS)
            ),
        ),
        (
            "event_indexes",
            "CREATE INDEX event_by_account ON event (account_id, kind);\n\
             CREATE INDEX event_by_payload ON event (payload);\n"
                .to_owned(),
        ),
        (
            "rebuild_account_and_event",
            // SQLite's table recreation: with enforcement on, `DROP TABLE account` would delete
            // every session and event through ON DELETE CASCADE.
            "PRAGMA foreign_keys = OFF;\n\
             CREATE TABLE account_new (\n    \
                 id INTEGER PRIMARY KEY,\n    \
                 name TEXT NOT NULL,\n    \
                 email TEXT NOT NULL\n\
             );\n\
             INSERT INTO account_new (id, name, email)\n\
             SELECT id, name, name || '@example.com' FROM account;\n\
             DROP TABLE account;\n\
             ALTER TABLE account_new RENAME TO account;\n\
             CREATE TABLE event_new (\n    \
                 id INTEGER PRIMARY KEY,\n    \
                 account_id INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE,\n    \
                 kind TEXT NOT NULL,\n    \
                 payload TEXT NOT NULL,\n    \
                 day INTEGER NOT NULL\n\
             );\n\
             INSERT INTO event_new (id, account_id, kind, payload, day)\n\
             SELECT id, account_id, kind, payload, id % 365 FROM event;\n\
             DROP TABLE event;\n\
             ALTER TABLE event_new RENAME TO event;\n\
             CREATE INDEX event_by_account ON event (account_id, kind);\n\
             CREATE INDEX event_by_payload ON event (payload);\n\
             PRAGMA foreign_keys = ON;\n"
                .to_owned(),
        ),
        (
            "event_totals",
            "CREATE TABLE account_total (\n    \
                 account_id INTEGER PRIMARY KEY REFERENCES account (id) ON DELETE CASCADE,\n    \
                 events INTEGER NOT NULL,\n    \
                 bytes INTEGER NOT NULL\n\
             );\n\
             INSERT INTO account_total (account_id, events, bytes)\n\
             SELECT account_id, count(*), sum(length(payload)) FROM event GROUP BY account_id;\n\
             UPDATE event SET kind = upper(kind), payload = payload || '!' WHERE id % 3 = 0;\n"
                .to_owned(),
        ),
        (
            "archive_old_events",
            "CREATE TABLE event_archive (\n    \
                 id INTEGER PRIMARY KEY,\n    \
                 account_id INTEGER NOT NULL,\n    \
                 kind TEXT NOT NULL,\n    \
                 payload TEXT NOT NULL,\n    \
                 day INTEGER NOT NULL\n\
             );\n\
             INSERT INTO event_archive\n\
             SELECT id, account_id, kind, payload, day FROM event WHERE day < 120;\n\
             DELETE FROM event WHERE day < 120;\n"
                .to_owned(),
        ),
        (
            "active_accounts",
            "CREATE VIEW active_account AS\n\
             SELECT a.id, a.email, count(s.id) AS sessions\n\
             FROM account a JOIN session s ON s.account_id = a.id GROUP BY a.id;\n\
             CREATE TRIGGER event_counts AFTER INSERT ON event BEGIN\n    \
                 UPDATE account_total SET events = events + 1 WHERE account_id = NEW.account_id;\n\
             END;\n"
                .to_owned(),
        ),
        (
            "more_sessions",
            format!(
                "{}\nINSERT INTO session (id, account_id, token)\n\
                 SELECT {SESSIONS} + x, 1 + x % {ACCOUNTS}, {token} FROM n;\n\
                 CREATE INDEX session_by_account ON session (account_id);\n",
                numbers(EVENTS / 2)
            ),
        ),
    ];
    assert_eq!(ups.len() as u64, LATEST);
    for (index, (name, up)) in ups.iter().enumerate() {
        let version = index + 1;
        let base = format!("{version:06}_{name}");
        let up = format!("{}{up}", progress_marker(version as u64));
        fs::write(dir.join(format!("{base}.up.sql")), up).expect("writing an up file");
        fs::write(
            dir.join(format!("{base}.down.sql")),
            "-- migrate:irreversible the crash test only goes up\n",
        )
        .expect("writing a down file");
    }
}
