//! The one error type of the runtime: what happened, where, and what to do.

use std::fmt;

use migrate_core::{Database, Direction};

use crate::values::Changed;
use migrate_core::name::format_version;

/// Everything that can go wrong while reading or changing a database's migration state.
///
/// Each message says what happened, where (file and line for a failing migration), and what
/// to do. [`std::error::Error::source`] gives the database client's error where there is one;
/// the message already includes the database's text, so a report need not print the source
/// again.
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
        /// The database's message.
        message: String,
        /// The state the database was left in.
        left_at: LeftAt,
        /// The files this run committed before the failure (a `-- migrate:no-transaction`
        /// migration, or `commit_each_migration`, splits a run), in order.
        committed: Vec<String>,
        /// The database client's error: a `rusqlite::Error` on SQLite, a `tokio_postgres::Error`
        /// on PostgreSQL (`downcast_ref` tells which).
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A migration left rows whose parent does not exist (migrations run with foreign-key
    /// enforcement off, so no cascade runs); it was rolled back unless it runs outside a
    /// transaction.
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
        /// The state the database was left in.
        left_at: LeftAt,
        /// The files this run committed before the failure, in order.
        committed: Vec<String>,
    },
    /// After a migration, SQLite could not check a foreign key of a table it touched because
    /// the foreign key is malformed ("foreign key mismatch": it references columns that are
    /// not the parent's primary key or a UNIQUE set).
    ForeignKeyMismatch {
        /// The migration's version.
        version: u64,
        /// The file that ran.
        file: String,
        /// Which way it was running.
        direction: Direction,
        /// The table whose foreign key is malformed.
        table: String,
        /// SQLite's message.
        message: String,
        /// Each foreign key that cannot work, with why and what to do, as the compile-time
        /// verification words it (empty where the cause is not one it knows).
        malformed: Vec<String>,
        /// The state the database was left in.
        left_at: LeftAt,
        /// The files this run committed before the failure, in order.
        committed: Vec<String>,
    },
    /// Applied migrations whose files changed after they were applied. Nothing was changed.
    Changed {
        /// Each changed migration, in version order.
        changed: Vec<Changed>,
        /// The history table the recorded checksums come from.
        table: String,
    },
    /// A migration ended the transaction it runs in (`COMMIT`, `ROLLBACK`, `END`), or a
    /// `-- migrate:no-transaction` migration left a transaction of its own open.
    EndsTransaction {
        /// The file.
        file: String,
        /// The state the database was left in.
        left_at: LeftAt,
        /// The files this run committed before the failure, in order.
        committed: Vec<String>,
    },
    /// The database is dirty: a migration started and did not finish, under this runtime or
    /// another tool. Nothing was changed.
    Dirty {
        /// The version recorded as dirty (`None`: dirty before version 1).
        version: Option<u64>,
        /// The version table.
        table: String,
        /// Who left it dirty, as far as the history table tells.
        origin: DirtyOrigin,
        /// The version of the migration before `version` in the set (`None`: nothing
        /// applied): with timestamps it is not `version - 1`.
        previous: Option<u64>,
        /// The version of the migration after `version` in the set (the first migration when
        /// `version` is `None`; `None` when `version` is the latest).
        next: Option<u64>,
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
    /// The set is written for another database than the connection's (a PostgreSQL set given
    /// to a SQLite connection). Refused before the connection is touched.
    WrongDatabase {
        /// The database the set is written for (its `database = "…"` declaration).
        set: Database,
        /// The database of the connection it was given.
        connection: Database,
    },
    /// The version-table name given in the options is not a plain identifier.
    InvalidTableName {
        /// The name given.
        name: String,
    },
    /// A run failed after it had committed migrations (a `-- migrate:no-transaction`
    /// migration, or `commit_each_migration`, splits a run): what it committed, where the
    /// database is, and the error.
    Stopped {
        /// The files this run committed, in order.
        committed: Vec<String>,
        /// The state the database was left in.
        left_at: LeftAt,
        /// What stopped the run.
        error: Box<Error>,
    },
    /// SQLite failed outside any migration (opening the transaction, reading the version…).
    Sqlite {
        /// What the runtime was doing.
        doing: &'static str,
        /// SQLite's error.
        source: Box<rusqlite::Error>,
    },
    /// Another session held the migration lock (PostgreSQL's advisory lock, with
    /// golang-migrate's key) for longer than [`Options::busy_timeout`](crate::Options::busy_timeout).
    /// Nothing was changed.
    #[cfg(feature = "tokio-postgres")]
    LockTimeout {
        /// How long the run waited.
        waited: std::time::Duration,
        /// The lock's key, as `pg_advisory_lock` takes it.
        key: i64,
        /// The sessions holding it, as `pg_stat_activity` describes them (pid, application,
        /// client, since when): empty when the holder let go in the meantime.
        holders: Vec<String>,
    },
    /// The PostgreSQL connection was inside a transaction of the caller's: a run needs
    /// transactions of its own (and commits them). Nothing was changed.
    #[cfg(feature = "tokio-postgres")]
    CallersTransaction,
    /// PostgreSQL has no current schema (the session's `search_path` names no schema that
    /// exists), so there is no place for the version table. Nothing was changed.
    #[cfg(feature = "tokio-postgres")]
    NoSchema,
    /// PostgreSQL failed outside any migration (taking the lock, reading the version…).
    #[cfg(feature = "tokio-postgres")]
    Postgres {
        /// What the runtime was doing.
        doing: &'static str,
        /// The client's error.
        source: Box<tokio_postgres::Error>,
    },
}

/// Where and why a script failed, as each database's runner finds it (`E`: the client's
/// error).
#[derive(Debug)]
pub(crate) struct ScriptFailure<E> {
    /// 1-based line within the file.
    pub(crate) line: usize,
    /// 1-based column, when the database pointed at a token.
    pub(crate) column: Option<usize>,
    /// The start of the failing statement.
    pub(crate) statement: String,
    /// The database's message.
    pub(crate) message: String,
    /// The client's error.
    pub(crate) source: E,
}

impl Error {
    /// [`Error::Migration`] for `migration`'s script in `direction`, which failed as `failure`
    /// says, leaving the database at `left_at` after committing `committed`.
    pub(crate) fn migration<E: std::error::Error + Send + Sync + 'static>(
        migration: &migrate_core::Migration,
        direction: Direction,
        failure: ScriptFailure<E>,
        left_at: LeftAt,
        committed: Vec<String>,
    ) -> Error {
        Error::Migration {
            version: migration.version(),
            file: migration.script(direction).file_name().to_owned(),
            direction,
            line: failure.line,
            column: failure.column,
            statement: failure.statement,
            message: failure.message,
            left_at,
            committed,
            source: Box::new(failure.source),
        }
    }
}

/// Where a failed run left the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeftAt {
    /// Rolled back to this version (`None`: nothing applied), not dirty.
    Clean(Option<u64>),
    /// A migration outside a transaction failed: the database is dirty at this version.
    Dirty(Option<u64>),
}

/// Who left a database dirty.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DirtyOrigin {
    /// This runtime: the history table records the start of this no-transaction migration,
    /// which never finished, so part of it may have run.
    Unfinished {
        /// The file that started.
        file: String,
        /// Which way it was running.
        direction: Direction,
    },
    /// Not this runtime (no unfinished start in the history table): golang-migrate, which
    /// marks the version dirty before each migration and leaves it dirty when it fails,
    /// usually after rolling the migration's transaction back.
    OtherTool,
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

/// "`file` leaves N row(s) pointing at missing parents (`child` row 1 → `parent`, …)": the one
/// description of rows a migration left dangling, in the runtime's
/// [`Error::ForeignKeyViolation`] and in verification's finding. `violations` may be the first
/// few of `total`.
pub(crate) fn missing_parents(file: &str, violations: &[Violation], total: usize) -> String {
    let mut list: Vec<String> = violations
        .iter()
        .map(|v| match v.rowid {
            Some(rowid) => format!("`{}` row {rowid} → `{}`", v.table, v.parent),
            None => format!("`{}` → `{}`", v.table, v.parent),
        })
        .collect();
    if total > violations.len() {
        list.push("…".to_owned());
    }
    format!(
        "`{file}` leaves {total} row(s) pointing at missing parents ({})",
        list.join(", ")
    )
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
                version,
                file,
                direction,
                line,
                column,
                statement,
                message,
                left_at,
                committed,
                source,
            } => {
                write!(f, "migration `{file}` failed at line {line}")?;
                if let Some(column) = column {
                    write!(f, ", column {column}")?;
                }
                write!(f, " (`{statement}`): {message}; ")?;
                where_left(f, *left_at, committed)?;
                match left_at {
                    // When the database is at fault, the hint in `message` says what to do.
                    LeftAt::Clean(_)
                        if source
                            .downcast_ref::<rusqlite::Error>()
                            .and_then(database_hint)
                            .is_some() =>
                    {
                        Ok(())
                    }
                    LeftAt::Clean(_) => f.write_str(": fix the migration and run again"),
                    LeftAt::Dirty(_) => repair_by_hand(f, *version, *direction),
                }
            }
            Error::ForeignKeyViolation {
                version,
                file,
                direction,
                violations,
                total,
                left_at,
                committed,
            } => {
                write!(
                    f,
                    "migration {}; ",
                    missing_parents(file, violations, *total)
                )?;
                where_left(f, *left_at, committed)?;
                f.write_str(
                    ". Migrations run with foreign-key enforcement off, so no `ON DELETE CASCADE` \
                     or other foreign-key action runs in them: delete or update the child rows in \
                     the migration before removing their parents, and keep the keys when \
                     recreating a parent table",
                )?;
                if let LeftAt::Dirty(_) = left_at {
                    f.write_str("; then")?;
                    repair_by_hand(f, *version, *direction)?;
                }
                Ok(())
            }
            Error::ForeignKeyMismatch {
                version,
                file,
                direction,
                table,
                message,
                malformed,
                left_at,
                committed,
            } => {
                if malformed.is_empty() {
                    write!(
                        f,
                        "after migration `{file}`, SQLite cannot check the foreign keys of \
                         `{table}`: {message}. A foreign key must reference its parent's PRIMARY \
                         KEY or columns with a UNIQUE constraint (never `rowid`), with as many \
                         columns as it has: fix the REFERENCES clause of `{table}` or make the \
                         referenced columns unique (if an earlier migration created it, in this \
                         migration or a new one before it)"
                    )?;
                } else {
                    write!(
                        f,
                        "after migration `{file}`, a foreign key cannot work: {}",
                        malformed.join("; and ")
                    )?;
                }
                f.write_str(
                    " (or, if the service runs without foreign-key enforcement on purpose, declare \
                     `foreign_keys = \"unenforced\"` in `embed_migrations!`, \
                     `ForeignKeys::Unenforced`); ",
                )?;
                where_left(f, *left_at, committed)?;
                if let LeftAt::Dirty(_) = left_at {
                    f.write_str("; then")?;
                    repair_by_hand(f, *version, *direction)?;
                }
                Ok(())
            }
            Error::Changed { changed, table } if changed[0].direction == Direction::Down => {
                let files: Vec<String> = changed.iter().map(|c| format!("`{}`", c.file)).collect();
                let first = &changed[0];
                write!(
                    f,
                    "{} {} not the down{} shipped with the migration{} applied to this database \
                     (`{table}` records checksum {}… for it, the file now has {}…), so running it \
                     could undo something other than what was applied; nothing was changed. \
                     Restore the file as it was when its up was applied, or accept the edit with \
                     `Options::allow_changed_migrations(true)`",
                    files.join(", "),
                    if files.len() == 1 { "is" } else { "are" },
                    if files.len() == 1 { "" } else { "s" },
                    if files.len() == 1 { "" } else { "s" },
                    &first.recorded.to_hex()[..12],
                    &first.embedded.to_hex()[..12],
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
            Error::EndsTransaction {
                file,
                left_at: left_at @ LeftAt::Clean(_),
                committed,
            } => {
                write!(
                    f,
                    "migration `{file}` ends the transaction it runs in (COMMIT, END or ROLLBACK), \
                     so it could not be applied atomically; "
                )?;
                where_left(f, *left_at, committed)?;
                f.write_str(
                    ": remove BEGIN/COMMIT from it (every migration already runs in a \
                     transaction), or mark it `-- migrate:no-transaction`",
                )
            }
            Error::EndsTransaction {
                file,
                left_at,
                committed,
            } => {
                write!(
                    f,
                    "migration `{file}` runs outside a transaction and left a transaction of its \
                     own open (a BEGIN without COMMIT), which was rolled back; "
                )?;
                where_left(f, *left_at, committed)?;
                f.write_str(
                    ": end every transaction the migration begins, then undo what ran of it by \
                     hand and record the version the schema matches with `force`",
                )
            }
            Error::Dirty {
                version,
                table,
                origin: DirtyOrigin::Unfinished { file, direction },
                previous,
                next,
            } => {
                write!(
                    f,
                    "the database is dirty at {}: `{file}` runs outside a transaction and started \
                     but did not finish (`{table}_history` records its start), so part of it may \
                     have run and `{table}` cannot say which schema the database has; nothing was \
                     changed. Finish or undo what it did by hand, then record the version the \
                     schema matches with `force`",
                    version_text(*version)
                )?;
                let (finished, undone) = match direction {
                    Direction::Up => (*version, *previous),
                    Direction::Down => (*version, *next),
                };
                write!(
                    f,
                    " ({} if you finished it, {} if you undid it)",
                    force_text(finished),
                    force_text(undone)
                )
            }
            Error::Dirty {
                version,
                previous,
                next,
                ..
            } => match version {
                Some(v) => {
                    write!(
                        f,
                        "the database is dirty at version {}, and this tool did not record \
                         starting a migration to it, so another tool left it so: golang-migrate \
                         marks the version dirty before a migration and leaves it dirty when the \
                         migration fails, after rolling back the migration's transaction, so the \
                         schema most likely is still that of {}",
                        format_version(*v),
                        version_text(*previous),
                    )?;
                    if let Some(next) = next {
                        let next = format_version(*next);
                        write!(f, " (or of version {next} if a down from {next} failed)")?;
                    }
                    write!(
                        f,
                        "; nothing was changed. Check the schema against the migrations (one that \
                         ran outside a transaction may have run in part), then record the version \
                         it matches with `force`, usually {}, and run `up` again",
                        force_text(*previous),
                    )
                }
                None => {
                    let first = next.unwrap_or(1);
                    write!(
                        f,
                        "the database is dirty with no version, as golang-migrate leaves it when \
                         the down of the first migration fails (after rolling back its \
                         transaction), so the schema most likely still is that of version {0}; \
                         nothing was changed. Check the schema, then record the version it \
                         matches with `force` (`force {1}` if migration {0}'s tables are there, \
                         `force 0` if the database is empty)",
                        format_version(first),
                        first,
                    )
                }
            },
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
            Error::WrongDatabase { set, connection } => {
                let declared = match set {
                    Database::Sqlite => "the default: it declares no `database = …`".to_owned(),
                    other => format!("declared `database = \"{}\"`", other.key()),
                };
                write!(
                    f,
                    "the migration set is written for {set} ({declared}) and the connection is \
                     {connection}'s, so nothing was run and the connection was not touched: "
                )?;
                match (set, connection) {
                    (Database::Postgres, _) => f.write_str(
                        "apply the set to PostgreSQL through the runtime's `postgres` or \
                         `tokio-postgres` feature, or, if its SQL is SQLite's, remove \
                         `database = \"postgres\"` from its declaration",
                    ),
                    (_, other) => write!(
                        f,
                        "declare the set `database = \"{}\"` if its SQL is written for {other}, \
                         or apply it to a SQLite connection",
                        other.key()
                    ),
                }
            }
            Error::InvalidTableName { name } => write!(
                f,
                "`{name}` cannot be the version table's name: use letters, digits and `_`, starting \
                 with a letter or `_`"
            ),
            Error::Sqlite { doing, source } => {
                write!(f, "SQLite failed while {doing}: {}", sqlite_message(source))
            }
            #[cfg(feature = "tokio-postgres")]
            Error::LockTimeout {
                waited,
                key,
                holders,
            } => {
                write!(
                    f,
                    "another migration run held the migration lock (PostgreSQL advisory lock {key}, \
                     golang-migrate's key for this database and version table) for longer than \
                     the {} s this run waits (`Options::busy_timeout`); nothing was changed. ",
                    crate::decimal::OneDecimal::seconds(*waited)
                )?;
                if holders.is_empty() {
                    f.write_str("It was released meanwhile: run again")
                } else {
                    write!(
                        f,
                        "Held by {}: let that run finish, or end a session that hangs with \
                         `SELECT pg_terminate_backend(pid)`, then run again (or wait longer with a \
                         larger busy timeout)",
                        holders.join("; ")
                    )
                }
            }
            #[cfg(feature = "tokio-postgres")]
            Error::CallersTransaction => f.write_str(
                "the connection is inside a transaction (a BEGIN of the caller's), and a run \
                 commits transactions of its own, which would commit the caller's work with \
                 it; nothing was changed. Commit or roll back first, or migrate on a connection \
                 of its own",
            ),
            #[cfg(feature = "tokio-postgres")]
            Error::NoSchema => f.write_str(
                "PostgreSQL has no current schema (the session's `search_path` names no schema \
                 that exists), so there is nowhere to keep the version table; nothing was \
                 changed. Create the schema, or set `search_path` on the connection",
            ),
            #[cfg(feature = "tokio-postgres")]
            Error::Postgres { doing, source } => {
                write!(
                    f,
                    "PostgreSQL failed while {doing}: {}",
                    postgres_message(source)
                )
            }
            Error::Stopped {
                committed,
                left_at,
                error,
            } => {
                // What failed changed nothing more; what ran before it stays.
                let inner = error
                    .to_string()
                    .replace("nothing was changed", "nothing more was changed");
                write!(f, "{inner}; ")?;
                if !committed.is_empty() {
                    let list: Vec<String> = committed.iter().map(|c| format!("`{c}`")).collect();
                    write!(
                        f,
                        "before that, this run committed {}, and ",
                        list.join(", ")
                    )?;
                }
                match left_at {
                    LeftAt::Clean(version) => {
                        write!(
                            f,
                            "the database is at {}, not dirty",
                            version_text(*version)
                        )
                    }
                    LeftAt::Dirty(version) => write!(
                        f,
                        "the database is dirty at {}, after a migration that runs outside a \
                         transaction: check its schema, then record the version it matches with \
                         `force`",
                        version_text(*version)
                    ),
                }
            }
        }
    }
}

/// Says where a failed run left the database, and what this run committed before.
fn where_left(f: &mut fmt::Formatter<'_>, left_at: LeftAt, committed: &[String]) -> fmt::Result {
    let list = || {
        committed
            .iter()
            .map(|file| format!("`{file}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match left_at {
        LeftAt::Clean(version) if committed.is_empty() => write!(
            f,
            "it was rolled back and the database is at {}, not dirty",
            version_text(version)
        ),
        LeftAt::Clean(version) => write!(
            f,
            "it was rolled back, but this run had already committed {} before it, so the database \
             is at {}, not dirty",
            list(),
            version_text(version)
        ),
        LeftAt::Dirty(version) => {
            write!(
                f,
                "it ran outside a transaction, so the database is dirty at {}",
                version_text(version)
            )?;
            if !committed.is_empty() {
                write!(f, " (this run committed {} before it)", list())?;
            }
            Ok(())
        }
    }
}

/// What to do after a migration outside a transaction failed midway.
fn repair_by_hand(f: &mut fmt::Formatter<'_>, version: u64, direction: Direction) -> fmt::Result {
    let (finished, undone) = match direction {
        Direction::Up => (Some(version), version.checked_sub(1)),
        Direction::Down => (version.checked_sub(1), Some(version)),
    };
    write!(
        f,
        ": repair the schema by hand, then record the version it matches with `force` ({} if you \
         finished the migration, {} if you undid it)",
        force_text(finished),
        force_text(undone)
    )
}

/// `force N`, as a command to run.
fn force_text(version: Option<u64>) -> String {
    format!("`force {}`", version.unwrap_or(0))
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Migration { source, .. } => Some(&**source),
            Error::Sqlite { source, .. } => Some(&**source),
            #[cfg(feature = "tokio-postgres")]
            Error::Postgres { source, .. } => Some(&**source),
            Error::Stopped { error, .. } => Some(&**error),
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

/// PostgreSQL's own message with its detail and hint when it gives them (`ERROR: … DETAIL: …
/// HINT: …` as psql shows them, on one line), or the client's text for an error that is not
/// the server's (a closed connection).
#[cfg(feature = "tokio-postgres")]
pub(crate) fn postgres_message(error: &tokio_postgres::Error) -> String {
    let Some(db) = error.as_db_error() else {
        return error.to_string();
    };
    let mut text = db.message().to_owned();
    if let Some(detail) = db.detail() {
        text.push_str(&format!(" (detail: {detail})"));
    }
    if let Some(hint) = db.hint() {
        text.push_str(&format!(" (hint: {hint})"));
    }
    text
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
    /// The files the failed run committed before the failure, in the order they ran: what
    /// stays applied although the run failed (a `-- migrate:no-transaction` migration, or
    /// `commit_each_migration`, splits a run into several commits). Empty when nothing was
    /// committed, which is always the case for a run in one transaction, and for the errors
    /// that refuse a run before anything runs ([`Error::Dirty`], [`Error::Changed`], …).
    ///
    /// ```
    /// # fn report(error: &migrate_engine::Error) {
    /// for file in error.committed() {
    ///     eprintln!("still applied: {file}");
    /// }
    /// # }
    /// ```
    pub fn committed(&self) -> &[String] {
        match self {
            Error::Migration { committed, .. }
            | Error::ForeignKeyViolation { committed, .. }
            | Error::ForeignKeyMismatch { committed, .. }
            | Error::EndsTransaction { committed, .. }
            | Error::Stopped { committed, .. } => committed,
            _ => &[],
        }
    }

    /// Where a failed run left the database, for the errors raised while migrations run
    /// (`None` for a refusal before anything ran, which changed nothing).
    pub fn left_at(&self) -> Option<LeftAt> {
        match self {
            Error::Migration { left_at, .. }
            | Error::ForeignKeyViolation { left_at, .. }
            | Error::ForeignKeyMismatch { left_at, .. }
            | Error::EndsTransaction { left_at, .. }
            | Error::Stopped { left_at, .. } => Some(*left_at),
            _ => None,
        }
    }

    /// Maps a PostgreSQL client's error to [`Error::Postgres`], saying what was being done.
    #[cfg(feature = "tokio-postgres")]
    pub(crate) fn postgres(doing: &'static str) -> impl FnOnce(tokio_postgres::Error) -> Error {
        move |source| Error::Postgres {
            doing,
            source: Box::new(source),
        }
    }

    pub(crate) fn sqlite(doing: &'static str) -> impl FnOnce(rusqlite::Error) -> Error {
        move |source| Error::from_sqlite(doing, source)
    }

    /// [`Error::sqlite`]'s error, built out of line: one call at each of the many places a
    /// statement can fail, instead of the boxing inlined at each (`bench/*/size`).
    #[cold]
    #[inline(never)]
    fn from_sqlite(doing: &'static str, source: rusqlite::Error) -> Error {
        Error::Sqlite {
            doing,
            source: Box::new(source),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_parents_lists_the_rows_and_marks_a_cut_list() {
        let violations = [
            Violation {
                table: "posts".to_owned(),
                rowid: Some(3),
                parent: "users".to_owned(),
            },
            Violation {
                table: "tags".to_owned(),
                rowid: None,
                parent: "posts".to_owned(),
            },
        ];
        assert_eq!(
            missing_parents("000002_x.up.sql", &violations, 2),
            "`000002_x.up.sql` leaves 2 row(s) pointing at missing parents (`posts` row 3 → \
             `users`, `tags` → `posts`)"
        );
        assert_eq!(
            missing_parents("000002_x.up.sql", &violations[..1], 7),
            "`000002_x.up.sql` leaves 7 row(s) pointing at missing parents (`posts` row 3 → \
             `users`, …)"
        );
    }

    #[test]
    fn a_database_golang_migrate_left_dirty_below_version_one_says_what_to_force() {
        let error = Error::Dirty {
            version: None,
            table: "schema_migrations".to_owned(),
            origin: DirtyOrigin::OtherTool,
            previous: None,
            next: Some(1),
        };
        assert_eq!(
            error.to_string(),
            "the database is dirty with no version, as golang-migrate leaves it when the down of \
             the first migration fails (after rolling back its transaction), so the schema most \
             likely still is that of version 000001; nothing was changed. Check the schema, then \
             record the version it matches with `force` (`force 1` if migration 000001's tables \
             are there, `force 0` if the database is empty)"
        );
    }

    #[test]
    fn an_unfinished_down_says_which_version_each_outcome_is() {
        let error = Error::Dirty {
            version: Some(2),
            table: "schema_migrations".to_owned(),
            origin: DirtyOrigin::Unfinished {
                file: "000003_vacuum.down.sql".to_owned(),
                direction: Direction::Down,
            },
            previous: Some(1),
            next: Some(3),
        };
        assert!(
            error
                .to_string()
                .ends_with("(`force 2` if you finished it, `force 3` if you undid it)"),
            "{error}"
        );
    }

    #[cfg(feature = "tokio-postgres")]
    #[test]
    fn a_lock_timeout_names_the_holder_and_what_to_do() {
        let error = Error::LockTimeout {
            waited: std::time::Duration::from_millis(1500),
            key: 1234,
            holders: vec![
                "pid 42 (application `billing`) since 2026-12-01 17:00:00 UTC".to_owned(),
            ],
        };
        assert_eq!(
            error.to_string(),
            "another migration run held the migration lock (PostgreSQL advisory lock 1234, \
             golang-migrate's key for this database and version table) for longer than the 1.5 s \
             this run waits (`Options::busy_timeout`); nothing was changed. Held by pid 42 \
             (application `billing`) since 2026-12-01 17:00:00 UTC: let that run finish, or end a \
             session that hangs with `SELECT pg_terminate_backend(pid)`, then run again (or wait \
             longer with a larger busy timeout)"
        );
    }

    #[cfg(feature = "tokio-postgres")]
    #[test]
    fn the_callers_transaction_is_refused_saying_why() {
        assert_eq!(
            Error::CallersTransaction.to_string(),
            "the connection is inside a transaction (a BEGIN of the caller's), and a run commits \
             transactions of its own, which would commit the caller's work with it; nothing was \
             changed. Commit or roll back first, or migrate on a connection of its own"
        );
    }

    #[test]
    fn a_script_that_ends_its_transaction_names_what_was_committed_before() {
        let error = Error::EndsTransaction {
            file: "000003_c.up.sql".to_owned(),
            left_at: LeftAt::Clean(Some(2)),
            committed: vec!["000002_vacuum.up.sql".to_owned()],
        };
        assert_eq!(
            error.to_string(),
            "migration `000003_c.up.sql` ends the transaction it runs in (COMMIT, END or \
             ROLLBACK), so it could not be applied atomically; it was rolled back, but this run had \
             already committed `000002_vacuum.up.sql` before it, so the database is at version \
             000002, not dirty: remove BEGIN/COMMIT from it (every migration already runs in a \
             transaction), or mark it `-- migrate:no-transaction`"
        );
    }

    #[test]
    fn a_set_for_another_database_says_what_to_use_instead() {
        let error = Error::WrongDatabase {
            set: Database::Postgres,
            connection: Database::Sqlite,
        };
        assert_eq!(
            error.to_string(),
            "the migration set is written for PostgreSQL (declared `database = \"postgres\"`) \
             and the connection is SQLite's, so nothing was run and the connection was not \
             touched: apply the set to PostgreSQL through the runtime's `postgres` or \
             `tokio-postgres` feature, or, if its SQL is SQLite's, remove \
             `database = \"postgres\"` from its declaration"
        );
        let error = Error::WrongDatabase {
            set: Database::Sqlite,
            connection: Database::Postgres,
        };
        assert_eq!(
            error.to_string(),
            "the migration set is written for SQLite (the default: it declares no `database = …`) and the \
             connection is PostgreSQL's, so nothing was run and the connection was not touched: \
             declare the set `database = \"postgres\"` if its SQL is written for PostgreSQL, or \
             apply it to a SQLite connection"
        );
    }
}
