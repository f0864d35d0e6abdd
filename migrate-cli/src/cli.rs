//! The command line: clap's types for `migrate`, its options and its commands.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// What `migrate --help` ends with: the exit statuses and where the database comes from.
const AFTER_HELP: &str = "\
Database:
  --database takes a file path, or a URL of the form sqlite://PATH, sqlite:PATH or
  sqlite3://PATH (sqlite:///abs/app.db is an absolute path). Without --database, the
  DATABASE_URL environment variable is used, with the same forms. Other schemes are refused.
  `status` and `version` open the database read-only and never create it.

Exit status:
  0  success
  1  a migration or a database operation failed (the message says what to do)
  2  usage: bad arguments, no database given, an unsupported database URL, an invalid table
     name, or a name `new` refuses
  3  the migrations directory has problems or cannot be read (`check`, and every command
     that reads it: nothing else is done)";

/// `migrate`: scaffold, check and apply SQL migrations on SQLite, with exactly the rules of
/// `embed_migrations!`.
#[derive(Debug, Parser)]
#[command(
    name = "migrate",
    version,
    about = "Scaffold, check and apply SQLite migrations with exactly the rules of embed_migrations!",
    after_help = AFTER_HELP
)]
pub(crate) struct Cli {
    /// Options every command accepts, before or after its name.
    #[command(flatten)]
    pub(crate) global: Global,
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The options shared by every command; `global`, so they go before or after the command.
#[derive(Debug, Args)]
pub(crate) struct Global {
    /// The migrations directory
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        default_value = "./migrations"
    )]
    pub(crate) dir: PathBuf,

    /// The SQLite database: a path or sqlite://PATH [default: $DATABASE_URL]
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) database: Option<String>,

    /// The version table's name
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        default_value = "schema_migrations"
    )]
    pub(crate) table: String,

    /// Print one JSON document on stdout instead of text (errors included)
    #[arg(long, global = true)]
    pub(crate) json: bool,

    /// Accept applied migrations whose files were edited since they were applied (by default
    /// `up`, `down` and `to` refuse, naming the files)
    #[arg(long, global = true)]
    pub(crate) allow_changed: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create the next migration's up and down files (6-digit version)
    New {
        /// What the migration does: ASCII letters, digits, `_` and `-` (add_tags)
        name: String,
    },
    /// Check the migrations directory against every rule of embed_migrations!
    Check {
        /// Also run every migration up, down and up again on a fresh in-memory database, as
        /// the macro's `verify` feature does, and report every failure with its messages.
        #[arg(long)]
        verify: bool,
    },
    /// Show every migration, applied or pending, and the database's version and dirty flag
    Status,
    /// Print the database's version and dirty flag
    Version,
    /// Apply every pending migration, in one transaction (split only at no-transaction migrations)
    Up,
    /// Roll back the last N migrations
    Down {
        /// How many migrations to roll back
        #[arg(default_value_t = 1, value_parser = steps)]
        n: usize,
    },
    /// Go up or down to exactly version V (0: nothing applied)
    To {
        /// The version to end at
        #[arg(value_name = "V")]
        version: u64,
    },
    /// Record version V as the database's clean version, running nothing (recovers a dirty
    /// database)
    Force {
        /// The version the schema matches (0: nothing applied)
        #[arg(value_name = "V")]
        version: u64,
    },
}

/// `down`'s N: a whole number of at least 1.
fn steps(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("N must be at least 1: `down` rolls back N migrations".to_owned()),
        Ok(n) => Ok(n),
        Err(_) => Err("N must be a whole number of migrations, such as 1 or 2".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
