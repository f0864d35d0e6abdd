//! The one error type of the runtime: what happened, where, and what to do.

use std::fmt;

use migrate_core::Direction;

use crate::history::Changed;
use migrate_core::name::format_version;

/// Everything that can go wrong while reading or changing a database's migration state.
///
/// Each message says what happened, where (file and line for a failing migration), and what
/// to do. [`std::error::Error::source`] gives SQLite's error where there is one; the message
/// already includes SQLite's text, so a report need not print the source again.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A statement of a migration failed; everything this run changed in the same
    /// transaction was rolled back.
    Migration {
        /// The migration's version.
        version: u64,
        /// The file that failed, relative to the migrations directory.
        file: String,
        /// Which way it was running.
        direction: Direction,
        /// 1-based line within the file where the failing statement (or, for a syntax error,
        /// the offending token) is.
        line: usize,
        /// 1-based column of the offending token, for syntax errors.
        column: Option<usize>,
        /// The start of the failing statement.
        statement: String,
        /// SQLite's message.
        message: String,
        /// The state the database was left in.
        left_at: LeftAt,
        /// SQLite's error.
        source: Box<rusqlite::Error>,
    },
    /// A migration that runs with foreign keys off left rows whose parent does not exist;
    /// it was rolled back.
    ForeignKeyViolation {
        /// The migration's version.
        version: u64,
        /// The file that ran.
        file: String,
        /// Which way it was running.
        direction: Direction,
        /// The first violations (at most five), as `PRAGMA foreign_key_check` reports them.
        violations: Vec<Violation>,
        /// How many violations there are in all.
        total: usize,
        /// The version the database is at (unchanged by this migration).
        left_at: Option<u64>,
    },
    /// Applied migrations whose files changed after they were applied. Nothing was changed.
    Changed {
        /// Each changed migration, in version order.
        changed: Vec<Changed>,
        /// The history table the recorded checksums come from.
        table: String,
    },
    /// A migration ended the transaction it runs in (`COMMIT`, `ROLLBACK`, `END`).
    EndsTransaction {
        /// The file.
        file: String,
    },
    /// The database is dirty: a migration that runs outside a transaction started and did
    /// not finish. Nothing was changed.
    Dirty {
        /// The version recorded as dirty (`None`: dirty before version 1).
        version: Option<u64>,
        /// The version table.
        table: String,
    },
    /// The database is at a version this binary does not know. Nothing was changed.
    UnknownVersion {
        /// The database's version.
        database: u64,
        /// The newest migration this binary has.
        latest: Option<u64>,
    },
    /// Migrations older than the database's version that never ran on it (a branch merged
    /// after newer migrations were applied), as the history table shows. Nothing was changed.
    Skipped {
        /// Each skipped migration's version and up file, in version order.
        skipped: Vec<(u64, String)>,
        /// The database's version.
        database: u64,
        /// The history table that records what ran.
        table: String,
    },
    /// The requested version is not one of this binary's migrations. Nothing was changed.
    TargetOutOfRange {
        /// The requested version.
        target: u64,
        /// The newest migration this binary has.
        latest: Option<u64>,
    },
    /// `down(steps)` asked for more steps than there are applied migrations.
    TooManySteps {
        /// The steps asked for.
        steps: usize,
        /// The database's version.
        current: Option<u64>,
    },
    /// Going down would pass through an irreversible migration. Nothing was changed.
    Irreversible {
        /// The irreversible migration's version.
        version: u64,
        /// Its down file.
        file: String,
        /// The reason its author gave.
        reason: String,
    },
    /// The version table holds something no migration tool would have written. Nothing was
    /// changed.
    CorruptVersionTable {
        /// The version table.
        table: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The version-table name given in the options is not a plain identifier.
    InvalidTableName {
        /// The name given.
        name: String,
    },
    /// SQLite failed outside any migration (opening the transaction, reading the version…).
    Sqlite {
        /// What the runtime was doing.
        doing: &'static str,
        /// SQLite's error.
        source: Box<rusqlite::Error>,
    },
}

/// Where a failed run left the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeftAt {
    /// Rolled back to this version (`None`: nothing applied), not dirty.
    Clean(Option<u64>),
    /// A migration outside a transaction failed: the database is dirty at this version.
    Dirty(Option<u64>),
}

/// One row of `PRAGMA foreign_key_check`: a row whose parent is missing.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Violation {
    /// The child table.
    pub table: String,
    /// The child row's rowid (`None` for a WITHOUT ROWID table).
    pub rowid: Option<i64>,
    /// The parent table the row points at.
    pub parent: String,
}

fn version_text(version: Option<u64>) -> String {
    version.map_or_else(
        || "nothing applied".to_owned(),
        |v| format!("version {}", format_version(v)),
    )
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Migration {
                file,
                direction: _,
                line,
                column,
                statement,
                message,
                left_at,
                source,
                ..
            } => {
                write!(f, "migration `{file}` failed at line {line}")?;
                if let Some(column) = column {
                    write!(f, ", column {column}")?;
                }
                write!(f, " (`{statement}`): {message}; ")?;
                match left_at {
                    LeftAt::Clean(version) => {
                        write!(
                            f,
                            "it was rolled back and the database is at {}, not dirty",
                            version_text(*version)
                        )?;
                        // When the database is at fault, the hint in `message` says what to do.
                        if database_hint(source).is_none() {
                            f.write_str(": fix the migration and run again")?;
                        }
                        Ok(())
                    }
                    LeftAt::Dirty(version) => write!(
                        f,
                        "it ran outside a transaction, so the database is dirty at {}: repair the \
                         schema by hand, then record the version it matches with `force`",
                        version_text(*version)
                    ),
                }
            }
            Error::ForeignKeyViolation {
                file,
                violations,
                total,
                left_at,
                ..
            } => {
                write!(
                    f,
                    "migration `{file}` leaves {total} row(s) pointing at missing parents ("
                )?;
                for (i, v) in violations.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    match v.rowid {
                        Some(rowid) => write!(f, "`{}` row {rowid} → `{}`", v.table, v.parent)?,
                        None => write!(f, "`{}` → `{}`", v.table, v.parent)?,
                    }
                }
                if *total > violations.len() {
                    f.write_str(", …")?;
                }
                write!(
                    f,
                    "); it was rolled back and the database is at {}: make the migration keep every \
                     reference valid (recreate parents with the same keys, or delete the orphans)",
                    version_text(*left_at)
                )
            }
            Error::Changed { changed, table } => {
                let files: Vec<String> = changed.iter().map(|c| format!("`{}`", c.file)).collect();
                let rest = &files[1.min(files.len())..];
                write!(f, "{}", files.first().map_or("", String::as_str))?;
                if !rest.is_empty() {
                    write!(f, " (and {})", rest.join(", "))?;
                }
                let first = &changed[0];
                write!(
                    f,
                    " {} changed after {} applied to this database (`{table}` records checksum \
                     {}…, the file now has {}…); nothing was changed. Restore the file as it was \
                     applied and put the change in a new migration, or accept the edit with \
                     `Options::allow_changed_migrations(true)`",
                    if rest.is_empty() { "was" } else { "were" },
                    if rest.is_empty() {
                        "it was"
                    } else {
                        "they were"
                    },
                    &first.recorded.to_hex()[..12],
                    &first.embedded.to_hex()[..12],
                )
            }
            Error::EndsTransaction { file } => write!(
                f,
                "migration `{file}` ends the transaction it runs in (COMMIT, END or ROLLBACK), so it \
                 could not be applied atomically and was rolled back: remove BEGIN/COMMIT from it (every \
                 migration already runs in a transaction), or mark it `-- migrate:no-transaction`"
            ),
            Error::Dirty { version, table } => write!(
                f,
                "the database is dirty at {}: a migration that runs outside a transaction started and \
                 did not finish, so `{table}` cannot say which schema the database has; nothing was \
                 changed. Repair the schema by hand, then record the version it matches with `force`",
                version_text(*version)
            ),
            Error::UnknownVersion { database, latest } => write!(
                f,
                "the database is at version {}, but this binary knows migrations up to {}; nothing \
                 was changed. Run a binary that has the newer migrations (the database was probably \
                 migrated by a newer release)",
                format_version(*database),
                latest.map_or_else(|| "none".to_owned(), format_version)
            ),
            Error::Skipped {
                skipped,
                database,
                table,
            } => {
                let files: Vec<String> = skipped.iter().map(|(_, f)| format!("`{f}`")).collect();
                let one = files.len() == 1;
                let (is, it, its) = if one {
                    ("is", "it", "its")
                } else {
                    ("are", "they", "their")
                };
                write!(
                    f,
                    "{} {is} older than the database's version {} but not applied to it (`{table}` \
                     shows the database below {its} version after a run it recorded, and no up of \
                     {} since): {it} {} most likely merged after newer migrations were applied, and \
                     golang-migrate would skip {} forever; nothing was changed. Give {} a version \
                     newer than {} (rename the up and the down file), so that the next `up` runs \
                     {}. (A migration older than every run the history table records, such as one \
                     golang-migrate applied before this tool was used, is taken as applied: nothing \
                     tells whether it ran.)",
                    files.join(", "),
                    format_version(*database),
                    if one { "it" } else { "them" },
                    if one { "was" } else { "were" },
                    if one { "it" } else { "them" },
                    if one { "it" } else { "each" },
                    format_version(*database),
                    if one { "it" } else { "them" },
                )
            }
            Error::TargetOutOfRange { target, latest } => write!(
                f,
                "there is no migration {}: this binary knows migrations up to {}; nothing was changed",
                format_version(*target),
                latest.map_or_else(|| "none".to_owned(), format_version)
            ),
            Error::TooManySteps { steps, current } => write!(
                f,
                "cannot go down {steps} step(s): the database is at {}; nothing was changed",
                version_text(*current)
            ),
            Error::Irreversible {
                version,
                file,
                reason,
            } => write!(
                f,
                "cannot go below version {}: `{file}` is marked irreversible ({reason}); nothing was changed",
                format_version(*version)
            ),
            Error::CorruptVersionTable { table, problem } => write!(
                f,
                "the version table `{table}` {problem}; nothing was changed. Inspect it, then record \
                 the right version with `force`"
            ),
            Error::InvalidTableName { name } => write!(
                f,
                "`{name}` cannot be the version table's name: use letters, digits and `_`, starting \
                 with a letter or `_`"
            ),
            Error::Sqlite { doing, source } => {
                write!(f, "SQLite failed while {doing}: {}", sqlite_message(source))
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Migration { source, .. } | Error::Sqlite { source, .. } => Some(&**source),
            _ => None,
        }
    }
}

/// SQLite's own message, without rusqlite's additions (the SQL text, the offset), followed by
/// what to do when the database rather than the SQL is at fault.
pub(crate) fn sqlite_message(error: &rusqlite::Error) -> String {
    match error {
        rusqlite::Error::SqliteFailure(_, Some(message)) => match database_hint(error) {
            Some(hint) => format!("{message} ({hint})"),
            None => message.clone(),
        },
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        other => other.to_string(),
    }
}

/// What to do about an error that lies with the database (its file, its connection, another
/// connection) and not with the SQL that ran.
fn database_hint(error: &rusqlite::Error) -> Option<&'static str> {
    match error.sqlite_error_code()? {
        rusqlite::ErrorCode::DatabaseBusy => {
            Some("another connection held the lock past the busy timeout")
        }
        rusqlite::ErrorCode::NotADatabase => {
            Some("the file is not an SQLite database, or it is encrypted: check the database path")
        }
        rusqlite::ErrorCode::ReadOnly => Some(
            "the connection or the file is read-only: migrate through a read-write connection \
             to a writable file",
        ),
        _ => None,
    }
}

impl Error {
    pub(crate) fn sqlite(doing: &'static str) -> impl FnOnce(rusqlite::Error) -> Error {
        move |source| Error::Sqlite {
            doing,
            source: Box::new(source),
        }
    }
}
