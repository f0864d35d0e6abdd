//! Applying and rolling back migrations.
//!
//! A run is a loop of attempts. Each attempt opens a `BEGIN IMMEDIATE` transaction (so
//! concurrent starters queue on SQLite's write lock), reads the version *inside* it, plans the
//! remaining steps, and runs as many as can share one transaction before committing together
//! with the new version. Migrations that cannot share it split the run:
//!
//! - a migration containing `PRAGMA foreign_keys = OFF` runs in a transaction of its own,
//!   with enforcement turned off *before* `BEGIN` (inside a transaction the pragma is a silent
//!   no-op), `PRAGMA foreign_key_check` before `COMMIT`, and the connection's setting restored
//!   afterwards, as SQLite's ALTER TABLE documentation prescribes;
//! - a `-- migrate:no-transaction` migration runs outside any transaction, with the version
//!   marked dirty before and clean after, as golang-migrate does.

use std::time::Instant;

use log::info;
use migrate_core::{Direction, Migration};
use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::error::{Error, LeftAt, Violation};
use crate::execute::{ScriptFailure, run_script};
use crate::history::{self, History};
use crate::options::Options;
use crate::report::{Report, Step};
use crate::version_table::{SchemaVersion, VersionTable, table_exists};

/// The migrations a run works on, in version order, as [`migrate_core::check()`] returns them:
/// 1..=N for a sequential set, with holes for timestamps.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Set<'a>(pub(crate) &'a [Migration]);

impl<'a> Set<'a> {
    pub(crate) fn latest(self) -> Option<u64> {
        self.0.last().map(Migration::version)
    }

    pub(crate) fn get(self, version: u64) -> Option<&'a Migration> {
        let index = self
            .0
            .binary_search_by_key(&version, Migration::version)
            .ok()?;
        self.0.get(index)
    }

    /// The migrations with versions in `(above, up_to]`, in version order.
    fn between(self, above: u64, up_to: u64) -> &'a [Migration] {
        let start = self.0.partition_point(|m| m.version() <= above);
        let end = self.0.partition_point(|m| m.version() <= up_to).max(start);
        &self.0[start..end]
    }

    /// The version `steps` migrations below `current` (`None`: nothing applied).
    fn down_steps(self, current: Option<u64>, steps: usize) -> Result<Option<u64>, Error> {
        let applied = self.between(0, current.unwrap_or(0)).len();
        match applied.checked_sub(steps) {
            Some(0) => Ok(None),
            Some(remaining) => Ok(self.0.get(remaining - 1).map(Migration::version)),
            None => Err(Error::TooManySteps { steps, current }),
        }
    }
}

/// Where a run should end.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Target {
    Latest,
    Version(u64),
    DownSteps(usize),
}

/// How the next step must run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Inside the shared transaction.
    Shared,
    /// In a transaction of its own with foreign-key enforcement off.
    ForeignKeysOff,
    /// Outside any transaction.
    NoTransaction,
}

/// What one attempt achieved.
enum Attempt {
    /// The database is at the goal.
    Done,
    /// Some steps were committed; go on.
    Progress,
    /// The next step needs another mode; nothing was done.
    Switch(Mode),
}

/// A run's fixed inputs.
struct Run<'a> {
    migrations: Set<'a>,
    options: &'a Options,
    table: VersionTable<'a>,
    history: History,
    target: Target,
    /// Whether the connection enforces foreign keys (restored after every step that turns
    /// enforcement off).
    foreign_keys: bool,
    /// The goal version, resolved from the target at the first state read.
    goal: Option<Option<u64>>,
    from: Option<Option<u64>>,
    report: Report,
}

/// Applies or rolls back migrations until the database is at `target`.
pub(crate) fn migrate(
    migrations: Set<'_>,
    options: &Options,
    conn: &mut Connection,
    target: Target,
) -> Result<Report, Error> {
    let table = VersionTable::new(&options.table_name)?;
    if let Target::Version(v) = target
        && v > migrations.latest().unwrap_or(0)
    {
        return Err(Error::TargetOutOfRange {
            target: v,
            latest: migrations.latest(),
        });
    }
    let history = History::of(table.name());
    if let Some(report) = idle(migrations, options, table, &history, conn, target) {
        return Ok(report);
    }
    with_busy_timeout(conn, options.busy_timeout, |conn| {
        let foreign_keys: bool = conn
            .pragma_query_value(None, "foreign_keys", |row| row.get(0))
            .map_err(Error::sqlite("reading the foreign-key setting"))?;
        let mut run = Run {
            migrations,
            options,
            table,
            history,
            target,
            foreign_keys,
            goal: None,
            from: None,
            report: Report::default(),
        };
        run.all(conn)?;
        Ok(run.report)
    })
}

/// Runs `f` with the connection's busy timeout set to `timeout`, then restores the
/// connection's own setting, on success and on failure.
pub(crate) fn with_busy_timeout<T>(
    conn: &mut Connection,
    timeout: std::time::Duration,
    f: impl FnOnce(&mut Connection) -> Result<T, Error>,
) -> Result<T, Error> {
    let previous: i64 = conn
        .pragma_query_value(None, "busy_timeout", |row| row.get(0))
        .map_err(Error::sqlite("reading the busy timeout"))?;
    conn.busy_timeout(timeout)
        .map_err(Error::sqlite("setting the busy timeout"))?;
    let result = f(conn);
    let restored = conn.busy_timeout(std::time::Duration::from_millis(previous.unsigned_abs()));
    let value = result?;
    restored.map_err(Error::sqlite("restoring the busy timeout"))?;
    Ok(value)
}

/// The start-up fast path: one statement reads the version and the lineage recorded when it
/// was applied. No transaction, no DDL, nothing proportional to the number of migrations; a
/// matching lineage means no applied migration was edited since. `None` sends the caller down
/// the full path, which also reports any error properly (a failed read never means "nothing
/// applied").
fn idle(
    migrations: Set<'_>,
    options: &Options,
    table: VersionTable<'_>,
    history: &History,
    conn: &Connection,
    target: Target,
) -> Option<Report> {
    let (state, lineage) = table.read_with_lineage(conn, history.name()).ok()?;
    let reached = match target {
        Target::Latest => state.version == migrations.latest(),
        Target::Version(v) => state.version.unwrap_or(0) == v,
        Target::DownSteps(steps) => steps == 0,
    };
    let known = state.version <= migrations.latest();
    let unchanged = match (state.version, lineage) {
        (Some(version), Some(recorded)) => {
            options.allow_changed
                || migrations.get(version).map(Migration::lineage) == Some(recorded)
        }
        // Nothing applied, or applied before history was recorded: nothing to compare.
        _ => true,
    };
    (reached && known && unchanged && !state.dirty).then_some(Report {
        from: state.version,
        to: state.version,
        steps: Vec::new(),
    })
}

impl Run<'_> {
    fn all(&mut self, conn: &mut Connection) -> Result<(), Error> {
        let mut mode = Mode::Shared;
        loop {
            let turned_off = mode == Mode::ForeignKeysOff && self.foreign_keys;
            if turned_off {
                set_foreign_keys(conn, false)?;
            }
            let attempt = self.attempt(conn, mode);
            if turned_off {
                // Restored on success and on failure; a failed attempt's error matters more.
                let restored = set_foreign_keys(conn, true);
                if attempt.is_ok() {
                    restored?;
                }
            }
            match attempt? {
                Attempt::Done => return Ok(()),
                Attempt::Progress => mode = Mode::Shared,
                Attempt::Switch(next) => mode = next,
            }
        }
    }

    fn attempt(&mut self, conn: &mut Connection, mode: Mode) -> Result<Attempt, Error> {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(Error::sqlite("starting the migration transaction"))?;
        let state = self.state(&tx)?;
        let goal = self.goal(state.version)?;
        let steps = plan(self.migrations, state.version, goal)?;
        let Some(first) = steps.first() else {
            tx.commit().map_err(Error::sqlite("committing"))?;
            self.report.to = state.version;
            return Ok(Attempt::Done);
        };
        let needed = self.mode_of(first);
        if needed != mode {
            return Ok(Attempt::Switch(needed));
        }
        match mode {
            Mode::Shared => {
                let limit = if self.options.commit_each {
                    1
                } else {
                    steps.len()
                };
                let chunk: Vec<(&Migration, Direction)> = steps
                    .iter()
                    .copied()
                    .take_while(|step| self.mode_of(step) == Mode::Shared)
                    .take(limit)
                    .collect();
                self.in_transaction(tx, state.version, &chunk, false)?;
            }
            Mode::ForeignKeysOff => self.in_transaction(tx, state.version, &[*first], true)?,
            Mode::NoTransaction => {
                let (migration, direction) = *first;
                let after = version_after(self.migrations, migration, direction);
                let dirty = SchemaVersion {
                    version: after,
                    dirty: true,
                };
                self.table.write(&tx, dirty)?;
                tx.commit()
                    .map_err(Error::sqlite("marking the version dirty"))?;
                let started = Instant::now();
                run_script(conn, migration.script(direction).sql()).map_err(|failure| {
                    migration_error(migration, direction, failure, LeftAt::Dirty(after))
                })?;
                let duration = started.elapsed();
                self.ran(migration, direction, duration);
                let clean = SchemaVersion {
                    version: after,
                    dirty: false,
                };
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(Error::sqlite("starting the transaction that clears dirty"))?;
                self.table.write(&tx, clean)?;
                self.history
                    .record(&tx, &[(migration, direction, duration)])?;
                tx.commit()
                    .map_err(Error::sqlite("clearing the dirty flag"))?;
                self.record(migration, direction, duration);
            }
        }
        Ok(Attempt::Progress)
    }

    /// Runs `chunk` inside `tx` and commits it with the new version; any failure drops `tx`,
    /// which rolls everything back.
    fn in_transaction(
        &mut self,
        tx: Transaction<'_>,
        before: Option<u64>,
        chunk: &[(&Migration, Direction)],
        check_foreign_keys: bool,
    ) -> Result<(), Error> {
        let mut durations = Vec::with_capacity(chunk.len());
        let mut after = before;
        for (migration, direction) in chunk {
            let script = migration.script(*direction);
            let started = Instant::now();
            run_script(&tx, script.sql()).map_err(|failure| {
                migration_error(migration, *direction, failure, LeftAt::Clean(before))
            })?;
            if tx.is_autocommit() {
                return Err(Error::EndsTransaction {
                    file: script.file_name().to_owned(),
                });
            }
            let duration = started.elapsed();
            self.ran(migration, *direction, duration);
            durations.push(duration);
            after = version_after(self.migrations, migration, *direction);
        }
        if check_foreign_keys && let [(migration, direction)] = chunk {
            check_foreign_keys_of(&tx, migration, *direction, before)?;
        }
        let runs: Vec<(&Migration, Direction, std::time::Duration)> = chunk
            .iter()
            .zip(&durations)
            .map(|((migration, direction), duration)| (*migration, *direction, *duration))
            .collect();
        self.history.record(&tx, &runs)?;
        self.table.write(
            &tx,
            SchemaVersion {
                version: after,
                dirty: false,
            },
        )?;
        tx.commit()
            .map_err(Error::sqlite("committing the migrations"))?;
        for ((migration, direction), duration) in chunk.iter().zip(durations) {
            self.record(migration, *direction, duration);
        }
        Ok(())
    }

    fn record(
        &mut self,
        migration: &Migration,
        direction: Direction,
        duration: std::time::Duration,
    ) {
        info!(
            target: "migrate",
            "{} {} {} in {:.1} ms",
            direction.as_str(),
            migration.version(),
            migration.name(),
            duration.as_secs_f64() * 1000.0
        );
        self.report.steps.push(step(migration, direction, duration));
    }

    /// A migration's SQL has just run (not yet committed): tells the `on_step` callback.
    fn ran(&self, migration: &Migration, direction: Direction, duration: std::time::Duration) {
        self.options
            .step_done(&step(migration, direction, duration));
    }

    /// Reads the state inside the write transaction, creating the version table (and applying
    /// the baseline rule) if it does not exist yet, and refuses states that cannot be
    /// migrated.
    fn state(&mut self, tx: &Transaction<'_>) -> Result<SchemaVersion, Error> {
        let state = if self.table.exists(tx)? {
            self.table.read(tx)?
        } else {
            self.table.create(tx)?;
            let state = self.baseline(tx)?;
            self.table.write(tx, state)?;
            state
        };
        self.from.get_or_insert(state.version);
        self.report.from = self.from.unwrap_or_default();
        if state.dirty {
            return Err(Error::Dirty {
                version: state.version,
                table: self.table.name().to_owned(),
            });
        }
        if let Some(version) = state.version
            && version > self.migrations.latest().unwrap_or(0)
        {
            return Err(Error::UnknownVersion {
                database: version,
                latest: self.migrations.latest(),
            });
        }
        if !self.history.exists(tx)? {
            self.history.create(tx)?;
        } else if !self.options.allow_changed {
            self.check_unchanged(tx, state.version)?;
        }
        refuse_skipped(self.migrations, &self.history, tx, state.version)?;
        Ok(state)
    }

    /// Refuses applied migrations edited since. The lineage recorded for the current version
    /// settles it in one lookup; only when it differs are the files compared one by one, to
    /// name the changed ones (a difference only in migrations applied before history was
    /// recorded is adopted).
    fn check_unchanged(&self, tx: &Transaction<'_>, current: Option<u64>) -> Result<(), Error> {
        let Some(version) = current else {
            return Ok(());
        };
        let embedded = self.migrations.get(version).map(Migration::lineage);
        match self.history.recorded_lineage(tx, version)? {
            Some(recorded) if Some(recorded) != embedded => {}
            _ => return Ok(()),
        }
        let recorded = self.history.applied_checksums(tx)?;
        let changed = history::changed(self.migrations.0, current, &recorded);
        if changed.is_empty() {
            return Ok(());
        }
        Err(Error::Changed {
            changed,
            table: self.history.name().to_owned(),
        })
    }

    /// The state a database without a version table starts from.
    fn baseline(&self, tx: &Transaction<'_>) -> Result<SchemaVersion, Error> {
        let Some(baseline) = &self.options.baseline else {
            return Ok(SchemaVersion::default());
        };
        if baseline.version > self.migrations.latest().unwrap_or(0) {
            return Err(Error::TargetOutOfRange {
                target: baseline.version,
                latest: self.migrations.latest(),
            });
        }
        let legacy = table_exists(tx, &baseline.table)
            .map_err(Error::sqlite("looking for the baseline table"))?;
        if legacy {
            info!(
                target: "migrate",
                "baseline: table {} exists, recording version {} without running it",
                baseline.table, baseline.version
            );
        }
        Ok(SchemaVersion {
            version: (legacy && baseline.version > 0).then_some(baseline.version),
            dirty: false,
        })
    }

    /// The goal, fixed at the first read so that `down(n)` means n steps from where the run
    /// found the database.
    fn goal(&mut self, current: Option<u64>) -> Result<Option<u64>, Error> {
        if let Some(goal) = self.goal {
            return Ok(goal);
        }
        let goal = match self.target {
            Target::Latest => self.migrations.latest(),
            Target::Version(0) => None,
            Target::Version(v) => Some(v),
            Target::DownSteps(steps) => self.migrations.down_steps(current, steps)?,
        };
        self.goal = Some(goal);
        Ok(goal)
    }

    fn mode_of(&self, (migration, direction): &(&Migration, Direction)) -> Mode {
        let script = migration.script(*direction);
        if script.no_transaction() {
            Mode::NoTransaction
        } else if script.disables_foreign_keys() && self.foreign_keys {
            Mode::ForeignKeysOff
        } else {
            Mode::Shared
        }
    }
}

/// The steps from `current` to `goal`, in order. Going down through an irreversible migration
/// is refused here, before anything runs.
fn plan<'a>(
    migrations: Set<'a>,
    current: Option<u64>,
    goal: Option<u64>,
) -> Result<Vec<(&'a Migration, Direction)>, Error> {
    // A version between two timestamps names no migration: going there would silently stop
    // at the one below it (or at nothing, for a mistyped version).
    if let Some(goal) = goal
        && migrations.get(goal).is_none()
    {
        return Err(Error::TargetOutOfRange {
            target: goal,
            latest: migrations.latest(),
        });
    }
    let (current, goal) = (current.unwrap_or(0), goal.unwrap_or(0));
    if goal >= current {
        return Ok(migrations
            .between(current, goal)
            .iter()
            .map(|m| (m, Direction::Up))
            .collect());
    }
    let steps: Vec<(&Migration, Direction)> = migrations
        .between(goal, current)
        .iter()
        .rev()
        .map(|m| (m, Direction::Down))
        .collect();
    if let Some((m, _)) = steps.iter().find(|(m, _)| m.irreversible().is_some()) {
        return Err(Error::Irreversible {
            version: m.version(),
            file: m.down().file_name().to_owned(),
            reason: m.irreversible().unwrap_or_default().to_owned(),
        });
    }
    Ok(steps)
}

/// The database's version once `migration` has run in `direction`: after a down, the
/// previous migration's version (not `version - 1`, which a timestamped set does not have).
fn version_after(migrations: Set<'_>, migration: &Migration, direction: Direction) -> Option<u64> {
    match direction {
        Direction::Up => Some(migration.version()),
        Direction::Down => migrations
            .between(0, migration.version().saturating_sub(1))
            .last()
            .map(Migration::version),
    }
}

/// Refuses to run while a migration older than the database's version never ran on it: a
/// branch merged after newer migrations were applied (golang-migrate skips such a migration
/// silently, forever). The history table tells what ran. A migration with no run recorded is
/// skipped when the history records the database below its version (a run of an older
/// migration); one older than every recorded run was there before the history (applied by
/// golang-migrate, an older release, or `force`) and is taken as applied: nothing can tell.
fn refuse_skipped(
    migrations: Set<'_>,
    history: &History,
    tx: &Transaction<'_>,
    current: Option<u64>,
) -> Result<(), Error> {
    let skipped = skipped(migrations, history, tx, current)?;
    match (skipped.is_empty(), current) {
        (false, Some(database)) => Err(Error::Skipped {
            skipped,
            database,
            table: history.name().to_owned(),
        }),
        _ => Ok(()),
    }
}

/// The migrations older than `current` that never ran on the database (see
/// [`refuse_skipped`]), with their up files; `status` shows them as not applied.
pub(crate) fn skipped(
    migrations: Set<'_>,
    history: &History,
    conn: &Connection,
    current: Option<u64>,
) -> Result<Vec<(u64, String)>, Error> {
    let Some(current) = current else {
        return Ok(Vec::new());
    };
    let older = migrations.between(0, current.saturating_sub(1));
    if older.is_empty() {
        return Ok(Vec::new());
    }
    // The usual case, one indexed lookup: the lineage recorded when `current` was applied
    // covers the same up scripts as now, so no older migration was added since.
    let embedded = migrations.get(current).map(Migration::lineage);
    if embedded.is_some() && history.recorded_lineage(conn, current)? == embedded {
        return Ok(Vec::new());
    }
    let doing = "reading the history table";
    let mut statement = conn
        .prepare(&format!(
            "SELECT version, direction FROM \"{}\" ORDER BY id",
            history.name()
        ))
        .map_err(Error::sqlite(doing))?;
    let mut rows = statement.query([]).map_err(Error::sqlite(doing))?;
    let mut last_run = std::collections::BTreeMap::new();
    while let Some(row) = rows.next().map_err(Error::sqlite(doing))? {
        let version: i64 = row.get(0).map_err(Error::sqlite(doing))?;
        let direction: String = row.get(1).map_err(Error::sqlite(doing))?;
        if let Ok(version) = u64::try_from(version) {
            last_run.insert(version, direction == "up");
        }
    }
    let Some(oldest_run) = last_run.keys().next().copied() else {
        return Ok(Vec::new());
    };
    Ok(older
        .iter()
        .filter(|m| match last_run.get(&m.version()) {
            Some(up) => !up,
            None => m.version() > oldest_run,
        })
        .map(|m| (m.version(), m.up().file_name().to_owned()))
        .collect())
}

fn migration_error(
    migration: &Migration,
    direction: Direction,
    failure: ScriptFailure,
    left_at: LeftAt,
) -> Error {
    Error::Migration {
        version: migration.version(),
        file: migration.script(direction).file_name().to_owned(),
        direction,
        line: failure.line,
        column: failure.column,
        statement: failure.statement,
        message: failure.message,
        left_at,
        source: Box::new(failure.source),
    }
}

fn set_foreign_keys(conn: &Connection, on: bool) -> Result<(), Error> {
    conn.pragma_update(None, "foreign_keys", on)
        .map_err(Error::sqlite("switching foreign-key enforcement"))
}

/// `PRAGMA foreign_key_check` after a migration that ran with enforcement off: any row whose
/// parent is missing fails the migration.
fn check_foreign_keys_of(
    tx: &Transaction<'_>,
    migration: &Migration,
    direction: Direction,
    before: Option<u64>,
) -> Result<(), Error> {
    let doing = "checking foreign keys";
    let mut statement = tx
        .prepare("PRAGMA foreign_key_check")
        .map_err(Error::sqlite(doing))?;
    let mut rows = statement.query([]).map_err(Error::sqlite(doing))?;
    let mut violations = Vec::new();
    let mut total = 0;
    while let Some(row) = rows.next().map_err(Error::sqlite(doing))? {
        total += 1;
        if violations.len() < 5 {
            violations.push(Violation {
                table: row.get(0).map_err(Error::sqlite(doing))?,
                rowid: row.get(1).map_err(Error::sqlite(doing))?,
                parent: row.get(2).map_err(Error::sqlite(doing))?,
            });
        }
    }
    if total == 0 {
        return Ok(());
    }
    Err(Error::ForeignKeyViolation {
        version: migration.version(),
        file: migration.script(direction).file_name().to_owned(),
        direction,
        violations,
        total,
        left_at: before,
    })
}

/// The report's record of one migration that ran.
fn step(migration: &Migration, direction: Direction, duration: std::time::Duration) -> Step {
    Step {
        version: migration.version(),
        name: migration.name().to_owned(),
        direction,
        duration,
    }
}
