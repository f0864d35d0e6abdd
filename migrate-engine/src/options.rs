//! How a run behaves: the version table's name, the busy timeout, the baseline rule for legacy
//! databases, how often to commit, and whether the service enforces foreign keys.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use migrate_core::ForeignKeys;
use rusqlite::hooks::{AuthContext, Authorization};

use crate::report::Step;
use crate::sqlite::fk_check::ForeignKeyGraph;

/// Options for applying migrations. The defaults suit most services; see
/// `Migrations::with_options` in `migrate-runtime`.
///
/// # Example
/// ```
/// use std::time::Duration;
/// use migrate_engine::Options;
/// let options = Options::new()
///     .table_name("schema_migrations")
///     .busy_timeout(Duration::from_secs(30))
///     .baseline_if_table_exists("quality_profile", 1);
/// # let _ = options;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub(crate) table_name: Cow<'static, str>,
    pub(crate) busy_timeout: Duration,
    pub(crate) baseline: Option<Baseline>,
    pub(crate) commit_each: bool,
    pub(crate) allow_changed: bool,
    pub(crate) on_step: Option<OnStep>,
    pub(crate) foreign_keys: ForeignKeys,
    /// An authorizer that the run keeps in force beside its own (the compile-time verifier's
    /// sandbox), and leaves installed afterwards.
    pub(crate) observer: Option<Observer>,
    /// The foreign-key graph kept from one run to the next on the same connection.
    pub(crate) foreign_key_graph: Option<SharedGraph>,
}

/// The callback given to [`Options::on_step`]. Two options are equal only if they hold the same
/// callback (the same `Arc`).
#[derive(Clone)]
pub(crate) struct OnStep(Arc<dyn Fn(&Step) + Send + Sync>);

impl fmt::Debug for OnStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OnStep(..)")
    }
}

impl PartialEq for OnStep {
    fn eq(&self, other: &OnStep) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for OnStep {}

/// A foreign-key graph shared by the runs of one caller on one connection.
#[derive(Clone, Default)]
pub(crate) struct SharedGraph(pub(crate) Arc<Mutex<ForeignKeyGraph>>);

impl fmt::Debug for SharedGraph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedGraph")
    }
}

impl PartialEq for SharedGraph {
    fn eq(&self, other: &SharedGraph) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for SharedGraph {}

/// An authorizer callback shared between a caller inside this crate and the run.
#[derive(Clone)]
pub(crate) struct Observer(pub(crate) Arc<dyn Fn(&AuthContext<'_>) -> Authorization + Send + Sync>);

impl fmt::Debug for Observer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Observer")
    }
}

impl PartialEq for Observer {
    fn eq(&self, other: &Observer) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Observer {}

/// The baseline rule for a database that predates migrations: when there is no version table
/// yet but `table` exists, the database is recorded at `version` without running anything.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Baseline {
    /// A table that only a database with the legacy schema has.
    pub table: String,
    /// The version whose schema the legacy database has.
    pub version: u64,
}

impl Baseline {
    /// Refuses a baseline version past the set's `latest` migration.
    pub(crate) fn check(&self, latest: Option<u64>) -> Result<(), crate::error::Error> {
        if self.version > latest.unwrap_or(0) {
            return Err(crate::error::Error::TargetOutOfRange {
                target: self.version,
                latest,
            });
        }
        Ok(())
    }

    /// The state a database without a version table starts from, given whether it has the
    /// baseline's `table` (`legacy`): at the baseline version, or nothing applied.
    pub(crate) fn state(&self, legacy: bool) -> crate::values::SchemaVersion {
        if legacy {
            log::info!(
                target: "migrate",
                "baseline: table {} exists, recording version {} without running it",
                self.table, self.version
            );
        }
        crate::values::SchemaVersion {
            version: (legacy && self.version > 0).then_some(self.version),
            dirty: false,
        }
    }
}

impl Default for Options {
    fn default() -> Options {
        Options {
            table_name: Cow::Borrowed("schema_migrations"),
            busy_timeout: Duration::from_secs(60),
            baseline: None,
            commit_each: false,
            allow_changed: false,
            on_step: None,
            foreign_keys: ForeignKeys::Enforced,
            observer: None,
            foreign_key_graph: None,
        }
    }
}

impl Options {
    /// The defaults: table `schema_migrations` (golang-migrate's), a 60-second busy timeout, no
    /// baseline, one transaction for all pending migrations, foreign keys enforced.
    pub fn new() -> Options {
        Options::default()
    }

    /// The version table's name (default `schema_migrations`). It must be a plain identifier;
    /// a run with any other name fails with [`Error::InvalidTableName`](crate::Error::InvalidTableName)
    /// before touching the database.
    pub fn table_name(mut self, name: impl Into<Cow<'static, str>>) -> Options {
        self.table_name = name.into();
        self
    }

    /// How long to wait for another connection's write lock (default 60 s): concurrent
    /// starters wait for each other instead of failing with "database is locked". The
    /// connection's own busy timeout is restored afterwards. On PostgreSQL, how long a run
    /// waits for the migration lock (the advisory lock another run or golang-migrate holds)
    /// before failing with `Error::LockTimeout` (a variant of the `tokio-postgres` feature).
    pub fn busy_timeout(mut self, timeout: Duration) -> Options {
        self.busy_timeout = timeout;
        self
    }

    /// Baselines a legacy database: when there is no version table yet but `table` exists,
    /// record `version` as applied without running it (golang-migrate's `force` at start-up,
    /// done safely).
    pub fn baseline_if_table_exists(mut self, table: impl Into<String>, version: u64) -> Options {
        self.baseline = Some(Baseline {
            table: table.into(),
            version,
        });
        self
    }

    /// Accept applied migrations whose file changed since they were applied (default off: a
    /// run refuses with [`Error::Changed`](crate::Error::Changed), naming the files). Line
    /// endings and a byte-order mark never count as a change.
    pub fn allow_changed_migrations(mut self, yes: bool) -> Options {
        self.allow_changed = yes;
        self
    }

    /// How the service treats foreign keys (default [`ForeignKeys::Enforced`]).
    ///
    /// Either way a run turns the connection's enforcement off before its transaction and
    /// restores it afterwards, so no migration can delete or change rows through a foreign-key
    /// action (`ON DELETE CASCADE`, `SET NULL`, …), whatever it writes. With `Enforced`, and a
    /// connection that enforces foreign keys, each migration is followed inside the transaction
    /// by `PRAGMA foreign_key_check` on the tables it touched and the children of those, so a
    /// migration that leaves a reference dangling fails, naming itself and the rows. With
    /// `Unenforced` (a service that runs without enforcement on purpose, as go-sqlite3 does by
    /// default) nothing is checked.
    pub fn foreign_keys(mut self, policy: ForeignKeys) -> Options {
        self.foreign_keys = policy;
        self
    }

    /// An SQLite authorizer of the caller's to keep in force during and after a run.
    ///
    /// A run installs an authorizer of its own on the connection (to see which tables each
    /// migration touches, and to make `PRAGMA foreign_keys` a no-op inside migrations), and
    /// rusqlite cannot read back one that was installed before: an authorizer given here is
    /// called by the run's for every statement (its `Deny` refuses the statement; the run
    /// still skips every `PRAGMA foreign_keys` in a migration), and is the connection's
    /// authorizer again when the run ends.
    ///
    /// # Example
    /// ```
    /// use migrate_engine::Options;
    /// use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
    /// let options = Options::new().authorizer(|context: &AuthContext<'_>| match context.action {
    ///     AuthAction::Delete { table_name: "audit_log" } => Authorization::Deny,
    ///     _ => Authorization::Allow,
    /// });
    /// # let _ = options;
    /// ```
    pub fn authorizer(
        mut self,
        authorizer: impl Fn(&AuthContext<'_>) -> Authorization + Send + Sync + 'static,
    ) -> Options {
        self.observer = Some(Observer(Arc::new(authorizer)));
        self
    }

    /// Keeps what the foreign-key check learns about the schema from one run to the next, for
    /// a caller that runs many times on one connection (the verifier): each run checks that
    /// the schema is the one the graph describes before using it.
    pub(crate) fn keep_foreign_key_graph(mut self) -> Options {
        self.foreign_key_graph = Some(SharedGraph::default());
        self
    }

    /// Commit after each migration instead of once for the whole run (default off). A failure
    /// then keeps the migrations before it; by default it rolls back the whole run.
    pub fn commit_each_migration(mut self, yes: bool) -> Options {
        self.commit_each = yes;
        self
    }

    /// Calls `callback` with each [`Step`] as soon as its migration's SQL has run, before the
    /// transaction it shares with the following migrations commits: a progress display moves
    /// with every migration, not only at each commit. A step reported this way can still be
    /// rolled back by a later failure in the same transaction: the returned
    /// [`Report`](crate::Report), or the error's `left_at`, says where the database ended. The
    /// callback runs on the thread that called `up`, `to` or `down`, while SQLite's write lock
    /// is held: keep it short.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use migrate_engine::Options;
    ///
    /// let ran = Arc::new(AtomicUsize::new(0));
    /// let counter = Arc::clone(&ran);
    /// let options = Options::new().on_step(move |step| {
    ///     counter.fetch_add(1, Ordering::Relaxed);
    ///     eprintln!("{} {} {}", step.direction.as_str(), step.version, step.name);
    /// });
    /// # let _ = (options, ran);
    /// ```
    pub fn on_step(mut self, callback: impl Fn(&Step) + Send + Sync + 'static) -> Options {
        self.on_step = Some(OnStep(Arc::new(callback)));
        self
    }

    /// Reports `step` to the [`on_step`](Options::on_step) callback, if there is one.
    pub(crate) fn step_done(&self, step: &Step) {
        if let Some(OnStep(callback)) = &self.on_step {
            callback(step);
        }
    }
}
