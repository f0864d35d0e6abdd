//! What the database commands work on: the directory and its checked migrations, the
//! database, the options.

use std::path::{Path, PathBuf};

use migrate_core::Problem;
use migrate_runtime::{Migrations, Options};

use super::dirty::{Origin, dirty_explanation};
use crate::cli::{Cli, ProgressArg};
use crate::database::DatabaseUrl;
use crate::failure::Failure;

/// What the database commands work on: the directory and its checked migrations, the
/// database, the options.
pub(super) struct Context {
    pub(super) dir: PathBuf,
    pub(super) migrations: Migrations,
    pub(super) database: DatabaseUrl,
    pub(super) options: Options,
    /// When progress is shown.
    pub(super) progress: ProgressArg,
    /// The version table's name.
    pub(super) table: String,
}

impl Context {
    /// Reads the directory first, so that a broken directory never opens (let alone creates)
    /// the database; then locates the database. Each command opens it as it needs.
    pub(super) fn new(cli: &Cli) -> Result<Context, Failure> {
        let migrations = load(&cli.global.dir, cli.global.database.as_deref())?;
        let database = DatabaseUrl::locate(cli.global.database.as_deref())?;
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
        if let Some(timeout) = database.busy_timeout() {
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
fn load(dir: &Path, database: Option<&str>) -> Result<Migrations, Failure> {
    Migrations::from_dir(dir).map_err(|problems| {
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
