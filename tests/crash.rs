//! Crash safety: a process applying migrations is killed with SIGKILL at random moments, and
//! every time the database is left at a version whose schema and data are exactly those of a
//! clean apply to that version, not dirty, and a new `up` completes.
//!
//! The migration set is written at run time: 8 migrations with long steps (recursive-CTE bulk
//! inserts of 40,000 rows into a table whose foreign key is enforced, index builds, a large
//! `UPDATE`, an archive that copies and deletes half a table) and one table recreation with
//! `PRAGMA foreign_keys = OFF` that rebuilds the parent of two `ON DELETE CASCADE` children and
//! the 120,000-row child itself. Every migration is transactional; a
//! `-- migrate:no-transaction` migration is documented as able to leave the database dirty.
//!
//! The reference is computed once: a clean apply `to(v)` of every version `v` on a fresh
//! database, recording after each the database's fingerprint: every schema object (type, name,
//! SQL) except the runtime's own tables, and every table's row count and SHA-256 of its rows in
//! rowid order. The fingerprints of the versions are pairwise different, so a database whose
//! fingerprint equals one of them holds exactly that version's schema and data.
//!
//! Each trial starts a worker process (this test binary running [`crash_worker`]) on a fresh
//! database file in one of four setups: `up` in its default mode (the set is applied in three
//! transactions: 1-3, the foreign-keys-off migration 4 alone, 5-8) or with
//! [`Options::commit_each_migration`] (a commit after each of the 8), on a database in
//! rollback-journal mode (`DELETE`) or in `WAL` mode. The worker prints a line just before it
//! calls `up`; the test waits for that line, sleeps for a delay drawn from a seeded PRNG,
//! uniformly between 0 and 110 % of the time an uninterrupted `up` takes in that setup
//! (the fastest of two runs per setup, each checked against the reference), and kills the
//! worker with SIGKILL ([`Child::kill`]). Then it checks that:
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
//! The default run does 8 trials (2 per setup) with a seed from the clock. For a stress run,
//! or to replay a run's delays, set the count and the seed:
//!
//! ```text
//! MIGRATE_CRASH_TRIALS=200 MIGRATE_CRASH_SEED=1 cargo test --test crash -- --nocapture
//! ```

use std::collections::BTreeMap;
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use migrate_core::Checksum;
use migrate_runtime::rusqlite::Connection;
use migrate_runtime::{Migrations, Options};
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
/// The kill delay is drawn from 0 to this share of an uninterrupted `up`'s duration.
const DELAY_SPAN: f64 = 1.1;
/// Uninterrupted runs per setup to measure that duration; the fastest counts (the first run
/// of a process is often slower, and a window too wide lands kills after `up` returned).
const CALIBRATION_RUNS: usize = 2;

/// The test that, in a child process, is the worker.
const WORKER_TEST: &str = "crash_worker";
const MIGRATIONS_VAR: &str = "MIGRATE_CRASH_WORKER_MIGRATIONS";
const DATABASE_VAR: &str = "MIGRATE_CRASH_WORKER_DATABASE";
const COMMIT_EACH_VAR: &str = "MIGRATE_CRASH_WORKER_COMMIT_EACH";
/// What the worker prints just before it calls `up`.
const STARTED: &str = "[crash-worker started]";
/// What the worker prints once `up` returned successfully.
const DONE: &str = "[crash-worker done]";

/// How a trial's worker runs.
#[derive(Clone, Copy, Debug)]
struct Setup {
    journal_mode: JournalMode,
    /// [`Options::commit_each_migration`].
    commit_each: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JournalMode {
    Delete,
    Wal,
}

impl JournalMode {
    fn pragma_value(self) -> &'static str {
        match self {
            JournalMode::Delete => "delete",
            JournalMode::Wal => "wal",
        }
    }
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
fn sigkill_at_random_moments_leaves_a_consistent_database_that_up_completes() {
    let started = Instant::now();
    let dir = TempDir::new().expect("temporary directory");
    let migrations_dir = dir.path().join("migrations");
    write_migration_set(&migrations_dir);
    let migrations = load_migration_set(&migrations_dir);
    assert_eq!(migrations.latest(), Some(LATEST));
    let reference = Reference::compute(&migrations, &dir.path().join("reference.db"));
    let trials = trials();
    let seed = seed();
    let mut rng = SplitMix64(seed);
    eprintln!(
        "crash: seed {seed} (replay the delays with {SEED_VAR}={seed}), {trials} trials; \
         reference computed in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let workers = Workers {
        migrations_dir: &migrations_dir,
        migrations: &migrations,
        reference: &reference,
    };
    let mut windows = BTreeMap::new();
    for (index, setup) in SETUPS.iter().enumerate() {
        let window = (1..=CALIBRATION_RUNS)
            .map(|run| {
                let database = dir.path().join(format!("calibration-{index}-{run}.db"));
                workers.uninterrupted(*setup, &database)
            })
            .min()
            .expect("at least one calibration run");
        eprintln!(
            "{}: an uninterrupted up takes {:.0} ms (the fastest of {CALIBRATION_RUNS} runs)",
            setup.label(),
            window.as_secs_f64() * 1000.0
        );
        windows.insert(index, window);
    }

    let mut tally = Tally::default();
    for number in 1..=trials {
        let index = (number - 1) % SETUPS.len();
        let setup = SETUPS[index];
        let delay = windows[&index].mul_f64(DELAY_SPAN * rng.unit());
        let database = dir.path().join(format!("trial-{number}.db"));
        let outcome = workers.kill_and_recover(setup, &database, delay, number);
        eprintln!(
            "trial {number}/{trials} ({}): killed {:.0} ms after up began: {}",
            setup.label(),
            delay.as_secs_f64() * 1000.0,
            outcome.describe()
        );
        tally.add(&setup, &outcome);
        for suffix in ["", "-journal", "-wal", "-shm"] {
            let _ = fs::remove_file(format!("{}{suffix}", database.display()));
        }
    }
    eprintln!(
        "crash: {trials} trials in {:.1} s (seed {seed}): {}",
        started.elapsed().as_secs_f64(),
        tally.describe()
    );
    assert!(
        tally.count(Landed::MidRun) > 0,
        "no kill landed while up was migrating: the delays miss the window, so this test proves \
         nothing ({})",
        tally.describe()
    );
}

/// The worker side of the crash test: does nothing unless started by it.
#[test]
fn crash_worker() {
    let (Some(dir), Some(database)) = (env::var_os(MIGRATIONS_VAR), env::var_os(DATABASE_VAR))
    else {
        return;
    };
    let commit_each = env::var_os(COMMIT_EACH_VAR).is_some();
    let migrations = load_migration_set(Path::new(&dir));
    let mut conn = open_as_service(Path::new(&database));
    println!("{STARTED}");
    let report = migrations
        .with_options(Options::new().commit_each_migration(commit_each))
        .up(&mut conn)
        .unwrap_or_else(|error| panic!("up failed: {error}\n{error:?}"));
    println!("{DONE} {}", report.steps.len());
}

/// What the trials share.
struct Workers<'a> {
    migrations_dir: &'a Path,
    migrations: &'a Migrations,
    reference: &'a Reference,
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
    /// Runs a worker to the end on a fresh database and returns how long its `up` took; checks
    /// that the result equals the latest reference.
    fn uninterrupted(&self, setup: Setup, database: &Path) -> Duration {
        prepare_database(database, setup.journal_mode);
        let mut worker = self.spawn(setup, database);
        let started = worker.await_started();
        let done = worker.await_line(DONE);
        let elapsed = started.elapsed();
        let transcript = worker.finish();
        assert!(
            done,
            "{}: the uninterrupted worker failed:\n{transcript}",
            setup.label()
        );
        let conn = open_as_service(database);
        self.reference
            .assert_matches(&conn, Some(LATEST), &setup.label());
        elapsed
    }

    /// One trial: a worker killed `delay` after it began `up`, then the checks.
    fn kill_and_recover(
        &self,
        setup: Setup,
        database: &Path,
        delay: Duration,
        number: usize,
    ) -> Outcome {
        let context = format!("trial {number} ({})", setup.label());
        prepare_database(database, setup.journal_mode);
        let mut worker = self.spawn(setup, database);
        let started = worker.await_started();
        thread::sleep(delay.saturating_sub(started.elapsed()));
        let transcript = worker.kill();
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
            journal_mode_of(&conn),
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

    fn spawn(&self, setup: Setup, database: &Path) -> Worker {
        let exe: PathBuf = env::current_exe().expect("the test binary's path");
        let mut command = Command::new(exe);
        command
            .args(["--exact", WORKER_TEST, "--nocapture"])
            .env(MIGRATIONS_VAR, self.migrations_dir)
            .env(DATABASE_VAR, database)
            .env_remove(COMMIT_EACH_VAR);
        if setup.commit_each {
            command.env(COMMIT_EACH_VAR, "1");
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting a worker process");
        let stdout = BufReader::new(child.stdout.take().expect("piped standard output"));
        Worker {
            child,
            stdout,
            transcript: String::new(),
        }
    }
}

/// A worker process: this test binary running [`crash_worker`].
struct Worker {
    child: Child,
    stdout: BufReader<ChildStdout>,
    transcript: String,
}

impl Worker {
    /// Reads the worker's output until it says it is calling `up`; returns when it read that.
    fn await_started(&mut self) -> Instant {
        assert!(
            self.await_line(STARTED),
            "the worker ended before calling up:\n{}",
            self.transcript
        );
        Instant::now()
    }

    /// Reads the worker's output until a line contains `marker` (true) or the output ends.
    fn await_line(&mut self, marker: &str) -> bool {
        let mut line = String::new();
        loop {
            line.clear();
            let read = self
                .stdout
                .read_line(&mut line)
                .expect("reading the worker's output");
            self.transcript.push_str(&line);
            if read == 0 {
                return false;
            }
            if line.contains(marker) {
                return true;
            }
        }
    }

    /// Kills the worker with SIGKILL, waits for it, and returns everything it printed.
    fn kill(mut self) -> String {
        // `Child::kill` sends SIGKILL on Unix. It fails only if the process was already
        // reaped, which nothing here does; a worker that already exited is not an error.
        let _ = self.child.kill();
        self.child.wait().expect("waiting for the killed worker");
        self.finish()
    }

    /// Waits for the worker to exit and returns everything it printed.
    fn finish(mut self) -> String {
        self.stdout
            .read_to_string(&mut self.transcript)
            .expect("reading the worker's output");
        self.child.wait().expect("waiting for the worker");
        self.transcript
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
    /// Per setup: trials, and kills that landed while `up` was migrating.
    by_setup: BTreeMap<String, (usize, usize)>,
}

impl Tally {
    fn add(&mut self, setup: &Setup, outcome: &Outcome) {
        *self.landed.entry(outcome.landed).or_default() += 1;
        *self.found.entry(outcome.found).or_default() += 1;
        if outcome.interrupted_write {
            self.interrupted_writes += 1;
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
             {} of them interrupted a write transaction that SQLite rolled back), {} after up's \
             last commit, {} after up returned; while migrating, by setup: {}; versions the kills \
             left: {}; every database was consistent and clean, and up completed on each",
            self.count(Landed::MidRun),
            self.interrupted_writes,
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

/// [`SEED_VAR`], or a seed from the clock (printed, so a failing run can be replayed).
fn seed() -> u64 {
    match env::var(SEED_VAR) {
        Ok(value) => value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{SEED_VAR} must be a number, not {value:?}")),
        Err(_) => {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            // Folding the 128-bit count into 64 bits; any bits will do for a seed.
            (nanos as u64) ^ ((nanos >> 64) as u64) ^ u64::from(std::process::id())
        }
    }
}

fn version_text(version: Option<u64>) -> String {
    version.map_or_else(|| "nothing applied".to_owned(), |v| format!("{v:06}"))
}

/// Creates the database file in the given journal mode (the mode is stored in the file for
/// WAL; `DELETE` is SQLite's default).
fn prepare_database(database: &Path, journal_mode: JournalMode) {
    let conn = Connection::open(database).expect("creating the database");
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", journal_mode.pragma_value(), |row| {
            row.get(0)
        })
        .expect("setting the journal mode");
    assert_eq!(mode, journal_mode.pragma_value());
}

fn journal_mode_of(conn: &Connection) -> String {
    conn.pragma_query_value(None, "journal_mode", |row| row.get(0))
        .expect("reading the journal mode")
}

/// Opens a connection as a service does: foreign keys enforced.
fn open_as_service(database: &Path) -> Connection {
    let conn = Connection::open(database).expect("opening the database");
    conn.pragma_update(None, "foreign_keys", true)
        .expect("enabling foreign keys");
    conn
}

fn load_migration_set(dir: &Path) -> Migrations {
    Migrations::from_dir(dir).unwrap_or_else(|problems| panic!("{problems}"))
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
        let base = format!("{:06}_{name}", index + 1);
        fs::write(dir.join(format!("{base}.up.sql")), up).expect("writing an up file");
        fs::write(
            dir.join(format!("{base}.down.sql")),
            "-- migrate:irreversible the crash test only goes up\n",
        )
        .expect("writing a down file");
    }
}
