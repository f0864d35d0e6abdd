//! The public operations: golang-migrate's Up, Migrate, Steps, Version and Force, plus status.

use migrate_core::{Database, ForeignKeys, Migration};
use migrate_engine::{Error, Options, Report, SchemaVersion, Status, Target};
use rusqlite::Connection;

use crate::migrations::Migrations;

/// A set of migrations with [`Options`]: the same operations as [`Migrations`], with a custom
/// version table, busy timeout, baseline or commit policy.
///
/// # Example
/// ```
/// # static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::Migrations::__from_static(&[]);
/// use migrate_runtime::Options;
/// let mut conn = rusqlite::Connection::open_in_memory()?;
/// let report = MIGRATIONS
///     .with_options(Options::new().table_name("app_versions"))
///     .up(&mut conn)?;
/// assert!(report.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Migrator<'a> {
    pub(crate) migrations: &'a Migrations,
    pub(crate) options: Options,
}

impl Migrations {
    /// These migrations with custom [`Options`]. A set declared
    /// `foreign_keys = "unenforced"` keeps that policy whatever `options` say.
    pub fn with_options(&self, options: Options) -> Migrator<'_> {
        Migrator {
            migrations: self,
            options: self.declared(options),
        }
    }

    /// `options` with what the set declares (`embed_migrations!("…", foreign_keys = …)`).
    fn declared(&self, options: Options) -> Options {
        match self.foreign_keys() {
            ForeignKeys::Unenforced => options.foreign_keys(ForeignKeys::Unenforced),
            ForeignKeys::Enforced => options,
        }
    }

    /// Applies every pending migration, in order (golang-migrate's `Up`).
    ///
    /// All pending migrations run in one `BEGIN IMMEDIATE` transaction together with the
    /// version update, so a failure leaves the database exactly as it was. Only migrations
    /// that run outside a transaction (`-- migrate:no-transaction`) split the run (see the
    /// crate docs). When nothing is pending, this is one read and writes nothing.
    ///
    /// # Errors
    /// A failing migration ([`Error::Migration`], naming the file and line), a dirty database,
    /// a database newer than this binary, or a SQLite failure. See [`Error`]. A set written for
    /// another database ([`Migrations::database`]) is refused with [`Error::WrongDatabase`]
    /// before the connection is touched, as by every operation here.
    pub fn up(&self, conn: &mut Connection) -> Result<Report, Error> {
        self.with_options(Options::default()).up(conn)
    }

    /// Applies at most `steps` pending migrations, in order (golang-migrate's `Steps(n)`, the
    /// CLI's `up N`); all of them when fewer are pending, and nothing when `steps` is 0.
    ///
    /// The pending migrations are counted from the version read inside the run's `BEGIN
    /// IMMEDIATE` transaction, so a concurrent starter that applied some first is taken into
    /// account: this never applies more than `steps`. They run in one transaction, as
    /// [`Migrations::up`]'s do.
    ///
    /// ```
    /// # static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::Migrations::__from_static(&[]);
    /// let mut conn = rusqlite::Connection::open_in_memory()?;
    /// let report = MIGRATIONS.up_by(&mut conn, 2)?;
    /// assert!(report.steps.len() <= 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Migrations::up`].
    pub fn up_by(&self, conn: &mut Connection, steps: usize) -> Result<Report, Error> {
        self.with_options(Options::default()).up_by(conn, steps)
    }

    /// Goes up or down to exactly `version`; `0` means nothing applied (golang-migrate's
    /// `Migrate`).
    ///
    /// # Errors
    /// As [`Migrations::up`], plus [`Error::TargetOutOfRange`] for an unknown version and
    /// [`Error::Irreversible`] when the way down passes an irreversible migration (refused
    /// before anything runs).
    pub fn to(&self, conn: &mut Connection, version: u64) -> Result<Report, Error> {
        self.with_options(Options::default()).to(conn, version)
    }

    /// Rolls back the last `steps` migrations (golang-migrate's `Steps(-n)`).
    ///
    /// # Errors
    /// As [`Migrations::to`], plus [`Error::TooManySteps`] when fewer migrations are applied.
    pub fn down(&self, conn: &mut Connection, steps: usize) -> Result<Report, Error> {
        self.with_options(Options::default()).down(conn, steps)
    }

    /// The database's version and dirty flag. Read-only: a database without a version table
    /// is at "nothing applied".
    ///
    /// # Errors
    /// A version table in a state no migration tool writes, or a SQLite failure;
    /// [`Error::WrongDatabase`] for a set written for another database.
    pub fn version(&self, conn: &Connection) -> Result<SchemaVersion, Error> {
        self.with_options(Options::default()).version(conn)
    }

    /// Records `version` (`0`: nothing applied) as the database's clean version without
    /// running anything: recovery from a dirty state, as golang-migrate's `Force`.
    ///
    /// # Errors
    /// [`Error::TargetOutOfRange`] for an unknown version, or a SQLite failure;
    /// [`Error::WrongDatabase`] for a set written for another database.
    pub fn force(&self, conn: &mut Connection, version: u64) -> Result<(), Error> {
        self.with_options(Options::default()).force(conn, version)
    }

    /// Every migration and whether it is applied, with the database's version. Read-only.
    ///
    /// # Errors
    /// As [`Migrations::version`].
    pub fn status(&self, conn: &Connection) -> Result<Status<'_>, Error> {
        self.with_options(Options::default()).status(conn)
    }
}

impl<'a> Migrator<'a> {
    /// The migrations, for the engine's SQLite operations: every call into the engine goes
    /// through here, so a set written for another database is refused before the connection
    /// is touched.
    fn sqlite_set(&self) -> Result<&'a [Migration], Error> {
        match self.migrations.database() {
            Database::Sqlite => Ok(self.migrations.as_slice()),
            set => Err(Error::WrongDatabase {
                set,
                connection: Database::Sqlite,
            }),
        }
    }

    /// The one way the facade changes a database: the engine's run towards `target`.
    fn run(&self, conn: &mut Connection, target: Target) -> Result<Report, Error> {
        migrate_engine::run(self.sqlite_set()?, &self.options, conn, target)
    }

    /// [`Migrations::up`] with these options.
    ///
    /// # Errors
    /// As [`Migrations::up`], plus [`Error::InvalidTableName`].
    pub fn up(&self, conn: &mut Connection) -> Result<Report, Error> {
        self.run(conn, Target::Latest)
    }

    /// [`Migrations::up_by`] with these options.
    ///
    /// # Errors
    /// As [`Migrations::up_by`], plus [`Error::InvalidTableName`].
    pub fn up_by(&self, conn: &mut Connection, steps: usize) -> Result<Report, Error> {
        self.run(conn, Target::UpSteps(steps))
    }

    /// [`Migrations::to`] with these options.
    ///
    /// # Errors
    /// As [`Migrations::to`], plus [`Error::InvalidTableName`].
    pub fn to(&self, conn: &mut Connection, version: u64) -> Result<Report, Error> {
        self.run(conn, Target::Version(version))
    }

    /// [`Migrations::down`] with these options.
    ///
    /// # Errors
    /// As [`Migrations::down`], plus [`Error::InvalidTableName`].
    pub fn down(&self, conn: &mut Connection, steps: usize) -> Result<Report, Error> {
        self.run(conn, Target::DownSteps(steps))
    }

    /// [`Migrations::version`] with these options.
    ///
    /// # Errors
    /// As [`Migrations::version`], plus [`Error::InvalidTableName`].
    pub fn version(&self, conn: &Connection) -> Result<SchemaVersion, Error> {
        self.sqlite_set()?;
        migrate_engine::version(&self.options, conn)
    }

    /// [`Migrations::force`] with these options.
    ///
    /// # Errors
    /// As [`Migrations::force`], plus [`Error::InvalidTableName`].
    pub fn force(&self, conn: &mut Connection, version: u64) -> Result<(), Error> {
        migrate_engine::force(self.sqlite_set()?, &self.options, conn, version)
    }

    /// [`Migrations::status`] with these options.
    ///
    /// # Errors
    /// As [`Migrations::status`], plus [`Error::InvalidTableName`].
    pub fn status(&self, conn: &Connection) -> Result<Status<'a>, Error> {
        migrate_engine::status(self.sqlite_set()?, &self.options, conn)
    }
}
