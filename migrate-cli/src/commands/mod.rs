//! The commands: one module per group, each returning a [`Document`](crate::output::Document)
//! or a [`Failure`].

mod adopt;
mod check;
mod context;
mod dirty;
mod inspect;
mod new;
mod run;

use migrate_core::Database;

use self::context::Context;
use crate::cli::{Cli, Command};
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
            directory,
            postgres,
            verify,
            foreign_keys,
            functions,
        } => {
            let declaration = check::declaration(*foreign_keys, functions);
            // A PostgreSQL set: `--postgres`, or a server named by `--database postgres://…`.
            let server = global.database.as_deref().filter(|d| check::is_postgres(d));
            let database = if *postgres || server.is_some() {
                Database::Postgres
            } else {
                Database::Sqlite
            };
            let verification = match (verify, server, database) {
                (false, _, _) => check::Verification::None,
                (true, Some(url), _) => {
                    check::refuse_sqlite_declarations(*foreign_keys, functions)?;
                    check::Verification::Postgres(url)
                }
                (true, None, Database::Sqlite) => check::Verification::Sqlite(&declaration),
                (true, None, _) => return Err(check::postgres_verification_needs_a_server()),
            };
            output.emit(&check::check(
                directory.as_ref().unwrap_or(&global.dir),
                database,
                verification,
            )?)
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
