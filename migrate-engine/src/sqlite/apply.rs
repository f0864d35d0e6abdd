//! Applying and rolling back migrations.
//!
//! A run first puts the connection in the state migrations need, and puts it back afterwards,
//! on success and on failure: the busy timeout of the options, foreign-key enforcement *off*
//! (turned off before any transaction, since inside one the pragma is a silent no-op), and an
//! authorizer that records which tables each migration touches and makes every
//! `PRAGMA foreign_keys = …` in a migration a no-op. So no migration can delete or change rows
//! through a foreign-key action (`ON DELETE CASCADE` when a parent table is recreated, however
//! the author spelled the pragma, or whether they wrote it at all).
//!
//! Then it is a loop of attempts. Each attempt opens a `BEGIN IMMEDIATE` transaction (so
//! concurrent starters queue on SQLite's write lock), reads the version *inside* it, plans the
//! remaining steps, and runs every step up to the next `-- migrate:no-transaction` migration in
//! that one transaction, committing them together with the new version. After each migration,
//! inside the transaction, `PRAGMA foreign_key_check` runs on the tables it touched and on the
//! children of those (when the service enforces foreign keys), so a dangling reference fails
//! the migration that made it and rolls the run back. Rows that pointed nowhere before the
//! migration are not its doing: when the check finds violations, the migrations of the
//! transaction run again, each in a savepoint, so the state before it is checked too and only
//! the new ones count.
//!
//! A `-- migrate:no-transaction` migration runs outside any transaction, with the version
//! marked dirty before and clean after, as golang-migrate does; it necessarily splits the run,
//! and every error after such a split says which migrations were committed.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use log::info;
use migrate_core::{Direction, ForeignKeys, Migration};
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::drift;
use crate::error::{DirtyOrigin, Error, LeftAt};
use crate::options::{Observer, Options};
use crate::plan::{Set, Target};
use crate::plan::{plan, version_after};
use crate::report::{Report, Step};
use crate::sqlite::execute::run_script;
use crate::sqlite::fk_check::{
    CheckFailure, ForeignKeyGraph, Touched, schema_version, tables_to_check, violations_in, without,
};
use crate::sqlite::history::History;
use crate::sqlite::version_table::{VersionTable, table_exists};
use crate::values::SchemaVersion;

/// What the foreign-key check may do to see the state before a migration.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Before {
    /// Roll back to `migrate_step`, taken just before the migration.
    Savepoint,
    /// Nothing: every dangling row is the migration's (outside a transaction).
    Unknown,
    /// Ask for the migration to be run again after a savepoint.
    Retry,
}

/// What the foreign-key check found.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Checked {
    /// No dangling row is the migration's doing.
    Clean,
    /// Dangling rows, which may have been there before: run it again after a savepoint.
    Retry,
}

/// What one attempt achieved.
enum Attempt {
    /// The database is at the goal.
    Done,
    /// Some steps were committed; go on.
    Progress,
}

/// A run's fixed inputs.
struct Run<'a> {
    migrations: Set<'a>,
    options: &'a Options,
    table: VersionTable<'a>,
    history: History,
    target: Target,
    /// Whether each migration's foreign keys are checked before the run commits.
    check_foreign_keys: bool,
    touched: Arc<Mutex<Touched>>,
    /// Whether this attempt recorded a legacy database's baseline version.
    baselined: bool,
    /// The state this run last committed (`None`: nothing committed yet).
    left: Option<LeftAt>,
    /// Which tables reference which (shared with later runs through the options, when given).
    graph: Arc<Mutex<ForeignKeyGraph>>,
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
        prepared(conn, options, |conn, touched, enforced| {
            let mut run = Run {
                migrations,
                options,
                table,
                history,
                target,
                check_foreign_keys: enforced && options.foreign_keys == ForeignKeys::Enforced,
                touched,
                baselined: false,
                left: None,
                graph: options
                    .foreign_key_graph
                    .as_ref()
                    .map_or_else(Default::default, |shared| Arc::clone(&shared.0)),
                goal: None,
                from: None,
                report: Report::default(),
            };
            run.all(conn)?;
            Ok(run.report)
        })
    })
}

/// Runs `f` with the connection's busy timeout set to `timeout`, then restores the
/// connection's own setting, on success and on failure.
pub(crate) fn with_busy_timeout<T>(
    conn: &mut Connection,
    timeout: Duration,
    f: impl FnOnce(&mut Connection) -> Result<T, Error>,
) -> Result<T, Error> {
    let previous: i64 = conn
        .query_row("PRAGMA busy_timeout", [], |row| row.get(0))
        .map_err(Error::sqlite("reading the busy timeout"))?;
    conn.busy_timeout(timeout)
        .map_err(Error::sqlite("setting the busy timeout"))?;
    let result = f(conn);
    let restored = conn.busy_timeout(Duration::from_millis(previous.unsigned_abs()));
    let value = result?;
    restored.map_err(Error::sqlite("restoring the busy timeout"))?;
    Ok(value)
}

/// Runs `f` with foreign-key enforcement off and the run's authorizer installed, then puts the
/// connection back as it was, on success and on failure: no transaction left open, the
/// authorizer removed (the options' observer, if any, stays), enforcement as before. `f` is
/// told whether the connection enforced foreign keys.
fn prepared<T>(
    conn: &mut Connection,
    options: &Options,
    f: impl FnOnce(&mut Connection, Arc<Mutex<Touched>>, bool) -> Result<T, Error>,
) -> Result<T, Error> {
    // A transaction the caller has open is theirs: never rolled back here (the run's
    // `BEGIN IMMEDIATE` then fails and says so).
    let callers_transaction = !conn.is_autocommit();
    let enforced: bool = conn
        .query_row("PRAGMA foreign_keys", [], |row| row.get(0))
        .map_err(Error::sqlite("reading the foreign-key setting"))?;
    if enforced {
        set_foreign_keys(conn, false)?;
    }
    let touched = Arc::new(Mutex::new(Touched::default()));
    let installed = install_authorizer(conn, Arc::clone(&touched), options.observer.clone())
        .map_err(Error::sqlite("installing the migration authorizer"));
    let result = installed.and_then(|()| f(conn, touched, enforced));
    // A no-transaction migration may have left its own transaction open; the run's own
    // transactions are rolled back when dropped.
    let closed = if callers_transaction || conn.is_autocommit() {
        Ok(())
    } else {
        conn.execute_batch("ROLLBACK").map_err(Error::sqlite(
            "rolling back a transaction a migration left open",
        ))
    };
    let uninstalled = restore_authorizer(conn, options.observer.clone())
        .map_err(Error::sqlite("removing the migration authorizer"));
    let restored = if enforced {
        set_foreign_keys(conn, true)
    } else {
        Ok(())
    };
    // The run's own error matters most; then whatever could not be put back.
    let value = result?;
    closed?;
    uninstalled?;
    restored?;
    Ok(value)
}

fn install_authorizer(
    conn: &mut Connection,
    touched: Arc<Mutex<Touched>>,
    observer: Option<Observer>,
) -> rusqlite::Result<()> {
    conn.authorizer(Some(move |context: AuthContext<'_>| {
        let decision = observer
            .as_ref()
            .map_or(Authorization::Allow, |observer| (observer.0)(&context));
        if decision == Authorization::Deny {
            return decision;
        }
        authorize(&touched, &context).unwrap_or(decision)
    }))
}

fn restore_authorizer(conn: &mut Connection, observer: Option<Observer>) -> rusqlite::Result<()> {
    match observer {
        Some(observer) => {
            conn.authorizer(Some(move |context: AuthContext<'_>| (observer.0)(&context)))
        }
        None => conn.authorizer(None::<fn(AuthContext<'_>) -> Authorization>),
    }
}

/// The run's authorizer: records touched tables, and returns `Some(Ignore)` for a pragma that
/// would change foreign-key enforcement, which SQLite then skips.
fn authorize(touched: &Mutex<Touched>, context: &AuthContext<'_>) -> Option<Authorization> {
    let main = context
        .database_name
        .is_none_or(|db| db.eq_ignore_ascii_case("main"));
    let (child, parent, table) = match context.action {
        AuthAction::Pragma {
            pragma_name,
            pragma_value: Some(_),
        } if pragma_name.eq_ignore_ascii_case("foreign_keys") => {
            return Some(Authorization::Ignore);
        }
        AuthAction::Insert { table_name } => (true, false, table_name),
        AuthAction::Update { table_name, .. } => (true, true, table_name),
        AuthAction::Delete { table_name } => (false, true, table_name),
        AuthAction::CreateTable { table_name } | AuthAction::DropTable { table_name } => {
            let created = matches!(context.action, AuthAction::CreateTable { .. });
            if main {
                note(
                    &mut touched
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .created_or_dropped,
                    table_name,
                );
            }
            (created, !created, table_name)
        }
        AuthAction::AlterTable { table_name, .. } => {
            touched
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .altered = true;
            (true, true, table_name)
        }
        _ => return None,
    };
    let internal = table
        .get(..7)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("sqlite_"));
    if main && !internal {
        let mut touched = touched.lock().unwrap_or_else(PoisonError::into_inner);
        if child {
            note(&mut touched.children, table);
        }
        if parent {
            note(&mut touched.parents, table);
        }
    }
    None
}

/// Adds `table`, lower-cased, to `tables`; allocates only for a name not there yet (the
/// authorizer sees the same tables again and again).
fn note(tables: &mut crate::sorted::Names, table: &str) {
    if table.bytes().any(|b| b.is_ascii_uppercase()) {
        tables.insert(table.to_ascii_lowercase());
    } else if !tables.contains(table) {
        tables.insert(table.to_owned());
    }
}

/// The start-up fast path: one statement reads the version and the lineage recorded for the
/// newest up applied at or below it. No transaction, no DDL, nothing proportional to the number
/// of migrations, and nothing written even on a database without a history table (migrated by
/// golang-migrate) or on a read-only connection; a matching lineage means no applied migration
/// was edited since. `None` sends the caller down the full path, which also reports any error
/// properly (a failed read never means "nothing applied").
fn idle(
    migrations: Set<'_>,
    options: &Options,
    table: VersionTable<'_>,
    history: &History,
    conn: &Connection,
    target: Target,
) -> Option<Report> {
    let (state, lineage) = match table.read_with_lineage(conn, history.name()) {
        Ok(read) => read,
        // No history table: a database migrated by golang-migrate or an older release.
        Err(_) => match table.read(conn) {
            Ok(state) => (state, None),
            // No version table either: nothing applied, which is only a goal for `to 0`.
            Err(_) if !table.exists(conn).ok()? => (SchemaVersion::default(), None),
            Err(_) => return None,
        },
    };
    let reached = match target {
        Target::Latest => state.version == migrations.latest(),
        Target::Version(v) => state.version.unwrap_or(0) == v,
        Target::DownSteps(steps) => steps == 0,
        Target::UpSteps(steps) => steps == 0 || state.version == migrations.latest(),
    };
    let known = state.version <= migrations.latest();
    let unchanged = match lineage {
        Some((version, recorded)) => {
            let embedded = migrations.get(version).map(Migration::lineage);
            embedded.is_some_and(|lineage| recorded.is(lineage))
                // Digits that are not a lineage: nothing to compare.
                || recorded.checksum().is_none()
                // Lineages also differ when a migration was merged late below the version, or
                // when migrations applied before history was recorded changed (adopted) or
                // were accepted as changed: compare file by file, still reading only.
                || ((options.allow_changed
                    || history.applied_checksums(conn).is_ok_and(|recorded| {
                        drift::changed(migrations.0, state.version, &recorded).is_empty()
                    }))
                    && skipped(migrations, history, conn, state.version)
                        .is_ok_and(|skipped| skipped.is_empty()))
        }
        // Nothing applied, or applied before history was recorded: nothing to compare.
        None => true,
    };
    (reached && known && unchanged && !state.dirty).then_some(Report {
        from: state.version,
        to: state.version,
        steps: Vec::new(),
    })
}

impl Run<'_> {
    fn all(&mut self, conn: &mut Connection) -> Result<(), Error> {
        loop {
            match self.attempt(conn) {
                Ok(Attempt::Done) => return Ok(()),
                Ok(Attempt::Progress) => {}
                Err(error) => {
                    // Whatever the graph learnt from rolled-back DDL is forgotten.
                    *self.graph.lock().unwrap_or_else(PoisonError::into_inner) =
                        ForeignKeyGraph::default();
                    return Err(self.stopped(error));
                }
            }
        }
    }

    /// An error after this run committed something says what it committed and where the
    /// database is, unless it already does.
    fn stopped(&self, error: Error) -> Error {
        let Some(left_at) = self.left else {
            return error;
        };
        match error {
            Error::Migration { .. }
            | Error::ForeignKeyViolation { .. }
            | Error::ForeignKeyMismatch { .. }
            | Error::EndsTransaction { .. } => error,
            other => Error::Stopped {
                committed: self.committed(),
                left_at,
                error: Box::new(other),
            },
        }
    }

    /// The files this run committed so far, in order.
    fn committed(&self) -> Vec<String> {
        self.migrations.files_of(&self.report.steps)
    }

    fn attempt(&mut self, conn: &mut Connection) -> Result<Attempt, Error> {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(Error::sqlite("starting the migration transaction"))?;
        let state = self.state(&tx)?;
        if self.check_foreign_keys {
            let version =
                schema_version(&tx).map_err(Error::sqlite("reading the schema version"))?;
            self.graph
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .revalidate(version);
        }
        let goal = self.goal(state.version)?;
        let steps = plan(self.migrations, state.version, goal)?;
        if !self.options.allow_changed {
            self.check_downs_unchanged(&tx, &steps)?;
        }
        let Some(&(first, direction)) = steps.first() else {
            // Nothing to do: nothing is written (the transaction is rolled back, with the
            // version table if this attempt created it), unless a baseline was recorded.
            if self.baselined {
                tx.commit()
                    .map_err(Error::sqlite("committing the baseline"))?;
            }
            self.report.to = state.version;
            return Ok(Attempt::Done);
        };
        if first.script(direction).no_transaction() {
            let after = version_after(self.migrations, first, direction);
            self.table.write(
                &tx,
                SchemaVersion {
                    version: after,
                    dirty: true,
                },
            )?;
            let started_row = self.history.start(&tx, first, direction)?;
            tx.commit()
                .map_err(Error::sqlite("marking the version dirty"))?;
            self.left = Some(LeftAt::Dirty(after));
            self.outside_transaction(conn, first, direction, started_row)?;
        } else {
            let limit = if self.options.commit_each {
                1
            } else {
                steps.len()
            };
            let chunk: Vec<(&Migration, Direction)> = steps
                .iter()
                .copied()
                .take_while(|(m, d)| !m.script(*d).no_transaction())
                .take(limit)
                .collect();
            self.in_transaction(tx, state.version, &chunk)?;
            if chunk.len() == steps.len() {
                // The goal is reached: no further transaction to open.
                self.report.to = goal;
                return Ok(Attempt::Done);
            }
        }
        Ok(Attempt::Progress)
    }

    /// Runs a `-- migrate:no-transaction` migration, once the version is marked dirty (and
    /// the start recorded in history row `started_row`): the script runs outside any
    /// transaction, then the version is made clean again.
    fn outside_transaction(
        &mut self,
        conn: &mut Connection,
        migration: &Migration,
        direction: Direction,
        started_row: i64,
    ) -> Result<(), Error> {
        let after = version_after(self.migrations, migration, direction);
        self.take_touched();
        let started = Instant::now();
        let ran = run_script(conn, migration.script(direction).sql());
        // A script that opened its own transaction and failed (or never closed it) leaves it
        // open, holding the write lock: roll it back, so the connection is usable (`force`).
        let left_open = !conn.is_autocommit();
        if left_open {
            conn.execute_batch("ROLLBACK").map_err(Error::sqlite(
                "rolling back the transaction a no-transaction migration left open",
            ))?;
        }
        ran.map_err(|failure| {
            Error::migration(
                migration,
                direction,
                failure,
                LeftAt::Dirty(after),
                self.committed(),
            )
        })?;
        if left_open {
            return Err(Error::EndsTransaction {
                file: migration.script(direction).file_name().to_owned(),
                left_at: LeftAt::Dirty(after),
                committed: self.committed(),
            });
        }
        let duration = started.elapsed();
        self.ran(migration, direction, duration);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(Error::sqlite("starting the transaction that clears dirty"))?;
        self.check_foreign_keys(
            &tx,
            migration,
            direction,
            LeftAt::Dirty(after),
            Before::Unknown,
        )?;
        self.table.write(
            &tx,
            SchemaVersion {
                version: after,
                dirty: false,
            },
        )?;
        self.history.finish(&tx, started_row, duration)?;
        tx.commit()
            .map_err(Error::sqlite("clearing the dirty flag"))?;
        self.left = Some(LeftAt::Clean(after));
        self.record(migration, direction, duration);
        Ok(())
    }

    /// Runs `chunk` inside `tx` and commits it with the new version; any failure drops `tx`,
    /// which rolls everything back.
    ///
    /// When foreign keys are checked, telling a migration's own dangling rows from those that
    /// were there before it needs the state before it. Taking a savepoint before every
    /// migration costs two statements each (a fifth of what the runtime adds to applying 200
    /// small migrations, `bench/guard`), so the chunk first runs under one savepoint; only when
    /// a check finds dangling rows is the chunk rolled back to it and run again with a
    /// savepoint before each migration, in the same transaction, where the check can look at
    /// the state before the migration. `on_step` is not told twice of a migration.
    fn in_transaction(
        &mut self,
        tx: Transaction<'_>,
        before: Option<u64>,
        chunk: &[(&Migration, Direction)],
    ) -> Result<(), Error> {
        let mut durations = Vec::with_capacity(chunk.len());
        let mut after = before;
        let rolled_back = LeftAt::Clean(before);
        // Without the check, no state before a migration is ever looked at.
        let mut careful = false;
        if self.check_foreign_keys {
            tx.execute_batch("SAVEPOINT migrate_chunk")
                .map_err(Error::sqlite("starting the migrations' savepoint"))?;
        }
        // The migrations `on_step` was told of.
        let mut told = 0;
        let mut index = 0;
        while let Some((migration, direction)) = chunk.get(index) {
            let script = migration.script(*direction);
            if careful {
                tx.execute_batch("SAVEPOINT migrate_step")
                    .map_err(Error::sqlite("starting the migration's savepoint"))?;
            }
            self.take_touched();
            let started = Instant::now();
            run_script(&tx, script.sql()).map_err(|failure| {
                Error::migration(
                    migration,
                    *direction,
                    failure,
                    rolled_back,
                    self.committed(),
                )
            })?;
            if tx.is_autocommit() {
                return Err(Error::EndsTransaction {
                    file: script.file_name().to_owned(),
                    left_at: rolled_back,
                    committed: self.committed(),
                });
            }
            let before_it = if careful {
                Before::Savepoint
            } else if self.check_foreign_keys {
                Before::Retry
            } else {
                Before::Unknown
            };
            if self.check_foreign_keys(&tx, migration, *direction, rolled_back, before_it)?
                == Checked::Retry
            {
                tx.execute_batch("ROLLBACK TO migrate_chunk")
                    .map_err(Error::sqlite("rolling back to the migrations' savepoint"))?;
                *self.graph.lock().unwrap_or_else(PoisonError::into_inner) =
                    ForeignKeyGraph::default();
                careful = true;
                durations.clear();
                after = before;
                index = 0;
                continue;
            }
            if tx.is_autocommit() {
                return Err(Error::EndsTransaction {
                    file: script.file_name().to_owned(),
                    left_at: rolled_back,
                    committed: self.committed(),
                });
            }
            if careful {
                tx.execute_batch("RELEASE migrate_step")
                    .map_err(Error::sqlite("releasing the migration's savepoint"))?;
            }
            let duration = started.elapsed();
            if index == told {
                self.ran(migration, *direction, duration);
                told += 1;
            }
            durations.push(duration);
            after = version_after(self.migrations, migration, *direction);
            index += 1;
        }
        let runs: Vec<(&Migration, Direction, Duration)> = chunk
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
        self.left = Some(LeftAt::Clean(after));
        for ((migration, direction), duration) in chunk.iter().zip(durations) {
            self.record(migration, *direction, duration);
        }
        Ok(())
    }

    fn take_touched(&self) -> Touched {
        std::mem::take(&mut *self.touched.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// `PRAGMA foreign_key_check` on what `migration` touched: every row of those tables and
    /// of their children must point at an existing parent. Rows that already pointed nowhere
    /// before the migration are not its doing: after `SAVEPOINT migrate_step`
    /// ([`Before::Savepoint`]) the state before it is looked at, and if every violation was
    /// already there, the migration is run again as it was and accepted; without that
    /// savepoint, [`Before::Retry`] asks the caller to run it again with one.
    fn check_foreign_keys(
        &self,
        conn: &Connection,
        migration: &Migration,
        direction: Direction,
        left_at: LeftAt,
        before: Before,
    ) -> Result<Checked, Error> {
        let touched = self.take_touched();
        if !self.check_foreign_keys {
            return Ok(Checked::Clean);
        }
        let file = || migration.script(direction).file_name().to_owned();
        let mismatch = |failure: CheckFailure| match failure {
            CheckFailure::Mismatch { table, message } => Error::ForeignKeyMismatch {
                version: migration.version(),
                file: file(),
                direction,
                // Still inside the migration's transaction: say which foreign key and why.
                malformed: crate::sqlite::foreign_keys::explain_mismatch(conn, &table, &message)
                    .map(|list| list.iter().map(ToString::to_string).collect())
                    .unwrap_or_default(),
                table,
                message,
                left_at,
                committed: self.committed(),
            },
            CheckFailure::Sqlite(error) => error,
        };
        let plain = touched.created_plain(migration.script(direction).sql());
        let tables = {
            let mut graph = self.graph.lock().unwrap_or_else(PoisonError::into_inner);
            graph
                .update(conn, &touched, plain)
                .map_err(Error::sqlite("reading the schema's foreign keys"))?;
            tables_to_check(conn, touched, &mut graph, plain).map_err(mismatch)?
        };
        let mut violations = violations_in(conn, &tables).map_err(mismatch)?;
        if violations.is_empty() {
            return Ok(Checked::Clean);
        }
        if before == Before::Retry {
            return Ok(Checked::Retry);
        }
        if before == Before::Savepoint {
            let doing = "looking at the foreign keys before the migration";
            conn.execute_batch("ROLLBACK TO migrate_step")
                .map_err(Error::sqlite(doing))?;
            // The schema is as before the migration again.
            *self.graph.lock().unwrap_or_else(PoisonError::into_inner) = ForeignKeyGraph::default();
            // A malformed foreign key before the migration: its rows cannot be compared.
            let before = violations_in(conn, &tables).unwrap_or_default();
            violations = without(violations, before);
            if violations.is_empty() {
                self.take_touched();
                run_script(conn, migration.script(direction).sql()).map_err(|failure| {
                    Error::migration(migration, direction, failure, left_at, self.committed())
                })?;
                self.take_touched();
                *self.graph.lock().unwrap_or_else(PoisonError::into_inner) =
                    ForeignKeyGraph::default();
                return Ok(Checked::Clean);
            }
        }
        let total = violations.len();
        violations.truncate(5);
        Err(Error::ForeignKeyViolation {
            version: migration.version(),
            file: file(),
            direction,
            violations,
            total,
            left_at,
            committed: self.committed(),
        })
    }

    fn record(&mut self, migration: &Migration, direction: Direction, duration: Duration) {
        info!(
            target: "migrate",
            "{} {} {} in {} ms",
            direction.as_str(),
            migration.version(),
            migration.name(),
            crate::decimal::OneDecimal::millis(duration)
        );
        self.report
            .steps
            .push(Step::of(migration, direction, duration));
    }

    /// A migration's SQL has just run (not yet committed): tells the `on_step` callback.
    fn ran(&self, migration: &Migration, direction: Direction, duration: std::time::Duration) {
        self.options
            .step_done(&Step::of(migration, direction, duration));
    }

    /// Reads the state inside the write transaction, creating the version table (and applying
    /// the baseline rule) if it does not exist yet, and refuses states that cannot be
    /// migrated, before anything is written.
    fn state(&mut self, tx: &Transaction<'_>) -> Result<SchemaVersion, Error> {
        let state = if self.table.exists(tx)? {
            self.table.check_layout(tx)?;
            self.table.read(tx)?
        } else {
            self.table.create(tx)?;
            let state = self.baseline(tx)?;
            self.table.write(tx, state)?;
            self.baselined = state.version.is_some();
            state
        };
        self.from.get_or_insert(state.version);
        self.report.from = self.from.unwrap_or_default();
        let origin = if state.dirty {
            Some(self.dirty_origin(tx, state.version)?)
        } else {
            None
        };
        crate::drift::refuse_state(self.migrations, state, self.table.name(), origin)?;
        if !self.history.exists(tx)? {
            self.history.create(tx)?;
        } else {
            self.history.upgrade(tx)?;
            if !self.options.allow_changed {
                self.check_unchanged(tx, state.version)?;
            }
        }
        refuse_skipped(self.migrations, &self.history, tx, state.version)?;
        Ok(state)
    }

    /// Who left the database dirty (see [`dirty_origin`]).
    fn dirty_origin(
        &self,
        tx: &Transaction<'_>,
        version: Option<u64>,
    ) -> Result<DirtyOrigin, Error> {
        dirty_origin(self.migrations, &self.history, tx, version)
    }

    /// Refuses applied migrations edited since. The lineage recorded with the newest up
    /// applied at or below the current version settles it in one lookup (however the version
    /// was reached, `force` included); only when it differs are the files compared one by one,
    /// to name the changed ones (a difference only in migrations applied before history was
    /// recorded is adopted).
    fn check_unchanged(&self, tx: &Transaction<'_>, current: Option<u64>) -> Result<(), Error> {
        let Some(version) = current else {
            return Ok(());
        };
        match self.history.recorded_lineage(tx, version)? {
            Some((v, recorded))
                if Some(recorded) != self.migrations.get(v).map(Migration::lineage) => {}
            _ => return Ok(()),
        }
        let recorded = self.history.applied_checksums(tx)?;
        let changed = drift::changed(self.migrations.0, current, &recorded);
        if changed.is_empty() {
            return Ok(());
        }
        Err(Error::Changed {
            changed,
            table: self.history.name().to_owned(),
        })
    }

    /// Refuses to run a down that differs from the one shipped with the up that was applied
    /// (recorded with the up in the history table): it could undo something else.
    fn check_downs_unchanged(
        &self,
        tx: &Transaction<'_>,
        steps: &[(&Migration, Direction)],
    ) -> Result<(), Error> {
        if !steps.iter().any(|(_, d)| *d == Direction::Down) {
            return Ok(());
        }
        let downs = || {
            steps
                .iter()
                .filter(|(_, d)| *d == Direction::Down)
                .map(|(m, _)| *m)
        };
        let recorded = self
            .history
            .recorded_downs_of(tx, downs().map(Migration::version))?;
        let changed = drift::changed_downs(downs(), &recorded);
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
        baseline.check(self.migrations.latest())?;
        let legacy = table_exists(tx, &baseline.table)
            .map_err(Error::sqlite("looking for the baseline table"))?;
        Ok(baseline.state(legacy))
    }

    /// The goal, fixed at the first read so that `down(n)` means n steps from where the run
    /// found the database.
    fn goal(&mut self, current: Option<u64>) -> Result<Option<u64>, Error> {
        if let Some(goal) = self.goal {
            return Ok(goal);
        }
        let goal = crate::plan::goal(self.migrations, self.target, current)?;
        self.goal = Some(goal);
        Ok(goal)
    }
}

/// Who left a database dirty at `version`: this runtime (its history records the start of a
/// no-transaction migration that never finished, to or from `version`), or another tool.
/// Read-only.
pub(crate) fn dirty_origin(
    migrations: Set<'_>,
    history: &History,
    conn: &Connection,
    version: Option<u64>,
) -> Result<DirtyOrigin, Error> {
    if !history.exists(conn)? {
        return Ok(DirtyOrigin::OtherTool);
    }
    Ok(drift::dirty_origin(
        migrations,
        history.unfinished(conn)?,
        version,
    ))
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
    if let Some((recorded_at, lineage)) = history.recorded_lineage(conn, current)?
        && recorded_at == current
        && Some(lineage) == embedded
    {
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
    let mut last_run = crate::sorted::SortedMap::default();
    while let Some(row) = rows.next().map_err(Error::sqlite(doing))? {
        let version: i64 = row.get(0).map_err(Error::sqlite(doing))?;
        let direction: String = row.get(1).map_err(Error::sqlite(doing))?;
        if let Ok(version) = u64::try_from(version) {
            last_run.insert(version, direction == "up");
        }
    }
    Ok(drift::never_ran(older, &last_run))
}

fn set_foreign_keys(conn: &Connection, on: bool) -> Result<(), Error> {
    conn.execute_batch(if on {
        "PRAGMA foreign_keys = ON"
    } else {
        "PRAGMA foreign_keys = OFF"
    })
    .map_err(Error::sqlite("switching foreign-key enforcement"))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use migrate_core::source::SourceFile;
    use rusqlite::Connection;

    use crate::error::Error;
    use crate::options::Options;
    use crate::plan::Target;
    use crate::sqlite::operations::run;

    /// The set of `ups` (name, SQL), each with a down that does nothing.
    fn set(ups: &[(&str, &str)]) -> Vec<migrate_core::Migration> {
        let mut sources = Vec::new();
        for (name, sql) in ups {
            for (file, sql) in [
                ((*name).to_owned(), *sql),
                (name.replace(".up.", ".down."), "SELECT 1;"),
            ] {
                sources.push(SourceFile {
                    file_name: file,
                    contents: Ok(sql.as_bytes().to_vec()),
                });
            }
        }
        migrate_core::check(&sources).expect("a valid set")
    }

    /// A database with an orphan that a service running without enforcement left.
    fn with_an_old_orphan() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "PRAGMA foreign_keys = OFF;\n\
             CREATE TABLE parent (id INTEGER PRIMARY KEY);\n\
             CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id));\n\
             CREATE TABLE log (what TEXT);\n\
             INSERT INTO child VALUES (1, 42);\n\
             PRAGMA foreign_keys = ON;",
        )
        .unwrap();
        conn
    }

    /// The versions `on_step` was told of, in order, and the options that tell them.
    fn told() -> (Options, Arc<Mutex<Vec<u64>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let options = Options::new().on_step(move |step| sink.lock().unwrap().push(step.version));
        (options, seen)
    }

    fn count(conn: &Connection, sql: &str) -> i64 {
        conn.query_row(sql, [], |row| row.get(0)).unwrap()
    }

    #[test]
    fn old_orphans_run_the_transaction_again_once_and_tell_each_step_once() {
        let table = set(&[
            ("000001_log.up.sql", "INSERT INTO log VALUES ('one');"),
            (
                "000002_child.up.sql",
                "INSERT INTO child VALUES (2, NULL);\nINSERT INTO log VALUES ('two');",
            ),
            ("000003_log.up.sql", "INSERT INTO log VALUES ('three');"),
        ]);
        let mut conn = with_an_old_orphan();
        let (options, seen) = told();
        let report = run(&table, &options, &mut conn, Target::Latest).unwrap();
        assert_eq!(report.steps.len(), 3);
        assert_eq!(*seen.lock().unwrap(), [1, 2, 3]);
        // Each migration's rows once: the first pass was rolled back before the second.
        assert_eq!(count(&conn, "SELECT count(*) FROM log"), 3);
        assert_eq!(count(&conn, "SELECT count(*) FROM child"), 2);
        let history = "SELECT count(*) FROM schema_migrations_history";
        assert_eq!(count(&conn, history), 3);
    }

    #[test]
    fn a_new_orphan_after_old_ones_is_the_migration_s_and_nothing_stays() {
        let table = set(&[
            ("000001_log.up.sql", "INSERT INTO log VALUES ('one');"),
            ("000002_child.up.sql", "INSERT INTO child VALUES (2, NULL);"),
            ("000003_bad.up.sql", "INSERT INTO child VALUES (3, 77);"),
        ]);
        let mut conn = with_an_old_orphan();
        let (options, seen) = told();
        let error = run(&table, &options, &mut conn, Target::Latest).unwrap_err();
        match &error {
            Error::ForeignKeyViolation {
                version,
                violations,
                total,
                ..
            } => {
                assert_eq!((*version, *total), (3, 1));
                assert_eq!(violations[0].rowid, Some(3));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(*seen.lock().unwrap(), [1, 2]);
        assert_eq!(count(&conn, "SELECT count(*) FROM log"), 0);
        assert_eq!(count(&conn, "SELECT count(*) FROM child"), 1);
    }
}
