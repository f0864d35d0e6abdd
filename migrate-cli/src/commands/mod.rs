//! The commands: one module per group, each returning a [`Document`](crate::output::Document)
//! or a [`Failure`].

mod adopt;
mod check;
mod inspect;
mod new;
mod run;

use std::path::{Path, PathBuf};

use migrate_core::Problem;
use migrate_runtime::{Migrations, Options};

use crate::cli::{Cli, Command, ProgressArg};
use crate::database::DatabaseUrl;
use crate::failure::Failure;
use crate::output::Output;

/// Runs the command the command line names and prints its result.
///
/// # Errors
/// Whatever made the command fail; the caller prints it and exits with its status.
pub(crate) fn execute(cli: &Cli, output: &Output) -> Result<(), Failure> {
    let global = &cli.global;
    match &cli.command {
        Command::New { name, style } => output.emit(&new::new(&global.dir, name, style.asked())?),
        Command::Adopt { directory, write } => output.emit(&adopt::adopt(
            directory.as_deref().unwrap_or(&global.dir),
            *write,
        )?),
        Command::Check {
            verify,
            foreign_keys,
            functions,
        } => {
            let declaration = check::declaration(*foreign_keys, functions);
            output.emit(&check::check(&global.dir, verify.then_some(&declaration))?)
        }
        Command::Completions { shell } => completions(*shell),
        Command::Status => output.emit(&inspect::status(&Context::new(cli)?)?),
        Command::Version => output.emit(&inspect::version(&Context::new(cli)?)?),
        Command::Up { n } => output.emit(&run::up(&Context::new(cli)?, *n)?),
        Command::Down { n, all: false } => {
            output.emit(&run::down(&Context::new(cli)?, n.unwrap_or(1))?)
        }
        Command::Down { all: true, .. } => output.emit(&run::down_all(&Context::new(cli)?)?),
        Command::To { version } => output.emit(&run::to(&Context::new(cli)?, *version)?),
        Command::Force { version } => output.emit(&run::force(&Context::new(cli)?, *version)?),
    }
}

/// Prints the completion script for `shell` on stdout.
///
/// # Errors
/// When stdout cannot be written (a closed pipe is not an error).
fn completions(shell: clap_complete::Shell) -> Result<(), Failure> {
    use clap::CommandFactory;
    let mut script = Vec::new();
    let mut command = Cli::command();
    let name = command.get_name().to_owned();
    clap_complete::generate(shell, &mut command, name, &mut script);
    crate::output::write_raw(&script)
}

/// What the database commands work on: the directory and its checked migrations, the
/// database, the options.
struct Context {
    dir: PathBuf,
    migrations: Migrations,
    database: DatabaseUrl,
    options: Options,
    /// When progress is shown.
    progress: ProgressArg,
    /// The version table's name.
    table: String,
}

impl Context {
    /// Reads the directory first, so that a broken directory never opens (let alone creates)
    /// the database; then locates the database. Each command opens it as it needs.
    fn new(cli: &Cli) -> Result<Context, Failure> {
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
    fn fail(&self, error: migrate_runtime::Error) -> Failure {
        let dirty = match &error {
            migrate_runtime::Error::Dirty {
                version, origin, ..
            } => Some((*version, origin.clone())),
            _ => None,
        };
        let mut failure = Failure::runtime(error, &self.dir);
        if let Some((version, origin)) = dirty {
            let origin = inspect::Origin::from_runtime(Some(origin));
            let at = version.map_or_else(
                || "with no version".to_owned(),
                |v| format!("at version {}", migrate_core::name::format_version(v)),
            );
            failure.message = format!(
                "the database is dirty {at}, so nothing was changed: {}",
                inspect::dirty_explanation(self, version, origin.as_ref())
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
