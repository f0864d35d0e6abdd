//! Where the database is (`--database` or `DATABASE_URL`) and opening it: read-only for the
//! commands that only look, read-write (created if missing, as SQLite does) for the others.

use std::path::{Path, PathBuf};

use migrate_runtime::rusqlite::{Connection, OpenFlags};

use crate::failure::Failure;

/// The environment variable read when `--database` is not given.
pub(crate) const DATABASE_URL: &str = "DATABASE_URL";

/// A database file named on the command line or by `DATABASE_URL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Database {
    /// The file, as given (relative paths are relative to the current directory).
    pub(crate) path: PathBuf,
}

/// Where a database location came from, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    Flag,
    Env,
}

impl Origin {
    fn name(self) -> &'static str {
        match self {
            Origin::Flag => "--database",
            Origin::Env => DATABASE_URL,
        }
    }
}

impl Database {
    /// The database of `--database`, or else of `DATABASE_URL` (an empty variable counts as
    /// unset).
    ///
    /// # Errors
    /// A usage failure when neither is given, or the location is not a SQLite file.
    pub(crate) fn locate(flag: Option<&str>) -> Result<Database, Failure> {
        let (text, origin) = match flag {
            Some(text) => (text.to_owned(), Origin::Flag),
            None => match std::env::var(DATABASE_URL) {
                Ok(text) if !text.is_empty() => (text, Origin::Env),
                Ok(_) | Err(std::env::VarError::NotPresent) => {
                    return Err(Failure::usage(
                        "no_database",
                        "no database given: pass `--database <path>`, or set \
                         `DATABASE_URL=sqlite://<path>`",
                    ));
                }
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(Failure::usage(
                        "database_url",
                        "DATABASE_URL is not valid UTF-8: pass `--database <path>` instead",
                    ));
                }
            },
        };
        parse(&text, origin).map(|path| Database { path })
    }

    /// Opens the database read-only, or returns `None` when the file does not exist: a command
    /// that only looks never creates a database.
    ///
    /// # Errors
    /// When the file exists but SQLite cannot open it.
    pub(crate) fn open_read_only(&self) -> Result<Option<Connection>, Failure> {
        match self.path.try_exists() {
            Ok(true) => {}
            Ok(false) => return Ok(None),
            Err(error) => return Err(self.cannot_open(&error.to_string())),
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)
            .map_err(|error| self.cannot_open(&sqlite_message(&error)))?;
        self.configure(&conn)?;
        Ok(Some(conn))
    }

    /// Opens the database for writing, creating the file if it does not exist.
    ///
    /// # Errors
    /// When SQLite cannot open or create it (a missing directory is named).
    pub(crate) fn open(&self) -> Result<Connection, Failure> {
        let parent = self
            .path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty());
        if let Some(parent) = parent
            && !parent.is_dir()
        {
            return Err(Failure::failed(
                "open_database",
                format!(
                    "cannot create the database `{}`: the directory `{}` does not exist; \
                     create it, or correct the path",
                    self.path.display(),
                    parent.display()
                ),
            ));
        }
        // No SQLITE_OPEN_URI: the path is a file name, never a `file:` URI.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)
            .map_err(|error| self.cannot_open(&sqlite_message(&error)))?;
        self.configure(&conn)?;
        Ok(conn)
    }

    /// What a service does on its connections: enforce foreign keys.
    fn configure(&self, conn: &Connection) -> Result<(), Failure> {
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(|error| self.cannot_open(&sqlite_message(&error)))
    }

    fn cannot_open(&self, why: &str) -> Failure {
        let hint = if self.path.is_dir() {
            ": it is a directory; give the database file's path"
        } else {
            ""
        };
        Failure::failed(
            "open_database",
            format!(
                "cannot open the database `{}`: {why}{hint}",
                self.path.display()
            ),
        )
    }
}

/// SQLite's own words, without rusqlite's wrapping.
fn sqlite_message(error: &migrate_runtime::rusqlite::Error) -> String {
    match error {
        migrate_runtime::rusqlite::Error::SqliteFailure(_, Some(message)) => message.clone(),
        other => other.to_string(),
    }
}

/// Turns a `--database` value or `DATABASE_URL` into a file path.
///
/// Accepted: `sqlite://PATH`, `sqlite3://PATH` (golang-migrate's scheme), `sqlite:PATH` (sqlx's
/// short form), and a plain path. The path after the scheme is taken literally, so
/// `sqlite:///var/app.db` is the absolute `/var/app.db`. Refused: other schemes, query
/// parameters, an empty path, and in-memory databases (discarded when `migrate` exits).
fn parse(text: &str, origin: Origin) -> Result<PathBuf, Failure> {
    let from = origin.name();
    let (path, url) = match strip_sqlite_scheme(text) {
        Some(rest) => (rest.strip_prefix("//").unwrap_or(rest), true),
        None => {
            if let Some(scheme) = other_scheme(text) {
                // Only the scheme is repeated: the rest of a URL may hold a password.
                return Err(Failure::usage(
                    "database_url",
                    format!(
                        "{from} uses the scheme `{scheme}`, but migrate works on SQLite files only: \
                         give `sqlite://<path>` or a plain path"
                    ),
                ));
            }
            (text, false)
        }
    };
    if url && path.contains('?') {
        return Err(Failure::usage(
            "database_url",
            format!(
                "{from} has query parameters (`?…`), which migrate does not support: give only \
                 the path, as in `sqlite://app.db`"
            ),
        ));
    }
    if path.is_empty() {
        return Err(Failure::usage(
            "database_url",
            format!("{from} names no file: give a path, as in `sqlite://app.db`"),
        ));
    }
    if path == ":memory:" {
        return Err(Failure::usage(
            "database_url",
            format!(
                "{from} names an in-memory database, which would be discarded when migrate exits: \
                 give a file path"
            ),
        ));
    }
    Ok(Path::new(path).to_path_buf())
}

/// The part after `sqlite:` or `sqlite3:` (any case), if the text starts with one.
fn strip_sqlite_scheme(text: &str) -> Option<&str> {
    let (scheme, rest) = text.split_once(':')?;
    (scheme.eq_ignore_ascii_case("sqlite") || scheme.eq_ignore_ascii_case("sqlite3"))
        .then_some(rest)
}

/// The scheme of a `scheme://…` URL, if the text is one.
fn other_scheme(text: &str) -> Option<&str> {
    let (scheme, _) = text.split_once("://")?;
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(scheme)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> PathBuf {
        parse(text, Origin::Flag).expect(text)
    }

    fn refused(text: &str) -> String {
        parse(text, Origin::Env).expect_err(text).message
    }

    #[test]
    fn accepts_sqlite_urls_and_plain_paths() {
        assert_eq!(path("app.db"), PathBuf::from("app.db"));
        assert_eq!(path("sqlite://app.db"), PathBuf::from("app.db"));
        assert_eq!(path("sqlite:app.db"), PathBuf::from("app.db"));
        assert_eq!(path("sqlite3://data/app.db"), PathBuf::from("data/app.db"));
        assert_eq!(path("SQLITE://app.db"), PathBuf::from("app.db"));
        assert_eq!(path("sqlite:///var/app.db"), PathBuf::from("/var/app.db"));
        assert_eq!(path("/var/app.db"), PathBuf::from("/var/app.db"));
    }

    #[test]
    fn refuses_other_schemes_without_repeating_the_url() {
        let message = refused("postgres://user:secret@db/app");
        assert!(message.contains("`postgres`"), "{message}");
        assert!(!message.contains("secret"), "{message}");
    }

    #[test]
    fn refuses_query_parameters_empty_paths_and_memory() {
        assert!(refused("sqlite://app.db?mode=ro").contains("query parameters"));
        assert!(refused("sqlite://").contains("names no file"));
        assert!(refused("sqlite::memory:").contains("in-memory"));
        assert!(refused(":memory:").contains("in-memory"));
    }
}
