//! Why a command failed, and the exit status that tells a script which kind of failure it was.

use std::path::Path;

use migrate_core::Problem;
use migrate_core::name::format_version;
use migrate_runtime::{Error, Finding, LeftAt};

/// The documented exit statuses (see `migrate-sqlite --help`). Clap exits with 2 itself for
/// arguments it cannot parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    /// A migration or a database operation failed (or a file could not be written).
    Failed = 1,
    /// The command line is wrong: arguments, the database location, the table name, the
    /// name given to `new`.
    Usage = 2,
    /// The migrations directory has problems or cannot be read.
    Directory = 3,
}

/// A failed command: its message (which says what to do), its exit status, and a stable
/// `kind` for the `--json` error document.
#[derive(Debug)]
pub(crate) struct Failure {
    /// The exit status.
    pub(crate) exit: Exit,
    /// A short, stable, snake_case name of the failure, for scripts.
    pub(crate) kind: &'static str,
    /// The message, in the project's style: lowercase, says what to do.
    pub(crate) message: String,
    /// For [`Exit::Directory`]: every problem of the directory, or every verification finding.
    pub(crate) problems: Vec<Reported>,
    /// For a run that failed while migrations ran: what it committed before the failure, and
    /// where it left the database.
    pub(crate) run: Option<Stopped>,
}

/// What a failed run leaves behind.
#[derive(Debug)]
pub(crate) struct Stopped {
    /// The files the run committed before the failure, in order (they stay applied).
    pub(crate) committed: Vec<String>,
    /// The database's version after the failure (`None`: nothing applied).
    pub(crate) version: Option<u64>,
    /// Whether the failure left the database dirty.
    pub(crate) dirty: bool,
}

/// One problem or verification finding, as the macro reports it.
#[derive(Debug)]
pub(crate) struct Reported {
    /// The file it is about, relative to the directory (the directory itself when it cannot
    /// be read).
    pub(crate) file: String,
    /// The 1-based line, where it has one.
    pub(crate) line: Option<usize>,
    /// The message, exactly as the macro reports it.
    pub(crate) message: String,
}

impl Failure {
    /// A wrong command line.
    pub(crate) fn usage(kind: &'static str, message: impl Into<String>) -> Failure {
        Failure::new(Exit::Usage, kind, message)
    }

    /// An operation that failed.
    pub(crate) fn failed(kind: &'static str, message: impl Into<String>) -> Failure {
        Failure::new(Exit::Failed, kind, message)
    }

    /// A migrations directory with problems: each one is printed on its own line.
    pub(crate) fn directory(dir: &Path, problems: Vec<Problem>) -> Failure {
        let count = problems.len();
        Failure {
            exit: Exit::Directory,
            kind: "migrations_directory",
            message: format!(
                "{count} problem{} in the migrations directory `{}`",
                if count == 1 { "" } else { "s" },
                dir.display()
            ),
            run: None,
            problems: problems
                .iter()
                .map(|problem| Reported {
                    file: problem.file(),
                    line: problem.line(),
                    message: problem.to_string(),
                })
                .collect(),
        }
    }

    /// Migrations that fail verification (`check --verify`), with the macro's messages.
    pub(crate) fn verification(dir: &Path, findings: Vec<Finding>) -> Failure {
        Failure {
            exit: Exit::Directory,
            kind: "verification",
            message: format!(
                "the migrations in `{}` fail verification on a fresh in-memory database",
                dir.display()
            ),
            run: None,
            problems: findings
                .into_iter()
                .map(|finding| Reported {
                    file: finding.file,
                    line: finding.line,
                    message: finding.message,
                })
                .collect(),
        }
    }

    /// Migrations that fail verification on a PostgreSQL server (`check --verify --database
    /// postgres://…`).
    pub(crate) fn verification_postgres(
        dir: &Path,
        server: &str,
        findings: Vec<Finding>,
    ) -> Failure {
        let mut failure = Failure::verification(dir, findings);
        failure.message = format!(
            "the migrations in `{}` fail verification on the PostgreSQL server `{server}` (in a \
             transaction rolled back: the database was not changed)",
            dir.display()
        );
        failure
    }

    fn new(exit: Exit, kind: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            exit,
            kind,
            message: message.into(),
            problems: Vec::new(),
            run: None,
        }
    }

    /// A runtime error, with the runtime's message (which says what to do), except where that
    /// message speaks of "this binary": here the migrations come from the directory `dir`.
    /// An invalid table name comes from the command line, so it is a usage error.
    pub(crate) fn runtime(error: Error, dir: &Path) -> Failure {
        let dir = dir.display();
        let up_to = |latest: Option<u64>| latest.map_or_else(|| "none".to_owned(), format_version);
        let (kind, message) = match &error {
            Error::UnknownVersion { database, latest } => (
                "unknown_version",
                format!(
                    "the database is at version {}, but `{dir}` has migrations up to {}; nothing \
                     was changed. Use the directory that has the newer migrations (the database \
                     was probably migrated by a newer release)",
                    format_version(*database),
                    up_to(*latest)
                ),
            ),
            Error::TargetOutOfRange { target, latest } => (
                "target_out_of_range",
                format!(
                    "there is no migration {}: `{dir}` has migrations up to {}; nothing was changed",
                    format_version(*target),
                    up_to(*latest)
                ),
            ),
            Error::Migration { .. } => ("migration", error.to_string()),
            Error::ForeignKeyViolation { .. } => ("foreign_key_violation", error.to_string()),
            Error::EndsTransaction { .. } => ("ends_transaction", error.to_string()),
            Error::Dirty { .. } => ("dirty", error.to_string()),
            Error::TooManySteps { .. } => ("too_many_steps", error.to_string()),
            Error::Irreversible { .. } => ("irreversible", error.to_string()),
            Error::Skipped { .. } => ("skipped_migration", error.to_string()),
            Error::CorruptVersionTable { .. } => ("corrupt_version_table", error.to_string()),
            Error::InvalidTableName { .. } => {
                return Failure::usage("invalid_table_name", error.to_string());
            }
            Error::Sqlite { .. } => ("sqlite", error.to_string()),
            // The runtime names its option; on the command line it is a flag.
            Error::Changed { .. } => (
                "changed_migration",
                error.to_string().replace(
                    "`Options::allow_changed_migrations(true)`",
                    "`--allow-changed`",
                ),
            ),
            _ => ("runtime", error.to_string()),
        };
        let mut failure = Failure::failed(kind, message);
        failure.run = error.left_at().map(|left_at| {
            let (version, dirty) = match left_at {
                LeftAt::Clean(version) => (version, false),
                LeftAt::Dirty(version) => (version, true),
            };
            Stopped {
                committed: error.committed().to_vec(),
                version,
                dirty,
            }
        });
        failure
    }
}
