//! The commands: one module per group, each returning a [`Document`](crate::output::Document)
//! or a [`Failure`].

mod check;
mod inspect;
mod new;
mod run;

use std::path::{Path, PathBuf};

use migrate_runtime::{Migrations, Options};

use crate::cli::{Cli, Command};
use crate::database::Database;
use crate::failure::Failure;
use crate::output::Output;

/// Runs the command the command line names and prints its result.
///
/// # Errors
/// Whatever made the command fail; the caller prints it and exits with its status.
pub(crate) fn execute(cli: &Cli, output: &Output) -> Result<(), Failure> {
    let global = &cli.global;
    match &cli.command {
        Command::New { name } => output.emit(&new::new(&global.dir, name)?),
        Command::Check {
            verify,
            foreign_keys,
            functions,
        } => {
            let declaration = check::declaration(*foreign_keys, functions);
            output.emit(&check::check(&global.dir, verify.then_some(&declaration))?)
        }
        Command::Status => output.emit(&inspect::status(&Context::new(cli)?)?),
        Command::Version => output.emit(&inspect::version(&Context::new(cli)?)?),
        Command::Up => output.emit(&run::up(&Context::new(cli)?)?),
        Command::Down { n } => output.emit(&run::down(&Context::new(cli)?, *n)?),
        Command::To { version } => output.emit(&run::to(&Context::new(cli)?, *version)?),
        Command::Force { version } => output.emit(&run::force(&Context::new(cli)?, *version)?),
    }
}

/// What the database commands work on: the directory and its checked migrations, the
/// database, the options.
struct Context {
    dir: PathBuf,
    migrations: Migrations,
    database: Database,
    options: Options,
}

impl Context {
    /// Reads the directory first, so that a broken directory never opens (let alone creates)
    /// the database; then locates the database. Each command opens it as it needs.
    fn new(cli: &Cli) -> Result<Context, Failure> {
        let migrations = load(&cli.global.dir)?;
        let database = Database::locate(cli.global.database.as_deref())?;
        Ok(Context {
            dir: cli.global.dir.clone(),
            migrations,
            database,
            options: Options::new()
                .table_name(cli.global.table.clone())
                .allow_changed_migrations(cli.global.allow_changed),
        })
    }

    /// A runtime error, worded for this directory.
    fn fail(&self, error: migrate_runtime::Error) -> Failure {
        Failure::runtime(error, &self.dir)
    }
}

/// Reads and checks the migrations directory with exactly the macro's rules.
fn load(dir: &Path) -> Result<Migrations, Failure> {
    Migrations::from_dir(dir).map_err(|problems| Failure::directory(dir, problems.0))
}
