//! A run on PostgreSQL: the same plan, refusals, report and messages as on SQLite, with
//! PostgreSQL's locking and transactions.
//!
//! 1. The idle path: one look for the tables and one read of the version with the newest
//!    lineage; when the database is at the goal and nothing changed, the run ends there,
//!    having taken no lock and written nothing (so it works on a read-only role).
//! 2. Otherwise the session advisory lock with golang-migrate's key ([`lock`]), waiting at
//!    most `Options::busy_timeout`, released at the end on every path.
//! 3. Then, in one transaction: the version read again (after the lock), the tables created
//!    if missing, the refusals (dirty, unknown version, changed files, skipped migrations),
//!    every pending migration up to the next `-- migrate:no-transaction` one, the version
//!    (`TRUNCATE` and one row, as golang-migrate writes it) and the history rows.
//! 4. A `-- migrate:no-transaction` migration runs with golang-migrate's dirty protocol: the
//!    version marked dirty and committed, the statements sent one at a time outside any
//!    transaction, then the version made clean.
//!
//! [`lock`]: crate::postgres::lock

use std::time::{Duration, Instant};

use log::info;
use migrate_core::{Direction, Migration};

use crate::drift;
use crate::error::{DirtyOrigin, Error, LeftAt};
use crate::options::Options;
use crate::plan::Target;
use crate::plan::{Set, plan, version_after};
use crate::postgres::client::Client;
use crate::postgres::history;
use crate::postgres::lock;
use crate::postgres::script::{run_in_transaction, run_one_at_a_time};
use crate::postgres::tables::{self, Tables};
use crate::report::{Report, Step};
use crate::values::SchemaVersion;

/// Applies or rolls back migrations until the database is at `target`.
pub(crate) async fn migrate<C: Client>(
    migrations: Set<'_>,
    options: &Options,
    client: &mut C,
    target: Target,
) -> Result<Report, Error> {
    if let Target::Version(v) = target
        && v > migrations.latest().unwrap_or(0)
    {
        return Err(Error::TargetOutOfRange {
            target: v,
            latest: migrations.latest(),
        });
    }
    let tables = Tables::locate(client, &options.table_name).await?;
    if let Some(report) = idle(migrations, options, &tables, client, target).await? {
        return Ok(report);
    }
    if tables.in_callers_transaction(client).await? {
        // Its COMMIT would be ours, and our ROLLBACK would undo the caller's work.
        return Err(Error::CallersTransaction);
    }
    let held = tables.clone();
    let mut run = Run {
        migrations,
        options,
        tables,
        target,
        baselined: false,
        left: None,
        goal: None,
        report: Report::default(),
    };
    locked(client, &held, options, async |client| run.all(client).await).await?;
    Ok(run.report)
}

/// With the lock held: runs `f` on the client, then releases the lock, on every path (a run,
/// and `force`). A failed statement leaves the transaction aborted: it is ended before the
/// lock is released. The error of `f` matters most; then whatever could not be put back.
pub(crate) async fn locked<C: Client, T>(
    client: &mut C,
    tables: &Tables,
    options: &Options,
    f: impl AsyncFnOnce(&mut C) -> Result<T, Error>,
) -> Result<T, Error> {
    let keys = lock::keys(tables);
    lock::acquire(client, &keys, options.busy_timeout).await?;
    let result = f(client).await;
    let rolled_back = if result.is_err() {
        client
            .batch("ROLLBACK")
            .await
            .map_err(Error::postgres("rolling back the migration transaction"))
    } else {
        Ok(())
    };
    let released = lock::release(client, &keys).await;
    let value = result?;
    rolled_back?;
    released?;
    Ok(value)
}

/// What one attempt achieved.
enum Attempt {
    Done,
    Progress,
}

/// A run's fixed inputs and what it did so far.
struct Run<'a> {
    migrations: Set<'a>,
    options: &'a Options,
    tables: Tables,
    target: Target,
    baselined: bool,
    left: Option<LeftAt>,
    goal: Option<Option<u64>>,
    report: Report,
}

/// The start-up fast path (see the module's documentation). `None`: take the full path,
/// which also reports anything wrong properly.
async fn idle<C: Client>(
    migrations: Set<'_>,
    options: &Options,
    tables: &Tables,
    client: &mut C,
    target: Target,
) -> Result<Option<Report>, Error> {
    let (state, lineage) = if !tables.table_exists {
        (SchemaVersion::default(), None)
    } else if tables.history_exists {
        // The simple query protocol: one round trip, nothing prepared.
        let Ok(rows) = client
            .text_rows(&format!(
                "SELECT version::bigint, dirty, (SELECT version::text || ' ' || lineage \
                 FROM {} WHERE version <= v.version AND direction = 'up' \
                 ORDER BY version DESC, id DESC LIMIT 1) FROM {} v",
                tables.history, tables.table
            ))
            .await
        else {
            return Ok(None);
        };
        let Ok(state) = tables.decode_text(&rows) else {
            return Ok(None);
        };
        let recorded = rows
            .first()
            .and_then(|row| row.get(2).cloned().flatten())
            .and_then(|text| {
                let (version, hex) = text.split_once(' ')?;
                version
                    .parse::<u64>()
                    .ok()
                    .zip(migrate_core::Checksum::from_hex(hex))
            });
        (state, recorded)
    } else {
        match tables.read(client).await {
            Ok(state) => (state, None),
            Err(_) => return Ok(None),
        }
    };
    let reached = match target {
        Target::Latest => state.version == migrations.latest(),
        Target::Version(v) => state.version.unwrap_or(0) == v,
        Target::DownSteps(steps) => steps == 0,
        Target::UpSteps(steps) => steps == 0 || state.version == migrations.latest(),
    };
    let known = state.version <= migrations.latest();
    if !(reached && known && !state.dirty) {
        return Ok(None);
    }
    let unchanged = match lineage {
        Some((version, recorded)) => {
            migrations.get(version).map(Migration::lineage) == Some(recorded)
                || ((options.allow_changed
                    || history::applied_checksums(client, tables)
                        .await
                        .is_ok_and(|recorded| {
                            drift::changed(migrations.0, state.version, &recorded).is_empty()
                        }))
                    && skipped(migrations, tables, client, state.version)
                        .await
                        .is_ok_and(|skipped| skipped.is_empty()))
        }
        None => true,
    };
    Ok(unchanged.then_some(Report {
        from: state.version,
        to: state.version,
        steps: Vec::new(),
    }))
}

impl Run<'_> {
    async fn all<C: Client>(&mut self, client: &mut C) -> Result<(), Error> {
        loop {
            match self.attempt(client).await {
                Ok(Attempt::Done) => return Ok(()),
                Ok(Attempt::Progress) => {}
                Err(error) => return Err(self.stopped(error)),
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
            Error::Migration { .. } | Error::EndsTransaction { .. } => error,
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

    async fn attempt<C: Client>(&mut self, client: &mut C) -> Result<Attempt, Error> {
        client
            .batch("BEGIN")
            .await
            .map_err(Error::postgres("starting the migration transaction"))?;
        let state = self.state(client).await?;
        let goal = self.goal(state.version)?;
        let steps = plan(self.migrations, state.version, goal)?;
        if !self.options.allow_changed {
            self.check_downs_unchanged(client, &steps).await?;
        }
        let Some(&(first, direction)) = steps.first() else {
            // Nothing to do: nothing is written (the tables this attempt created go with the
            // rollback), unless a baseline was recorded.
            let end = if self.baselined { "COMMIT" } else { "ROLLBACK" };
            client
                .batch(end)
                .await
                .map_err(Error::postgres("ending the migration transaction"))?;
            self.report.to = state.version;
            return Ok(Attempt::Done);
        };
        if first.script(direction).no_transaction() {
            let after = version_after(self.migrations, first, direction);
            self.tables
                .write(
                    client,
                    SchemaVersion {
                        version: after,
                        dirty: true,
                    },
                )
                .await?;
            let started_row = history::insert(
                client,
                &self.tables,
                first,
                direction,
                Duration::ZERO,
                false,
            )
            .await?;
            client
                .batch("COMMIT")
                .await
                .map_err(Error::postgres("marking the version dirty"))?;
            self.left = Some(LeftAt::Dirty(after));
            self.outside_transaction(client, first, direction, started_row)
                .await?;
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
            self.in_transaction(client, state.version, &chunk).await?;
            if chunk.len() == steps.len() {
                self.report.to = goal;
                return Ok(Attempt::Done);
            }
        }
        Ok(Attempt::Progress)
    }

    /// Runs `chunk` in the open transaction and commits it with the new version and the
    /// history rows; a failure leaves the transaction for the caller to roll back.
    async fn in_transaction<C: Client>(
        &mut self,
        client: &mut C,
        before: Option<u64>,
        chunk: &[(&Migration, Direction)],
    ) -> Result<(), Error> {
        let mut durations = Vec::with_capacity(chunk.len());
        let mut after = before;
        for (migration, direction) in chunk {
            let started = Instant::now();
            run_in_transaction(client, migration.script(*direction).sql())
                .await
                .map_err(|failure| {
                    Error::migration(
                        migration,
                        *direction,
                        failure,
                        LeftAt::Clean(before),
                        self.committed(),
                    )
                })?;
            let duration = started.elapsed();
            self.options
                .step_done(&Step::of(migration, *direction, duration));
            durations.push(duration);
            after = version_after(self.migrations, migration, *direction);
        }
        let runs: Vec<_> = chunk
            .iter()
            .zip(&durations)
            .map(|((migration, direction), duration)| (*migration, *direction, *duration))
            .collect();
        history::insert_finished(client, &self.tables, &runs).await?;
        self.tables
            .write(
                client,
                SchemaVersion {
                    version: after,
                    dirty: false,
                },
            )
            .await?;
        client
            .batch("COMMIT")
            .await
            .map_err(Error::postgres("committing the migrations"))?;
        self.left = Some(LeftAt::Clean(after));
        for ((migration, direction), duration) in chunk.iter().zip(durations) {
            self.record(migration, *direction, duration);
        }
        Ok(())
    }

    /// Runs a `-- migrate:no-transaction` migration once the version is marked dirty (and
    /// its start recorded in history row `started_row`): its statements one at a time outside
    /// any transaction, then the version made clean.
    async fn outside_transaction<C: Client>(
        &mut self,
        client: &mut C,
        migration: &Migration,
        direction: Direction,
        started_row: i64,
    ) -> Result<(), Error> {
        let after = version_after(self.migrations, migration, direction);
        let started = Instant::now();
        run_one_at_a_time(client, migration.script(direction).sql())
            .await
            .map_err(|failure| {
                Error::migration(
                    migration,
                    direction,
                    failure,
                    LeftAt::Dirty(after),
                    self.committed(),
                )
            })?;
        let duration = started.elapsed();
        if in_transaction_block(client).await? {
            client.batch("ROLLBACK").await.map_err(Error::postgres(
                "rolling back the transaction a no-transaction migration left open",
            ))?;
            return Err(Error::EndsTransaction {
                file: migration.script(direction).file_name().to_owned(),
                left_at: LeftAt::Dirty(after),
                committed: self.committed(),
            });
        }
        self.options
            .step_done(&Step::of(migration, direction, duration));
        client.batch("BEGIN").await.map_err(Error::postgres(
            "starting the transaction that clears dirty",
        ))?;
        self.tables
            .write(
                client,
                SchemaVersion {
                    version: after,
                    dirty: false,
                },
            )
            .await?;
        history::finish(client, &self.tables, started_row, duration).await?;
        client
            .batch("COMMIT")
            .await
            .map_err(Error::postgres("clearing the dirty flag"))?;
        self.left = Some(LeftAt::Clean(after));
        self.record(migration, direction, duration);
        Ok(())
    }

    fn record(&mut self, migration: &Migration, direction: Direction, duration: Duration) {
        info!(
            target: "migrate",
            "{} {} {} in {:.1} ms",
            direction.as_str(),
            migration.version(),
            migration.name(),
            duration.as_secs_f64() * 1000.0
        );
        self.report
            .steps
            .push(Step::of(migration, direction, duration));
    }

    /// Reads the state inside the transaction (after the lock), creating the tables (and
    /// applying the baseline rule) if they do not exist yet, and refuses states that cannot be
    /// migrated, before anything is written.
    async fn state<C: Client>(&mut self, client: &mut C) -> Result<SchemaVersion, Error> {
        // Another run may have created the tables since they were located.
        self.tables = Tables::locate(client, &self.tables.name).await?;
        let state = if self.tables.table_exists {
            self.tables.check_layout(client).await?;
            self.tables.read(client).await?
        } else {
            self.tables.create(client).await?;
            let state = self.baseline(client).await?;
            self.tables.write(client, state).await?;
            self.baselined = state.version.is_some();
            state
        };
        if self.report.steps.is_empty() && self.left.is_none() {
            self.report.from = state.version;
        }
        let origin = if state.dirty {
            Some(dirty_origin(self.migrations, &self.tables, client, state.version).await?)
        } else {
            None
        };
        crate::drift::refuse_state(self.migrations, state, &self.tables.name, origin)?;
        if !self.tables.history_exists {
            history::create(client, &self.tables).await?;
            self.tables.history_exists = true;
        } else if !self.options.allow_changed {
            self.check_unchanged(client, state.version).await?;
        }
        let skipped = skipped(self.migrations, &self.tables, client, state.version).await?;
        if let (false, Some(database)) = (skipped.is_empty(), state.version) {
            return Err(Error::Skipped {
                skipped,
                database,
                table: self.tables.history_name.clone(),
            });
        }
        Ok(state)
    }

    /// Refuses applied migrations edited since (as on SQLite: the recorded lineage first,
    /// then file by file to name them).
    async fn check_unchanged<C: Client>(
        &self,
        client: &mut C,
        current: Option<u64>,
    ) -> Result<(), Error> {
        let Some(version) = current else {
            return Ok(());
        };
        match history::recorded_lineage(client, &self.tables, version).await? {
            Some((v, recorded))
                if Some(recorded) != self.migrations.get(v).map(Migration::lineage) => {}
            _ => return Ok(()),
        }
        let recorded = history::applied_checksums(client, &self.tables).await?;
        let changed = drift::changed(self.migrations.0, current, &recorded);
        if changed.is_empty() {
            return Ok(());
        }
        Err(Error::Changed {
            changed,
            table: self.tables.history_name.clone(),
        })
    }

    /// Refuses to run a down that differs from the one shipped with the applied up.
    async fn check_downs_unchanged<C: Client>(
        &self,
        client: &mut C,
        steps: &[(&Migration, Direction)],
    ) -> Result<(), Error> {
        if !steps.iter().any(|(_, d)| *d == Direction::Down) {
            return Ok(());
        }
        let recorded = history::recorded_downs(client, &self.tables).await?;
        let changed = drift::changed_downs(
            steps
                .iter()
                .filter(|(_, d)| *d == Direction::Down)
                .map(|(m, _)| *m),
            &recorded,
        );
        if changed.is_empty() {
            return Ok(());
        }
        Err(Error::Changed {
            changed,
            table: self.tables.history_name.clone(),
        })
    }

    /// The state a database without a version table starts from.
    async fn baseline<C: Client>(&self, client: &mut C) -> Result<SchemaVersion, Error> {
        let Some(baseline) = &self.options.baseline else {
            return Ok(SchemaVersion::default());
        };
        baseline.check(self.migrations.latest())?;
        let legacy = self
            .tables
            .other_table_exists(client, &baseline.table)
            .await?;
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

/// Whether the session is inside a transaction block (one a no-transaction script began and
/// did not end): there `now()`, the start of the transaction, stays the same from one
/// statement to the next.
async fn in_transaction_block<C: Client>(client: &mut C) -> Result<bool, Error> {
    Ok(tables::now(client).await? == tables::now(client).await?)
}

/// Who left a database dirty at `version` (read-only).
pub(crate) async fn dirty_origin<C: Client>(
    migrations: Set<'_>,
    tables: &Tables,
    client: &mut C,
    version: Option<u64>,
) -> Result<DirtyOrigin, Error> {
    if !tables.history_exists {
        return Ok(DirtyOrigin::OtherTool);
    }
    Ok(drift::dirty_origin(
        migrations,
        history::unfinished(client, tables).await?,
        version,
    ))
}

/// The migrations older than `current` that never ran on the database (as on SQLite).
pub(crate) async fn skipped<C: Client>(
    migrations: Set<'_>,
    tables: &Tables,
    client: &mut C,
    current: Option<u64>,
) -> Result<Vec<(u64, String)>, Error> {
    let Some(current) = current else {
        return Ok(Vec::new());
    };
    if !tables.history_exists {
        return Ok(Vec::new());
    }
    let older = migrations.between(0, current.saturating_sub(1));
    if older.is_empty() {
        return Ok(Vec::new());
    }
    let embedded = migrations.get(current).map(Migration::lineage);
    if let Some((recorded_at, lineage)) = history::recorded_lineage(client, tables, current).await?
        && recorded_at == current
        && Some(lineage) == embedded
    {
        return Ok(Vec::new());
    }
    let last_run = history::last_runs(client, tables).await?;
    Ok(drift::never_ran(older, &last_run))
}
