//! The command line: clap's types for `migrate-sqlite`, its options and its commands.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// What `migrate-sqlite --help` ends with: the exit statuses and where the database comes from.
const AFTER_HELP: &str = "\
Database:
  --database takes a file path, a URL of the form sqlite://PATH, sqlite:PATH or
  sqlite3://PATH (sqlite:///abs/app.db is an absolute path), or a file: URI, each with
  optional parameters: golang-migrate's x-migrations-table and x-no-tx-wrap, go-sqlite3's
  _busy_timeout, _foreign_keys, _journal_mode, _synchronous, _query_only, _locking_mode
  and SQLite's mode=ro|rw|rwc; cache, _loc, _mutex and _txlock are ignored, and any other
  parameter is refused by name. Without --database, the DATABASE_URL environment variable
  is used, or else DATABASE_URL in ./.env, with the same forms. Other schemes and
  in-memory databases are refused.
  A postgres:// (or postgresql://) URL names a PostgreSQL server instead: the directory
  is read as a PostgreSQL set, and up, down, to, force, status and version run on that
  database (connecting without TLS; of golang-migrate's x- parameters only
  x-migrations-table is taken, the others are refused). `check --database postgres://…`
  checks the directory as a PostgreSQL set and, with --verify, verifies it on that
  server, inside a transaction it rolls back.
  `status` and `version` only read: they never create the database or write to it.
  `down` and `to 0` never create a missing database.

Exit status:
  0  success
  1  a migration or a database operation failed (the message says what to do)
  2  usage: bad arguments, no database given, an unsupported database URL, an invalid table
     name, or a name `new` refuses
  3  the migrations directory has problems or cannot be read (`check`, and every command
     that reads it: nothing else is done)";

/// `migrate-sqlite`: scaffold, check and apply SQL migrations on SQLite, with exactly the rules of
/// `embed_migrations!`.
#[derive(Debug, Parser)]
#[command(
    name = "migrate-sqlite",
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

    /// The database: a SQLite file's path, sqlite://PATH or a file: URI, or a PostgreSQL
    /// server's postgres://… URL [default: $DATABASE_URL, then DATABASE_URL in ./.env]
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) database: Option<String>,

    /// The version table's name [default: schema_migrations, or the database URL's
    /// x-migrations-table]
    #[arg(long, global = true, value_name = "NAME")]
    pub(crate) table: Option<String>,

    /// Print one JSON document on stdout instead of text (errors included)
    #[arg(long, global = true)]
    pub(crate) json: bool,

    /// Progress on stderr: auto (a line on a terminal), always (also one line per migration
    /// when stderr is not a terminal), never
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "WHEN",
        default_value = "auto",
        hide_possible_values = true
    )]
    pub(crate) progress: ProgressArg,

    /// Accept applied migrations whose files were edited since they were applied (by default
    /// `up`, `down` and `to` refuse, naming the files)
    #[arg(long, global = true)]
    pub(crate) allow_changed: bool,
}

/// `--progress`: when progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ProgressArg {
    /// On a terminal only.
    Auto,
    /// Also when stderr is not a terminal: one line per migration.
    Always,
    /// Never.
    Never,
}

/// `--foreign-keys`: the declared foreign-key policy of the set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ForeignKeysArg {
    /// The service enforces foreign keys (the default).
    Enforced,
    /// The service runs with foreign keys off on purpose.
    Unenforced,
}

impl From<ForeignKeysArg> for migrate_core::ForeignKeys {
    fn from(arg: ForeignKeysArg) -> migrate_core::ForeignKeys {
        match arg {
            ForeignKeysArg::Enforced => migrate_core::ForeignKeys::Enforced,
            ForeignKeysArg::Unenforced => migrate_core::ForeignKeys::Unenforced,
        }
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create the next migration's up and down files, numbered as the directory numbers them
    ///
    /// Sequential (000004), timestamp (20240731203656) or Unix seconds (1722457016), as the
    /// directory's newest migration; an empty directory is sequential unless --timestamp or
    /// --unix says otherwise.
    New {
        /// What the migration does: ASCII letters, digits, `_` and `-` (add_tags)
        name: String,
        /// The style to number with, for an empty directory (in a directory with migrations,
        /// only its own style is accepted)
        #[command(flatten)]
        style: StyleArgs,
    },
    /// Show what stands between each file of a golang-migrate directory and a clean `check
    /// --verify`; with --write, make the mechanical edits
    ///
    /// The edits add directive lines (SQL comments, which golang-migrate ignores) and create
    /// missing down files: `-- migrate:irreversible <reason>` on an empty or comment-only
    /// down, keeping the comment as the reason; `-- migrate:no-transaction` on a file that
    /// manages its own transaction (BEGIN first, COMMIT last, as x-no-tx-wrap=true files do).
    /// What needs a person is listed with the messages `check --verify` gives, all at once.
    /// Nothing is ever renamed or renumbered. Exits 0 once it has read (and with --write,
    /// written) every file; the report says whether anything remains.
    Adopt {
        /// The golang-migrate migrations directory [default: --dir]
        #[arg(value_name = "DIR")]
        directory: Option<PathBuf>,
        /// Make the mechanical edits (add directive lines, create missing down files); never
        /// renames, renumbers or changes SQL
        #[arg(long)]
        write: bool,
    },
    /// Check the migrations directory against every rule of embed_migrations!
    Check {
        /// The migrations directory [default: --dir]
        #[arg(value_name = "DIR")]
        directory: Option<PathBuf>,
        /// Check the set as a PostgreSQL set, as `embed_migrations!("…", database = "postgres")`
        /// does: PostgreSQL's lexical rules (dollar quotes, E'' strings, nested comments) and
        /// its statements that cannot run in a transaction; no SQLite-only rule. Implied by
        /// --database postgres://…, which --verify needs for a PostgreSQL set.
        #[arg(long, conflicts_with_all = ["foreign_keys", "functions"])]
        postgres: bool,
        /// Also run every migration up, down and up again on a fresh in-memory database, as
        /// the macro's `verify` feature does, and report every failure with its messages; with
        /// --database postgres://…, on that PostgreSQL server, inside a transaction rolled back.
        #[arg(long)]
        verify: bool,
        /// With --verify: whether the service enforces foreign keys, as the macro's
        /// `foreign_keys = "…"` declares it; `unenforced` verifies with enforcement off and
        /// checks no foreign key.
        #[arg(
            long,
            value_enum,
            value_name = "POLICY",
            default_value = "enforced",
            requires = "verify"
        )]
        foreign_keys: ForeignKeysArg,
        /// With --verify: a SQL function the application registers on its connections, as
        /// NAME/N (N arguments) or NAME/* (any number), as the macro's `functions = […]`
        /// declares it; verification runs a stand-in that returns its first argument.
        /// Repeat for several.
        #[arg(long = "function", value_name = "NAME/N", value_parser = migrate_core::AppFunction::parse, requires = "verify")]
        functions: Vec<migrate_core::AppFunction>,
    },
    /// Show every migration, applied or pending, and the database's version and dirty flag
    Status,
    /// Print the database's version and dirty flag
    Version,
    /// Apply every pending migration, or the next N, in one transaction (split only at
    /// no-transaction migrations)
    Up {
        /// Apply at most N pending migrations (golang-migrate's `up N`) [default: all]
        #[arg(value_parser = up_steps)]
        n: Option<usize>,
    },
    /// Roll back the last N migrations (1 without N, unlike golang-migrate's `down`, which
    /// rolls back all; --all does that)
    ///
    /// golang-migrate's `down` without N rolls every migration back after a prompt; here `down`
    /// without N rolls back one, the smaller surprise, and `down --all` (golang-migrate's
    /// `down -all`) or `to 0` rolls back everything.
    Down {
        /// How many migrations to roll back [default: 1]
        #[arg(value_parser = down_steps, conflicts_with = "all")]
        n: Option<usize>,
        /// Roll back every applied migration, as `to 0` does
        #[arg(long)]
        all: bool,
    },
    /// Go up or down to exactly version V (0: nothing applied)
    #[command(visible_alias = "goto")]
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
    /// Print a completion script for SHELL on stdout
    ///
    /// bash: save it as ~/.local/share/bash-completion/completions/migrate-sqlite; zsh: as
    /// _migrate-sqlite in a directory of your fpath; fish: as
    /// ~/.config/fish/completions/migrate-sqlite.fish.
    Completions {
        /// The shell: bash, elvish, fish, powershell or zsh
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
}

/// The version style `new` is asked for.
#[derive(Debug, Args)]
#[group(multiple = false)]
pub(crate) struct StyleArgs {
    /// Sequential versions: 000001, 000002, … (golang-migrate's `create -seq`)
    #[arg(long)]
    pub(crate) seq: bool,
    /// UTC timestamps: 20240731203656 (golang-migrate's `create` default)
    #[arg(long)]
    pub(crate) timestamp: bool,
    /// Seconds since 1970: 1722457016 (golang-migrate's `create -format unix`)
    #[arg(long)]
    pub(crate) unix: bool,
}

impl StyleArgs {
    /// The style asked for, if any.
    pub(crate) fn asked(&self) -> Option<migrate_core::name::VersionStyle> {
        use migrate_core::name::VersionStyle;
        match (self.seq, self.timestamp, self.unix) {
            (true, _, _) => Some(VersionStyle::Sequential),
            (_, true, _) => Some(VersionStyle::Timestamp),
            (_, _, true) => Some(VersionStyle::UnixSeconds),
            _ => None,
        }
    }
}

/// `up`'s N: a whole number of at least 1.
fn up_steps(text: &str) -> Result<usize, String> {
    steps(text, "`up N` applies at most N pending migrations")
}

/// `down`'s N: a whole number of at least 1.
fn down_steps(text: &str) -> Result<usize, String> {
    steps(text, "`down` rolls back N migrations")
}

fn steps(text: &str, meaning: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err(format!("N must be at least 1: {meaning}")),
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
