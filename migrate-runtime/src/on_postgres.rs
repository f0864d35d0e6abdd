//! The same operations on PostgreSQL: [`Migrations::postgres`] for the `postgres` crate's
//! blocking client (feature `postgres`), [`Migrations::tokio_postgres`] for `tokio-postgres`
//! (feature `tokio-postgres`; deadpool-postgres' and bb8's pooled objects dereference to its
//! client).
//!
//! golang-migrate's layout to the letter: `schema_migrations (version bigint not null primary
//! key, dirty boolean not null)` in the session's current schema, written as its postgres
//! driver writes it, and its advisory-lock key, so Go and Rust replicas of one service
//! exclude each other. A run takes that session advisory lock first (waiting at most
//! [`Options::busy_timeout`], then failing with [`Error::LockTimeout`] naming who holds it),
//! runs every pending migration and the version in one transaction, and releases the lock on
//! every path. `-- migrate:no-transaction` migrations (`CREATE INDEX CONCURRENTLY`) run
//! statement by statement outside a transaction, with the version marked dirty around them.

use migrate_core::{Database, Migration};
use migrate_engine::{Error, Options, Report, SchemaVersion, Status, Target};

use crate::migrations::Migrations;
use crate::migrator::Migrator;

/// The migrations, for the engine's PostgreSQL operations: every call into the engine goes
/// through here, so a set declared for another database is refused before the client is used.
fn postgres_set(migrations: &Migrations) -> Result<&[Migration], Error> {
    match migrations.database() {
        Database::Postgres => Ok(migrations.as_slice()),
        set => Err(Error::WrongDatabase {
            set,
            connection: Database::Postgres,
        }),
    }
}

impl Migrations {
    /// These migrations on PostgreSQL through the `postgres` crate's blocking client, with
    /// the default [`Options`].
    ///
    /// ```no_run
    /// use migrate_runtime::{embed_migrations, Migrations};
    /// use migrate_runtime::postgres::{Client, NoTls};
    ///
    /// static MIGRATIONS: Migrations = embed_migrations!("migrations", database = "postgres");
    ///
    /// let mut client = Client::connect("postgres://app@localhost/shop", NoTls)?;
    /// let report = MIGRATIONS.postgres().up(&mut client)?;
    /// println!("{report}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "postgres")]
    pub fn postgres(&self) -> PostgresMigrator<'_> {
        self.with_options(Options::default()).postgres()
    }

    /// These migrations on PostgreSQL through `tokio-postgres`, with the default [`Options`].
    ///
    /// The client comes from `tokio_postgres::connect` (whose connection future the service
    /// spawns), or from a pool: deadpool-postgres' and bb8-postgres' objects dereference to it.
    ///
    /// ```no_run
    /// use migrate_runtime::{embed_migrations, Migrations};
    ///
    /// static MIGRATIONS: Migrations = embed_migrations!("migrations", database = "postgres");
    ///
    /// async fn start(client: &mut migrate_runtime::tokio_postgres::Client) -> Result<(), migrate_runtime::Error> {
    ///     let report = MIGRATIONS.tokio_postgres().up(client).await?;
    ///     println!("{report}");
    ///     Ok(())
    /// }
    /// ```
    #[cfg(feature = "tokio-postgres")]
    pub fn tokio_postgres(&self) -> TokioPostgresMigrator<'_> {
        self.with_options(Options::default()).tokio_postgres()
    }
}

impl<'a> Migrator<'a> {
    /// These migrations and options on PostgreSQL through the `postgres` crate's blocking
    /// client.
    #[cfg(feature = "postgres")]
    pub fn postgres(&self) -> PostgresMigrator<'a> {
        PostgresMigrator {
            migrations: self.migrations,
            options: self.options.clone(),
        }
    }

    /// These migrations and options on PostgreSQL through `tokio-postgres`.
    #[cfg(feature = "tokio-postgres")]
    pub fn tokio_postgres(&self) -> TokioPostgresMigrator<'a> {
        TokioPostgresMigrator {
            migrations: self.migrations,
            options: self.options.clone(),
        }
    }
}

/// A set of migrations with [`Options`] on PostgreSQL, through the `postgres` crate's blocking
/// [`Client`](postgres::Client): the operations of [`Migrations`], with the same report and
/// errors. Made by [`Migrations::postgres`] or [`Migrator::postgres`].
#[cfg(feature = "postgres")]
#[derive(Clone, Debug)]
pub struct PostgresMigrator<'a> {
    migrations: &'a Migrations,
    options: Options,
}

#[cfg(feature = "postgres")]
impl<'a> PostgresMigrator<'a> {
    fn run(&self, client: &mut postgres::Client, target: Target) -> Result<Report, Error> {
        migrate_engine::postgres::blocking::run(
            postgres_set(self.migrations)?,
            &self.options,
            client,
            target,
        )
    }

    /// Applies every pending migration, in order (golang-migrate's `Up`), in one transaction
    /// with the version, under the migration lock. When nothing is pending this takes no lock
    /// and writes nothing.
    ///
    /// # Errors
    /// A failing migration ([`Error::Migration`], naming the file and line), a dirty database,
    /// a database newer than this binary, [`Error::LockTimeout`], or [`Error::Postgres`].
    pub fn up(&self, client: &mut postgres::Client) -> Result<Report, Error> {
        self.run(client, Target::Latest)
    }

    /// Applies at most `steps` pending migrations, counted after the lock is taken.
    ///
    /// # Errors
    /// As [`up`](PostgresMigrator::up).
    pub fn up_by(&self, client: &mut postgres::Client, steps: usize) -> Result<Report, Error> {
        self.run(client, Target::UpSteps(steps))
    }

    /// Goes up or down to exactly `version`; `0` means nothing applied (golang-migrate's
    /// `Migrate`).
    ///
    /// # Errors
    /// As [`up`](PostgresMigrator::up), plus [`Error::TargetOutOfRange`] and
    /// [`Error::Irreversible`].
    pub fn to(&self, client: &mut postgres::Client, version: u64) -> Result<Report, Error> {
        self.run(client, Target::Version(version))
    }

    /// Rolls back the last `steps` migrations (golang-migrate's `Steps(-n)`).
    ///
    /// # Errors
    /// As [`to`](PostgresMigrator::to), plus [`Error::TooManySteps`].
    pub fn down(&self, client: &mut postgres::Client, steps: usize) -> Result<Report, Error> {
        self.run(client, Target::DownSteps(steps))
    }

    /// The database's version and dirty flag. Read-only.
    ///
    /// # Errors
    /// A version table in a state no migration tool writes, or [`Error::Postgres`].
    pub fn version(&self, client: &mut postgres::Client) -> Result<SchemaVersion, Error> {
        postgres_set(self.migrations)?;
        migrate_engine::postgres::blocking::version(&self.options, client)
    }

    /// Records `version` (`0`: nothing applied) as the clean version without running
    /// anything (golang-migrate's `Force`), under the migration lock.
    ///
    /// # Errors
    /// [`Error::TargetOutOfRange`], [`Error::LockTimeout`] or [`Error::Postgres`].
    pub fn force(&self, client: &mut postgres::Client, version: u64) -> Result<(), Error> {
        migrate_engine::postgres::blocking::force(
            postgres_set(self.migrations)?,
            &self.options,
            client,
            version,
        )
    }

    /// Every migration and whether it is applied, with the database's version. Read-only.
    ///
    /// # Errors
    /// As [`version`](PostgresMigrator::version).
    pub fn status(&self, client: &mut postgres::Client) -> Result<Status<'a>, Error> {
        migrate_engine::postgres::blocking::status(
            postgres_set(self.migrations)?,
            &self.options,
            client,
        )
    }
}

/// A set of migrations with [`Options`] on PostgreSQL, through `tokio-postgres`'s
/// [`Client`](tokio_postgres::Client): the operations of [`Migrations`] as `async fn`s, with
/// the same report and errors. Made by [`Migrations::tokio_postgres`] or
/// [`Migrator::tokio_postgres`]. A pooled connection of deadpool-postgres or bb8-postgres
/// dereferences to the client: pass `&mut object`.
#[cfg(feature = "tokio-postgres")]
#[derive(Clone, Debug)]
pub struct TokioPostgresMigrator<'a> {
    migrations: &'a Migrations,
    options: Options,
}

#[cfg(feature = "tokio-postgres")]
impl<'a> TokioPostgresMigrator<'a> {
    async fn run(
        &self,
        client: &mut tokio_postgres::Client,
        target: Target,
    ) -> Result<Report, Error> {
        migrate_engine::postgres::run(
            postgres_set(self.migrations)?,
            &self.options,
            client,
            target,
        )
        .await
    }

    /// Applies every pending migration (see [`PostgresMigrator::up`]).
    ///
    /// # Errors
    /// As [`PostgresMigrator::up`].
    pub async fn up(&self, client: &mut tokio_postgres::Client) -> Result<Report, Error> {
        self.run(client, Target::Latest).await
    }

    /// Applies at most `steps` pending migrations.
    ///
    /// # Errors
    /// As [`PostgresMigrator::up`].
    pub async fn up_by(
        &self,
        client: &mut tokio_postgres::Client,
        steps: usize,
    ) -> Result<Report, Error> {
        self.run(client, Target::UpSteps(steps)).await
    }

    /// Goes up or down to exactly `version`; `0` means nothing applied.
    ///
    /// # Errors
    /// As [`PostgresMigrator::to`].
    pub async fn to(
        &self,
        client: &mut tokio_postgres::Client,
        version: u64,
    ) -> Result<Report, Error> {
        self.run(client, Target::Version(version)).await
    }

    /// Rolls back the last `steps` migrations.
    ///
    /// # Errors
    /// As [`PostgresMigrator::down`].
    pub async fn down(
        &self,
        client: &mut tokio_postgres::Client,
        steps: usize,
    ) -> Result<Report, Error> {
        self.run(client, Target::DownSteps(steps)).await
    }

    /// The database's version and dirty flag. Read-only.
    ///
    /// # Errors
    /// As [`PostgresMigrator::version`].
    pub async fn version(
        &self,
        client: &mut tokio_postgres::Client,
    ) -> Result<SchemaVersion, Error> {
        postgres_set(self.migrations)?;
        migrate_engine::postgres::version(&self.options, client).await
    }

    /// Records `version` as the clean version without running anything.
    ///
    /// # Errors
    /// As [`PostgresMigrator::force`].
    pub async fn force(
        &self,
        client: &mut tokio_postgres::Client,
        version: u64,
    ) -> Result<(), Error> {
        migrate_engine::postgres::force(
            postgres_set(self.migrations)?,
            &self.options,
            client,
            version,
        )
        .await
    }

    /// Every migration and whether it is applied. Read-only.
    ///
    /// # Errors
    /// As [`PostgresMigrator::status`].
    pub async fn status(&self, client: &mut tokio_postgres::Client) -> Result<Status<'a>, Error> {
        migrate_engine::postgres::status(postgres_set(self.migrations)?, &self.options, client)
            .await
    }
}
