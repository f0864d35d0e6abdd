//! `migrate-sqlite`: scaffold, check and apply the SQL migrations of a directory on SQLite, with
//! exactly the rules of `embed_migrations!`.
//!
//! The directory is read at run time through `migrate_core`, the code the macro runs at
//! compile time, so `migrate-sqlite check` and a build always agree; databases are changed
//! through `migrate_runtime`, the code a service runs at start-up.
//!
//! ```text
//! migrate-sqlite new add_tags                      # 000005_add_tags.up.sql + .down.sql
//! migrate-sqlite check                             # every compile-time rule
//! migrate-sqlite up --database app.db              # apply what is pending (up 2: the next two)
//! migrate-sqlite status --database sqlite://app.db # applied / pending, version, dirty
//! migrate-sqlite down                              # roll back one migration (not all)
//! ```
//!
//! Exit status: 0 success, 1 a migration or database operation failed, 2 usage, 3 the
//! migrations directory has problems (see `migrate-sqlite --help`).

mod cli;
mod commands;
mod database;
mod failure;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::output::Output;

fn main() -> ExitCode {
    // Exits with 2 on arguments it cannot parse, and 0 after `--help` or `--version`.
    let cli = Cli::parse();
    let output = Output::new(cli.global.json);
    match commands::execute(&cli, &output) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            output.failure(&failure);
            ExitCode::from(failure.exit as u8)
        }
    }
}
