//! What the database commands work on: the directory and its checked migrations, the
//! database, the options.

use std::path::{Path, PathBuf};

use migrate_core::{Database, Problem};
use migrate_runtime::rusqlite::Connection;
use migrate_runtime::{Migrations, Migrator, Options, Report, SchemaVersion, Status};

use super::dirty::{Origin, dirty_explanation};
use crate::cli::{Cli, ProgressArg};
use crate::database::{self, Create, DatabaseUrl, Location, with_causes, without_password};
use crate::failure::Failure;

/// What the database commands work on: the directory and its checked migrations, the
/// database, the options.
pub(super) struct Context {
    pub(super) dir: PathBuf,
    pub(super) migrations: Migrations,
    /// The database the commands work on: the one place that says which backend it is.
    pub(super) database: Target,
    pub(super) options: Options,
    /// When progress is shown.
    pub(super) progress: ProgressArg,
    /// The version table's name.
    pub(super) table: String,
}

impl Context {
    /// Locates the database (without opening it: its URL says which database the set is
    /// for), then reads the directory, so that a broken directory never opens (let alone
    /// creates) the database and its problems are reported before a refused URL. Each command
    /// opens the database as it needs.
    pub(super) fn new(cli: &Cli) -> Result<Context, Failure> {
        // The directory's errors come first: the set is read as the location says (as a
        // SQLite set when no database is given), and a refused location is reported after.
        let location = database::locate(cli.global.database.as_deref());
        let kind = match &location {
            Ok(Location::Postgres(_)) => Database::Postgres,
            Err(failure) if failure.kind == database::POSTGRES_URL => Database::Postgres,
            _ => Database::Sqlite,
        };
        let migrations = load(&cli.global.dir, kind, cli.global.database.as_deref())?;
        let database = match location? {
            Location::Sqlite(url) => Target::Sqlite(url),
            Location::Postgres(url) => Target::Postgres(Server {
                shown: without_password(&url.url),
                url: url.url,
                table: url.table,
            }),
        };
        let table = match (cli.global.table.as_deref(), database.table()) {
            (Some(flag), Some(url)) if flag != url => {
                return Err(Failure::usage(
                    "table_conflict",
                    format!(
                        "`--table {flag}` and the database URL's `x-migrations-table={url}` name \
                         different version tables: give the name once"
                    ),
                ));
            }
            (flag, url) => flag.or(url).unwrap_or("schema_migrations").to_owned(),
        };
        let mut options = Options::new()
            .table_name(table.clone())
            .allow_changed_migrations(cli.global.allow_changed);
        if let Target::Sqlite(url) = &database
            && let Some(timeout) = url.busy_timeout()
        {
            options = options.busy_timeout(timeout);
        }
        refuse_invalid_table(&migrations, &options, &cli.global.dir)?;
        Ok(Context {
            dir: cli.global.dir.clone(),
            migrations,
            database,
            options,
            progress: cli.global.progress,
            table,
        })
    }

    /// A runtime error, worded for this directory. A dirty database is explained as `status`
    /// explains it, from the directory's migrations (the version before a timestamp is the
    /// previous migration's, not the timestamp minus one).
    pub(super) fn fail(&self, error: migrate_runtime::Error) -> Failure {
        let dirty = match &error {
            migrate_runtime::Error::Dirty {
                version, origin, ..
            } => Some((*version, origin.clone())),
            _ => None,
        };
        let mut failure = Failure::runtime(error, &self.dir);
        if let Some((version, origin)) = dirty {
            let origin = Origin::from_runtime(Some(origin));
            let at = version.map_or_else(
                || "with no version".to_owned(),
                |v| format!("at version {}", migrate_core::name::format_version(v)),
            );
            failure.message = format!(
                "the database is dirty {at}, so nothing was changed: {}",
                dirty_explanation(&self.migrations, &self.table, version, origin.as_ref())
            );
        }
        failure
    }
}

/// The database the commands work on: a SQLite file or a PostgreSQL server.
pub(super) enum Target {
    /// A SQLite file, opened through rusqlite and [`Migrator`].
    Sqlite(DatabaseUrl),
    /// A PostgreSQL server, through the `postgres` crate and
    /// [`PostgresMigrator`](migrate_runtime::PostgresMigrator).
    Postgres(Server),
}

/// A PostgreSQL server to connect to.
pub(super) struct Server {
    /// The URL to connect with (it may hold a password: never shown).
    url: String,
    /// The URL as messages and reports show it, without its password.
    shown: String,
    /// The URL's `x-migrations-table`.
    table: Option<String>,
}

impl Target {
    fn table(&self) -> Option<&str> {
        match self {
            Target::Sqlite(url) => url.table(),
            Target::Postgres(server) => server.table.as_deref(),
        }
    }

    /// The database as reports show it: the file's path, or the server's URL without its
    /// password.
    pub(super) fn shown(&self) -> String {
        match self {
            Target::Sqlite(url) => url.path.display().to_string(),
            Target::Postgres(server) => server.shown.clone(),
        }
    }

    /// Whether the database exists: a SQLite file may not (and some commands do not create
    /// it); a PostgreSQL database is there or the connection fails.
    ///
    /// # Errors
    /// As [`DatabaseUrl::exists`].
    pub(super) fn exists(&self) -> Result<bool, Failure> {
        match self {
            Target::Sqlite(url) => url.exists(),
            Target::Postgres(_) => Ok(true),
        }
    }

    /// Runs `read` on the database without changing it; `None` for a SQLite file that does
    /// not exist (see [`DatabaseUrl::read`]).
    ///
    /// # Errors
    /// The database cannot be opened or reached, or what `read` returns.
    pub(super) fn read<T>(
        &self,
        read: impl Fn(Conn<'_>) -> Result<T, Failure>,
    ) -> Result<Option<T>, Failure> {
        match self {
            Target::Sqlite(url) => url.read(|conn| read(Conn::Sqlite(conn))),
            Target::Postgres(server) => {
                let mut client = server.connect()?;
                read(Conn::Postgres(&mut client)).map(Some)
            }
        }
    }

    /// Opens the database for `command`, which writes; `None` for a SQLite file that does not
    /// exist when `create` is [`Create::No`] (see [`DatabaseUrl::open`]).
    ///
    /// # Errors
    /// The database cannot be opened or reached.
    pub(super) fn open(&self, command: &str, create: Create) -> Result<Option<Open>, Failure> {
        match self {
            Target::Sqlite(url) => Ok(url.open(command, create)?.map(Open::Sqlite)),
            Target::Postgres(server) => Ok(Some(Open::Postgres(Box::new(server.connect()?)))),
        }
    }
}

impl Server {
    fn connect(&self) -> Result<postgres::Client, Failure> {
        postgres::Client::connect(&self.url, postgres::NoTls).map_err(|error| {
            Failure::failed(
                "postgres_connect",
                format!(
                    "cannot connect to the PostgreSQL server `{}`: {}; nothing was changed. \
                     Check the URL (--database or DATABASE_URL), that the server is running \
                     and accepts connections without TLS, and that the database exists",
                    self.shown,
                    with_causes(&error)
                ),
            )
        })
    }
}

/// An open database connection, owned.
pub(super) enum Open {
    Sqlite(Connection),
    Postgres(Box<postgres::Client>),
}

impl Open {
    /// The connection, for the runtime's operations.
    pub(super) fn conn(&mut self) -> Conn<'_> {
        match self {
            Open::Sqlite(conn) => Conn::Sqlite(conn),
            Open::Postgres(client) => Conn::Postgres(client),
        }
    }
}

/// A connection to either database: the runtime's operations the commands call, dispatched
/// to [`Migrator`] on SQLite and to [`PostgresMigrator`](migrate_runtime::PostgresMigrator) on
/// PostgreSQL, so every behaviour and message is the runtime's.
pub(super) enum Conn<'c> {
    Sqlite(&'c mut Connection),
    Postgres(&'c mut postgres::Client),
}

impl Conn<'_> {
    /// [`Migrator::version`].
    pub(super) fn version(
        &mut self,
        migrator: &Migrator<'_>,
    ) -> Result<SchemaVersion, migrate_runtime::Error> {
        match self {
            Conn::Sqlite(conn) => migrator.version(conn),
            Conn::Postgres(client) => migrator.postgres().version(client),
        }
    }

    /// [`Migrator::status`].
    pub(super) fn status<'a>(
        &mut self,
        migrator: &Migrator<'a>,
    ) -> Result<Status<'a>, migrate_runtime::Error> {
        match self {
            Conn::Sqlite(conn) => migrator.status(conn),
            Conn::Postgres(client) => migrator.postgres().status(client),
        }
    }

    /// [`Migrator::up`].
    pub(super) fn up(&mut self, migrator: &Migrator<'_>) -> Result<Report, migrate_runtime::Error> {
        match self {
            Conn::Sqlite(conn) => migrator.up(conn),
            Conn::Postgres(client) => migrator.postgres().up(client),
        }
    }

    /// [`Migrator::up_by`].
    pub(super) fn up_by(
        &mut self,
        migrator: &Migrator<'_>,
        steps: usize,
    ) -> Result<Report, migrate_runtime::Error> {
        match self {
            Conn::Sqlite(conn) => migrator.up_by(conn, steps),
            Conn::Postgres(client) => migrator.postgres().up_by(client, steps),
        }
    }

    /// [`Migrator::down`].
    pub(super) fn down(
        &mut self,
        migrator: &Migrator<'_>,
        steps: usize,
    ) -> Result<Report, migrate_runtime::Error> {
        match self {
            Conn::Sqlite(conn) => migrator.down(conn, steps),
            Conn::Postgres(client) => migrator.postgres().down(client, steps),
        }
    }

    /// [`Migrator::to`].
    pub(super) fn to(
        &mut self,
        migrator: &Migrator<'_>,
        version: u64,
    ) -> Result<Report, migrate_runtime::Error> {
        match self {
            Conn::Sqlite(conn) => migrator.to(conn, version),
            Conn::Postgres(client) => migrator.postgres().to(client, version),
        }
    }

    /// [`Migrator::force`].
    pub(super) fn force(
        &mut self,
        migrator: &Migrator<'_>,
        version: u64,
    ) -> Result<(), migrate_runtime::Error> {
        match self {
            Conn::Sqlite(conn) => migrator.force(conn, version),
            Conn::Postgres(client) => migrator.postgres().force(client, version),
        }
    }
}

/// Applies the runtime's rule for the version table's name before any database file is
/// opened (and perhaps created): the runtime checks it first, on a scratch in-memory database.
fn refuse_invalid_table(
    migrations: &Migrations,
    options: &Options,
    dir: &Path,
) -> Result<(), Failure> {
    let scratch = migrate_runtime::rusqlite::Connection::open_in_memory().map_err(|error| {
        Failure::failed(
            "sqlite",
            format!("SQLite cannot open an in-memory database: {error}"),
        )
    })?;
    match migrations.with_options(options.clone()).version(&scratch) {
        Err(error @ migrate_runtime::Error::InvalidTableName { .. }) => {
            Err(Failure::runtime(error, dir))
        }
        _ => Ok(()),
    }
}

/// Reads and checks the migrations directory with exactly the macro's rules.
///
/// When files run their own `BEGIN … COMMIT` and the database URL says `x-no-tx-wrap=true`
/// (golang-migrate's way to let them), the failure also says why the URL does not let them
/// here: a file says so itself, since the macro reads files, not URLs.
fn load(dir: &Path, kind: Database, database: Option<&str>) -> Result<Migrations, Failure> {
    Migrations::from_dir_for(dir, kind).map_err(|problems| {
        let own_transactions = problems.0.iter().any(|problem| {
            matches!(problem, Problem::TransactionControl { keyword, .. } if keyword != "VACUUM")
        });
        let mut failure = Failure::directory(dir, problems.0);
        if own_transactions && DatabaseUrl::locate(database).is_ok_and(|url| url.no_tx_wrap()) {
            failure.message.push_str(
                "; the database URL's `x-no-tx-wrap=true` does not change how a file runs here: \
                 add the line `-- migrate:no-transaction` to each file that manages its own \
                 transaction, which the build and every run then see too",
            );
        }
        failure
    })
}
