//! Everything that can be wrong with a migrations directory, each with a message that names
//! the file (relative to the directory) and says what to do.

use std::fmt;
use std::path::PathBuf;

use crate::directive::DirectiveErrorKind;
use crate::name::{NameError, VersionStyle, format_version};

/// One thing wrong with a migrations directory.
///
/// Messages are lowercase, name the file relative to the migrations directory, and end by
/// saying what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// The directory itself could not be listed.
    Directory {
        /// The resolved path.
        path: PathBuf,
        /// What the operating system said.
        error: String,
    },
    /// A file could not be read, or is not a regular file (a directory, a named pipe, a
    /// dangling link, … named like a migration).
    Unreadable {
        /// The file.
        file: String,
        /// What is wrong (what the operating system said, or what the entry is) and what to
        /// do.
        error: String,
    },
    /// A `.sql` file whose name does not follow the grammar.
    BadName {
        /// The file.
        file: String,
        /// Which rule it breaks.
        error: NameError,
    },
    /// A file that is not UTF-8.
    NotUtf8 {
        /// The file.
        file: String,
        /// 1-based line of the first invalid byte.
        line: usize,
    },
    /// An up without its down.
    MissingDown {
        /// The up file.
        up: String,
        /// The down file's expected name.
        expected: String,
    },
    /// A down without its up.
    MissingUp {
        /// The down file.
        down: String,
        /// The up file's expected name.
        expected: String,
    },
    /// An up and a down of one version with different names.
    NameMismatch {
        /// The up file.
        up: String,
        /// The down file.
        down: String,
    },
    /// Several files for one version and direction.
    Duplicate {
        /// The version.
        version: u64,
        /// Every file of that version, sorted.
        files: Vec<String>,
    },
    /// Versions that are missing from the sequence 1, 2, 3, …
    Gap {
        /// First missing version.
        from: u64,
        /// Last missing version.
        to: u64,
        /// The up file just before the hole, if any.
        before: Option<String>,
        /// The up file just after the hole.
        after: String,
    },
    /// Versions of more than one [`VersionStyle`] in one set.
    MixedVersionStyles {
        /// Each style found, with the up file (or the lone file) of each of its versions, in
        /// version order.
        styles: Vec<(VersionStyle, Vec<String>)>,
    },
    /// An up file with no SQL.
    EmptyUp {
        /// The file.
        file: String,
    },
    /// A down file with no SQL and no `-- migrate:irreversible` line.
    EmptyDown {
        /// The file.
        file: String,
    },
    /// A directive line that could not be accepted.
    Directive {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        error: DirectiveErrorKind,
    },
    /// A directive in a file it does not belong to (`irreversible` and `lossy-down` belong
    /// in the down file).
    MisplacedDirective {
        /// The file holding it.
        file: String,
        /// 1-based line.
        line: usize,
        /// The directive.
        directive: &'static str,
        /// The file it belongs in.
        belongs_in: String,
    },
    /// A statement that cannot run inside the transaction a migration runs in.
    TransactionControl {
        /// The file.
        file: String,
        /// 1-based line of the statement.
        line: usize,
        /// The statement's keyword: `BEGIN`, `COMMIT`, `END`, `ROLLBACK` or `VACUUM`.
        keyword: String,
    },
    /// A file that opens and commits its own transaction (`BEGIN` first, `COMMIT` or `END`
    /// last, as golang-migrate's `x-no-tx-wrap=true` files do) without
    /// `-- migrate:no-transaction`.
    OwnTransaction {
        /// The file.
        file: String,
        /// 1-based line of its `BEGIN`.
        line: usize,
    },
    /// A NUL byte, where SQLite stops reading the script.
    NulByte {
        /// The file.
        file: String,
        /// 1-based line of the first NUL byte.
        line: usize,
    },
    /// A `/*` comment that is never closed, so it swallows the rest of the script.
    UnclosedComment {
        /// The file.
        file: String,
        /// 1-based line where the comment opens.
        line: usize,
    },
    /// In a PostgreSQL set: a string, quoted identifier, dollar quote or `/*` comment that is
    /// never closed, so PostgreSQL reads the rest of the script as part of it and refuses the
    /// script. (SQLite's unclosed `/*` is [`Problem::UnclosedComment`].)
    Unterminated {
        /// The file.
        file: String,
        /// 1-based line where it opens.
        line: usize,
        /// Its opening: `'`, `E'`, `U&'`, `"`, `U&"`, `$$`, `$tag$` or `/*`.
        opening: String,
    },
    /// In a PostgreSQL set: a NUL byte, which no PostgreSQL query text can hold. (SQLite's is
    /// [`Problem::NulByte`].)
    PostgresNulByte {
        /// The file.
        file: String,
        /// 1-based line of the first NUL byte.
        line: usize,
    },
    /// In a PostgreSQL set: a statement that cannot run inside the transaction a migration runs
    /// in (see [`sql::transaction_control_in`](crate::sql::transaction_control_in)). (SQLite's
    /// is [`Problem::TransactionControl`].)
    PostgresTransactionControl {
        /// The file.
        file: String,
        /// 1-based line of the statement.
        line: usize,
        /// What the statement is: `BEGIN`, `START TRANSACTION`, `COMMIT`, `END`, `ROLLBACK`,
        /// `ABORT`, `VACUUM`, `CREATE INDEX CONCURRENTLY`, …
        statement: String,
    },
    /// A down marked irreversible that still holds SQL.
    IrreversibleWithSql {
        /// The down file.
        file: String,
    },
    /// A down marked both irreversible and lossy.
    IrreversibleAndLossy {
        /// The down file.
        file: String,
    },
}

impl Problem {
    /// The file the problem is about (for a gap, the file after the hole; for the directory,
    /// its path).
    pub fn file(&self) -> String {
        match self {
            Problem::Directory { path, .. } => path.display().to_string(),
            Problem::Duplicate { files, .. } => files.first().cloned().unwrap_or_default(),
            Problem::Gap { after, .. } => after.clone(),
            Problem::MixedVersionStyles { styles } => styles
                .iter()
                .flat_map(|(_, files)| files.first())
                .min()
                .cloned()
                .unwrap_or_default(),
            Problem::MissingDown { up: file, .. }
            | Problem::MissingUp { down: file, .. }
            | Problem::NameMismatch { up: file, .. }
            | Problem::Unreadable { file, .. }
            | Problem::BadName { file, .. }
            | Problem::NotUtf8 { file, .. }
            | Problem::EmptyUp { file }
            | Problem::EmptyDown { file }
            | Problem::Directive { file, .. }
            | Problem::MisplacedDirective { file, .. }
            | Problem::TransactionControl { file, .. }
            | Problem::OwnTransaction { file, .. }
            | Problem::NulByte { file, .. }
            | Problem::UnclosedComment { file, .. }
            | Problem::Unterminated { file, .. }
            | Problem::PostgresNulByte { file, .. }
            | Problem::PostgresTransactionControl { file, .. }
            | Problem::IrreversibleWithSql { file }
            | Problem::IrreversibleAndLossy { file } => file.clone(),
        }
    }

    /// The 1-based line within [`Problem::file`] the problem is at, where it has one.
    pub fn line(&self) -> Option<usize> {
        match self {
            Problem::NotUtf8 { line, .. }
            | Problem::Directive { line, .. }
            | Problem::MisplacedDirective { line, .. }
            | Problem::TransactionControl { line, .. }
            | Problem::OwnTransaction { line, .. }
            | Problem::NulByte { line, .. }
            | Problem::UnclosedComment { line, .. }
            | Problem::Unterminated { line, .. }
            | Problem::PostgresNulByte { line, .. }
            | Problem::PostgresTransactionControl { line, .. } => Some(*line),
            _ => None,
        }
    }
}

/// Formats a range of missing versions: `000002` or `000002 to 000004`.
fn versions(from: u64, to: u64) -> String {
    if from == to {
        format!("version {}", format_version(from))
    } else {
        format!(
            "versions {} to {}",
            format_version(from),
            format_version(to)
        )
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Directory { path, error } => write!(
                f,
                "cannot read the migrations directory `{}`: {error}; create it, or correct the path",
                path.display()
            ),
            Problem::Unreadable { file, error } => {
                write!(f, "cannot read `{file}`: {error}")
            }
            Problem::BadName { file, error } => {
                write!(f, "`{file}` is not a valid migration file name: {error}")
            }
            Problem::NotUtf8 { file, line } => write!(
                f,
                "`{file}` is not valid UTF-8 (first invalid byte on line {line}): save it as UTF-8"
            ),
            Problem::MissingDown { up, expected } => write!(
                f,
                "missing `{expected}` for `{up}`: add it with the SQL that undoes the up, or, if the \
                 migration cannot be undone, with the line `-- migrate:irreversible <reason>`"
            ),
            Problem::MissingUp { down, expected } => write!(
                f,
                "`{down}` has no up migration: add `{expected}`, or delete the down file"
            ),
            Problem::NameMismatch { up, down } => write!(
                f,
                "`{up}` and `{down}` have the same version but different names: rename one to match the other"
            ),
            Problem::Duplicate { version, files } => write!(
                f,
                "version {} is used more than once ({}): give each migration its own version",
                format_version(*version),
                files
                    .iter()
                    .map(|x| format!("`{x}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Problem::Gap {
                from,
                to,
                before: Some(before),
                after,
            } => write!(
                f,
                "{} missing between `{before}` and `{after}`: versions must run 1, 2, 3, … without \
                 a hole; add the missing migration or renumber the ones after it",
                versions(*from, *to) + if from == to { " is" } else { " are" }
            ),
            Problem::Gap {
                from,
                to,
                before: None,
                after,
            } => write!(
                f,
                "{} missing before `{after}`: versions must start at 000001; renumber the migrations",
                versions(*from, *to) + if from == to { " is" } else { " are" }
            ),
            Problem::MixedVersionStyles { styles } => {
                f.write_str("the set mixes version styles: ")?;
                for (i, (style, files)) in styles.iter().enumerate() {
                    if i > 0 {
                        f.write_str(if i + 1 == styles.len() { " and " } else { ", " })?;
                    }
                    write!(f, "{style} (")?;
                    for (j, file) in files.iter().take(3).enumerate() {
                        if j > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "`{file}`")?;
                    }
                    if files.len() > 3 {
                        write!(f, " and {} more", files.len() - 3)?;
                    }
                    f.write_str(")")?;
                }
                f.write_str(
                    "; they sort by number, so the order would be wrong: give the migrations that \
                     no database has applied yet versions in the style of the others (applied \
                     versions are recorded in databases and must not change)",
                )
            }
            Problem::EmptyUp { file } => {
                write!(
                    f,
                    "`{file}` holds no SQL: write the migration's statements in it"
                )
            }
            Problem::EmptyDown { file } => write!(
                f,
                "`{file}` holds no SQL: write the statements that undo the up, or, if the migration \
                 cannot be undone, add the line `-- migrate:irreversible <reason>`"
            ),
            Problem::Directive { file, line, error } => write!(f, "`{file}` line {line}: {error}"),
            Problem::MisplacedDirective {
                file,
                line,
                directive,
                belongs_in,
            } => write!(
                f,
                "`{file}` line {line}: `-- migrate:{directive}` belongs in the down file: move it to `{belongs_in}`"
            ),
            Problem::TransactionControl {
                file,
                line,
                keyword,
            } if keyword == "VACUUM" => write!(
                f,
                "`{file}` line {line}: `VACUUM` cannot run inside the transaction a migration runs \
                 in: add the line `-- migrate:no-transaction` to the file (best in a migration of its own)"
            ),
            Problem::TransactionControl {
                file,
                line,
                keyword,
            } => {
                let effect = if keyword == "BEGIN" {
                    "would start a transaction inside the one the migration runs in, which SQLite refuses"
                } else {
                    "would end the transaction the migration runs in, committing part of a migration without its version"
                };
                write!(
                    f,
                    "`{file}` line {line}: `{keyword}` {effect}: remove it (every migration already \
                     runs in a transaction), or add the line `-- migrate:no-transaction` to manage \
                     transactions yourself"
                )
            }
            Problem::OwnTransaction { file, line } => write!(
                f,
                "`{file}` line {line}: the file manages its own transaction (`BEGIN` … `COMMIT`), \
                 as files written for golang-migrate's `x-no-tx-wrap=true` do: add the line \
                 `-- migrate:no-transaction` to it (`migrate-sqlite adopt --write` adds it to every such \
                 file), or remove its `BEGIN` and `COMMIT` to run it in the transaction the \
                 runtime opens, atomically with its version"
            ),
            Problem::NulByte { file, line } => write!(
                f,
                "`{file}` line {line}: a NUL byte ends the script for SQLite, so nothing after it \
                 would run: remove it (for a NUL value in data, write `char(0)` or `x'00'`)"
            ),
            Problem::UnclosedComment { file, line } => write!(
                f,
                "`{file}` line {line}: this `/*` comment is never closed, so SQLite would skip \
                 everything after it: close it with `*/`"
            ),
            Problem::Unterminated {
                file,
                line,
                opening,
            } => {
                let (what, close) = match opening.as_str() {
                    "/*" => (
                        "comment",
                        "`*/` (comments nest on PostgreSQL: close each `/*`)",
                    ),
                    "\"" | "U&\"" => ("quoted identifier", "`\"`"),
                    o if o.starts_with('$') => ("dollar quote", o),
                    _ => ("string", "`'`"),
                };
                let close = if close.starts_with('$') {
                    format!("`{close}`")
                } else {
                    close.to_owned()
                };
                write!(
                    f,
                    "`{file}` line {line}: this {what} (`{opening}`) is never closed, so PostgreSQL \
                     would read everything after it as part of it and refuse the script: close it \
                     with {close}"
                )
            }
            Problem::PostgresNulByte { file, line } => write!(
                f,
                "`{file}` line {line}: a NUL byte cannot be sent to PostgreSQL in a query's text, \
                 so the migration would fail when it runs: remove it (for a NUL byte in data, \
                 write `'\\x00'::bytea`)"
            ),
            Problem::PostgresTransactionControl {
                file,
                line,
                statement,
            } => {
                let effect = match statement.as_str() {
                    "BEGIN" | "START TRANSACTION" => Some(
                        "would start a transaction inside the one the migration runs in, which \
                         PostgreSQL ignores with a warning, so the `COMMIT` after it would commit \
                         part of a migration without its version",
                    ),
                    "COMMIT" | "END" => Some(
                        "would end the transaction the migration runs in, committing part of a \
                         migration without its version",
                    ),
                    "ROLLBACK" | "ABORT" => Some(
                        "would end the transaction the migration runs in, undoing the statements \
                         before it and running the ones after it without the transaction and \
                         apart from the migration's version",
                    ),
                    _ => None,
                };
                match effect {
                    Some(effect) => write!(
                        f,
                        "`{file}` line {line}: `{statement}` {effect}: remove it (every migration \
                         already runs in a transaction), or add the line \
                         `-- migrate:no-transaction` to manage transactions yourself"
                    ),
                    None => write!(
                        f,
                        "`{file}` line {line}: PostgreSQL refuses `{statement}` inside a \
                         transaction block, and every migration runs in one: add the line \
                         `-- migrate:no-transaction` to the file (best in a migration of its own)"
                    ),
                }
            }
            Problem::IrreversibleWithSql { file } => write!(
                f,
                "`{file}` is marked `-- migrate:irreversible` but holds SQL: remove the SQL, or \
                 remove the directive to make the migration reversible"
            ),
            Problem::IrreversibleAndLossy { file } => write!(
                f,
                "`{file}` is marked both `-- migrate:irreversible` and `-- migrate:lossy-down`: keep one"
            ),
        }
    }
}

impl std::error::Error for Problem {}

/// Several problems, as one error: its `Display` lists each on its own line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        write!(
            f,
            "the migrations directory has {count} problem{}:",
            if count == 1 { "" } else { "s" }
        )?;
        for problem in &self.0 {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}
