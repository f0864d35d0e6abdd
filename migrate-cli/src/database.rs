//! What a database URL means, once for every command: [`locate`] tells a PostgreSQL server's
//! URL ([`PostgresUrl`]) from a SQLite file's; [`DatabaseUrl`] parses `--database` or
//! `DATABASE_URL` (sqlx's, golang-migrate's and go-sqlite3's forms, `file:` URIs, plain paths)
//! into a file path and the settings that have a meaning here, and refuses everything else by
//! name. Every command opens, reads and asks "does it exist" through it.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use migrate_runtime::rusqlite::{self, Connection, OpenFlags};

use crate::failure::Failure;

/// The environment variable read when `--database` is not given.
pub(crate) const DATABASE_URL: &str = "DATABASE_URL";

/// A database file and how to open it, as a database URL says.
///
/// The accepted forms and parameters are listed in the README ("The database") and in
/// `migrate-sqlite --help`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DatabaseUrl {
    /// The file (relative paths are relative to the current directory).
    pub(crate) path: PathBuf,
    /// Where the URL came from, for messages.
    origin: Origin,
    /// `mode=` (or `_query_only`): what the URL lets the commands do.
    access: Access,
    /// `x-migrations-table`: the version table's name.
    table: Option<String>,
    /// `_busy_timeout` / `_timeout`: how long to wait for another connection's lock.
    busy_timeout: Option<Duration>,
    /// `_foreign_keys` / `_fk`: the connection's foreign-key enforcement (default on).
    foreign_keys: Option<bool>,
    /// `_journal_mode` / `_journal`: set on connections that may write.
    journal_mode: Option<&'static str>,
    /// `_synchronous` / `_sync`: set on connections that may write.
    synchronous: Option<&'static str>,
    /// `x-no-tx-wrap`: accepted; it changes nothing here (see [`DatabaseUrl::no_tx_wrap`]).
    no_tx_wrap: bool,
}

/// What a URL's `mode=` allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    /// `mode=rwc`, the default: read, write, and create a missing file (for the commands that
    /// may create one).
    Create,
    /// `mode=rw`: read and write an existing file, never create one.
    Write,
    /// `mode=ro` or `_query_only=true`: only read (`status` and `version`).
    Read,
}

/// Where a database location came from, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    Flag,
    Env,
    /// `DATABASE_URL` in the current directory's `.env` file.
    DotEnv,
}

impl Origin {
    fn name(self) -> &'static str {
        match self {
            Origin::Flag => "--database",
            Origin::Env => DATABASE_URL,
            Origin::DotEnv => "DATABASE_URL in .env",
        }
    }
}

/// The file sqlx-cli and diesel read `DATABASE_URL` from, in the current directory only.
const DOT_ENV: &str = ".env";

/// `DATABASE_URL` as the current directory's `.env` file sets it, the way dotenvy reads it
/// for sqlx-cli and diesel: `KEY=VALUE` lines, optionally after `export `, `#` comments,
/// values in single quotes (as written), double quotes (with `\"`, `\\` and `\n` escapes)
/// or bare (up to a ` #` comment); the first assignment counts. No other variable is read or
/// set. `None` when there is no `.env` or it does not set `DATABASE_URL`.
///
/// # Errors
/// A `.env` that cannot be read, or a value that uses `${…}` substitution, which is not done.
fn dot_env_database_url() -> Result<Option<String>, Failure> {
    let contents = match std::fs::read(DOT_ENV) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(Failure::usage(
                "dot_env",
                format!(
                    "cannot read `.env` (for DATABASE_URL): {error}; pass `--database <path>`, \
                     or set DATABASE_URL in the environment"
                ),
            ));
        }
    };
    let text = String::from_utf8_lossy(&contents);
    let Some(value) = dot_env_value(&text, DATABASE_URL) else {
        return Ok(None);
    };
    if value.contains("${") {
        return Err(Failure::usage(
            "dot_env",
            "DATABASE_URL in .env uses `${…}`, which is not expanded here: write the value out, \
             or set DATABASE_URL in the environment",
        ));
    }
    Ok(Some(value))
}

/// The value `.env` text gives `key` (see [`dot_env_database_url`]).
fn dot_env_value(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let line = line.trim();
        let line = line.strip_prefix("export ").map_or(line, str::trim_start);
        let (name, value) = line.split_once('=')?;
        if name.trim() != key {
            return None;
        }
        let value = value.trim();
        let parsed = if let Some(rest) = value.strip_prefix('\'') {
            rest.split_once('\'')
                .map_or(rest, |(inner, _)| inner)
                .to_owned()
        } else if let Some(rest) = value.strip_prefix('"') {
            let mut out = String::new();
            let mut chars = rest.chars();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => match chars.next() {
                        Some('n') => out.push('\n'),
                        Some(other) => out.push(other),
                        None => break,
                    },
                    c => out.push(c),
                }
            }
            out
        } else {
            value
                .split_once(" #")
                .map_or(value, |(before, _)| before)
                .trim_end()
                .to_owned()
        };
        Some(parsed)
    })
}

/// Where the database is, as `--database`, `DATABASE_URL` or `.env` gives it: a SQLite file,
/// or a PostgreSQL server (`postgres://…` or `postgresql://…`).
pub(crate) enum Location {
    /// A SQLite file and how to open it.
    Sqlite(DatabaseUrl),
    /// A PostgreSQL server.
    Postgres(PostgresUrl),
}

/// The kind of failure of a PostgreSQL URL that is refused (so the directory is still read
/// as a PostgreSQL set before the refusal is reported).
pub(crate) const POSTGRES_URL: &str = "postgres_url";

/// A PostgreSQL server's URL and the golang-migrate parameter that has a meaning here.
pub(crate) struct PostgresUrl {
    /// The URL to connect with, without golang-migrate's `x-` parameters (it may hold a
    /// password: never shown).
    pub(crate) url: String,
    /// `x-migrations-table`: the version table's name.
    pub(crate) table: Option<String>,
}

impl PostgresUrl {
    /// Takes golang-migrate's `x-migrations-table` out of the URL's query; refuses its other
    /// `x-` parameters by name (the `postgres` crate would refuse them as unknown options).
    fn parse(text: &str, origin: Origin) -> Result<PostgresUrl, Failure> {
        let (base, query) = text.split_once('?').unwrap_or((text, ""));
        let mut kept = Vec::new();
        let mut table = None;
        let mut refused = Vec::new();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if key == "x-migrations-table" {
                table = Some(percent_decode(value).ok_or_else(|| bad_escape(origin.name()))?);
            } else if key.starts_with("x-") {
                refused.push(format!("`{key}`"));
            } else {
                kept.push(pair);
            }
        }
        if !refused.is_empty() {
            return Err(Failure::usage(
                POSTGRES_URL,
                format!(
                    "{} sets {}, golang-migrate PostgreSQL parameter{} that migrate-sqlite does \
                     not take (of its `x-` parameters, only x-migrations-table has a meaning \
                     here): remove {}",
                    origin.name(),
                    refused.join(", "),
                    if refused.len() == 1 { "" } else { "s" },
                    if refused.len() == 1 { "it" } else { "them" },
                ),
            ));
        }
        let url = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        // Read here so that a URL the `postgres` crate cannot read is a usage error, before
        // any connection (its messages name the option, not the value).
        if let Err(error) = url.parse::<postgres::Config>() {
            return Err(Failure::usage(
                POSTGRES_URL,
                format!(
                    "{} is not a PostgreSQL URL this tool can read ({}): correct it; SQLite's \
                     parameters (`_busy_timeout`, `mode`, …) do not apply to PostgreSQL",
                    origin.name(),
                    with_causes(&error)
                ),
            ));
        }
        Ok(PostgresUrl { url, table })
    }
}

/// The database of `--database`, `DATABASE_URL` or `.env` (see [`DatabaseUrl::locate`]),
/// which may also be a PostgreSQL server.
///
/// # Errors
/// As [`DatabaseUrl::locate`].
pub(crate) fn locate(flag: Option<&str>) -> Result<Location, Failure> {
    let (text, origin) = located_text(flag)?;
    if is_postgres(&text) {
        return PostgresUrl::parse(&text, origin).map(Location::Postgres);
    }
    DatabaseUrl::parse(&text, origin).map(Location::Sqlite)
}

/// Whether a database URL names a PostgreSQL server: `postgres://` or `postgresql://`, any case.
pub(crate) fn is_postgres(database: &str) -> bool {
    let lower = database.trim_start().to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// The text of `--database`, or else `DATABASE_URL`, or else `.env`'s, and where it came from.
fn located_text(flag: Option<&str>) -> Result<(String, Origin), Failure> {
    Ok(match flag {
        Some(text) => (text.to_owned(), Origin::Flag),
        None => match std::env::var(DATABASE_URL) {
            Ok(text) if !text.is_empty() => (text, Origin::Env),
            Ok(_) | Err(std::env::VarError::NotPresent) => match dot_env_database_url()? {
                Some(text) if !text.is_empty() => (text, Origin::DotEnv),
                _ => {
                    return Err(Failure::usage(
                        "no_database",
                        "no database given: pass `--database <path>` (or a \
                             `postgres://…` URL), or set `DATABASE_URL=sqlite://<path>` (in the \
                             environment or in `.env`)",
                    ));
                }
            },
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(Failure::usage(
                    "database_url",
                    "DATABASE_URL is not valid UTF-8: pass `--database <path>` instead",
                ));
            }
        },
    })
}

/// An error and its causes: "error connecting to server: Connection refused (os error 111)".
pub(crate) fn with_causes(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}

/// A PostgreSQL URL as messages show it: `postgres://user@host:port/database`, without the
/// password or other parameters.
pub(crate) fn without_password(url: &str) -> String {
    let Ok(config) = url.parse::<postgres::Config>() else {
        return "(an unreadable URL)".to_owned();
    };
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(host)) => host.clone(),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config
        .get_ports()
        .first()
        .map_or(String::new(), |port| format!(":{port}"));
    let user = config
        .get_user()
        .map_or(String::new(), |user| format!("{user}@"));
    let database = config.get_dbname().unwrap_or_default();
    format!("postgres://{user}{host}{port}/{database}")
}

/// May a command create the database file when it does not exist?
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Create {
    /// `up`, `force`, `to V` with V > 0: a fresh database is what they start from.
    Yes,
    /// `down`, `to 0`: on a missing file there is nothing to undo, and creating one would
    /// change something while saying nothing changed.
    No,
}

impl DatabaseUrl {
    /// The database of `--database`, or else of `DATABASE_URL` from the environment, or else
    /// from the current directory's `.env` (an empty variable counts as unset).
    ///
    /// # Errors
    /// A usage failure when neither is given, or the URL is refused.
    pub(crate) fn locate(flag: Option<&str>) -> Result<DatabaseUrl, Failure> {
        let (text, origin) = located_text(flag)?;
        DatabaseUrl::parse(&text, origin)
    }

    /// The version table the URL names (`x-migrations-table`), if it names one.
    pub(crate) fn table(&self) -> Option<&str> {
        self.table.as_deref()
    }

    /// Whether the URL says `x-no-tx-wrap=true`. It changes nothing here: a file that runs
    /// its own `BEGIN … COMMIT` says so itself with `-- migrate:no-transaction`, which the
    /// macro reads too (it never sees a URL); commands only mention it when files need that.
    pub(crate) fn no_tx_wrap(&self) -> bool {
        self.no_tx_wrap
    }

    /// The busy timeout the URL sets (`_busy_timeout`), if it sets one.
    pub(crate) fn busy_timeout(&self) -> Option<Duration> {
        self.busy_timeout
    }

    /// Whether the database file exists. It is looked at without being opened: a named pipe
    /// would block the opener.
    ///
    /// # Errors
    /// When the file system cannot tell, or the path is not a regular file (a directory, a
    /// named pipe, a socket, a device).
    pub(crate) fn exists(&self) -> Result<bool, Failure> {
        match std::fs::metadata(&self.path) {
            Ok(metadata) if metadata.is_file() => Ok(true),
            Ok(metadata) if metadata.is_dir() => {
                Err(self.cannot_open("it is a directory; give the database file's path"))
            }
            Ok(_) => Err(self.cannot_open(
                "it is not a regular file (a named pipe, a socket or a device); give the \
                 database file's path",
            )),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(error) => Err(self.cannot_open(&error.to_string())),
        }
    }

    /// Runs `read` on a read-only connection, or returns `None` when the file does not exist:
    /// a command that only looks never creates a database, and leaves the directory's files
    /// and bytes as they were.
    ///
    /// A WAL database needs care, since a read-only connection creates the `-wal` and `-shm`
    /// files it lacks and cannot remove them:
    /// - with an empty or no `-wal` file, the database file holds everything committed: it is
    ///   read with `immutable=1` (no lock, no `-wal`, no `-shm`), and the file's size and
    ///   modification time and the log's emptiness are compared before and after; a writer
    ///   that came in between makes the read run again through an ordinary read-only
    ///   connection, which shares the writer's files;
    /// - with a `-wal` that holds frames but no `-shm`, a process stopped without closing the
    ///   database, and only a read-write connection can recover the log: that is said;
    /// - otherwise (`-wal` and `-shm` present: a connection is open, or one crashed), an
    ///   ordinary read-only connection uses the files that are there.
    ///
    /// # Errors
    /// When the file exists but SQLite cannot read it (a hot journal or a log to recover is
    /// explained), or what `read` returns.
    pub(crate) fn read<T>(
        &self,
        read: impl Fn(&mut Connection) -> Result<T, Failure>,
    ) -> Result<Option<T>, Failure> {
        if !self.exists()? {
            return Ok(None);
        }
        let wal = sibling(&self.path, "-wal");
        if is_wal(&self.path) {
            if file_len(&wal) == 0 {
                let before = stamp(&self.path);
                let result = {
                    let mut conn = self.connect(
                        &uri(&self.path, "immutable=1")?,
                        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI,
                        false,
                    )?;
                    read(&mut conn)
                };
                if before.is_some() && stamp(&self.path) == before && file_len(&wal) == 0 {
                    return result.map(Some);
                }
            } else if !sibling(&self.path, "-shm").exists() {
                return Err(self.wal_recovery());
            }
        }
        let mut conn = self.connect(&plain(&self.path), OpenFlags::SQLITE_OPEN_READ_ONLY, false)?;
        read(&mut conn).map(Some)
    }

    /// Opens the database for `command`, which writes. Returns `None` when the file does not
    /// exist and `create` is [`Create::No`]: nothing is created.
    ///
    /// # Errors
    /// When the URL is read-only (`mode=ro`), the file does not exist and the URL says
    /// `mode=rw`, the directory does not exist, or SQLite cannot open it.
    pub(crate) fn open(
        &self,
        command: &str,
        create: Create,
    ) -> Result<Option<Connection>, Failure> {
        if self.access == Access::Read {
            return Err(Failure::usage(
                "database_url",
                format!(
                    "`migrate-sqlite {command}` changes the database, but {} opens it read-only \
                     (`mode=ro` or `_query_only`): remove that parameter to change it, or use \
                     `migrate-sqlite status` to look",
                    self.origin.name()
                ),
            ));
        }
        if !self.exists()? {
            if create == Create::No {
                return Ok(None);
            }
            if self.access == Access::Write {
                return Err(Failure::failed(
                    "open_database",
                    format!(
                        "the database `{}` does not exist, and {} says `mode=rw`, which never \
                         creates it: correct the path, or use `mode=rwc` to create it",
                        self.path.display(),
                        self.origin.name()
                    ),
                ));
            }
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
        }
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE;
        if create == Create::Yes {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        self.connect(&plain(&self.path), flags, true).map(Some)
    }

    /// Opens `target` with `flags`, applies the URL's settings, and makes one read so that a
    /// file SQLite cannot read is reported here, in words.
    fn connect(&self, target: &str, flags: OpenFlags, writes: bool) -> Result<Connection, Failure> {
        let fail = |error: &rusqlite::Error| self.sqlite_failure(error);
        let conn = Connection::open_with_flags(target, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(|error| fail(&error))?;
        if let Some(timeout) = self.busy_timeout {
            conn.busy_timeout(timeout).map_err(|error| fail(&error))?;
        }
        // What a service does on its connections: enforce foreign keys, unless its URL says
        // otherwise (go-sqlite3's default is off; rusqlite's bundled SQLite's is on).
        conn.pragma_update(None, "foreign_keys", self.foreign_keys.unwrap_or(true))
            .map_err(|error| fail(&error))?;
        // The first read: a hot journal, a file that is not a database, … show up here.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
            .map_err(|error| fail(&error))?;
        if writes {
            if let Some(mode) = self.journal_mode {
                conn.pragma_update_and_check(None, "journal_mode", mode, |_| Ok(()))
                    .map_err(|error| fail(&error))?;
            }
            if let Some(level) = self.synchronous {
                conn.pragma_update(None, "synchronous", level)
                    .map_err(|error| fail(&error))?;
            }
        }
        Ok(conn)
    }

    /// A failure to open or read the file, in words: a hot journal left by an interrupted
    /// write, a directory, or SQLite's own message.
    fn sqlite_failure(&self, error: &rusqlite::Error) -> Failure {
        let extended = match error {
            rusqlite::Error::SqliteFailure(error, _) => Some(error.extended_code),
            _ => None,
        };
        let path = self.path.display();
        match extended {
            Some(rusqlite::ffi::SQLITE_READONLY_ROLLBACK) => Failure::failed(
                "hot_journal",
                format!(
                    "cannot read the database `{path}`: a write to it was interrupted (a crash or a \
                     kill), and its journal `{}` must be rolled back by a read-write connection \
                     before the file can be read; `status` and `version` only read, so nothing \
                     was changed. Run `migrate-sqlite up` (it rolls the interrupted write back first), \
                     or open the file once read-write (`sqlite3 {path} 'PRAGMA quick_check'`), \
                     then run this command again",
                    sibling(&self.path, "-journal").display()
                ),
            ),
            Some(rusqlite::ffi::SQLITE_READONLY_RECOVERY) => self.wal_recovery(),
            Some(code) if code & 0xff == rusqlite::ffi::SQLITE_NOTADB => self.cannot_open(&format!(
                "{} (it is not an SQLite database, or it is encrypted: check the database path)",
                sqlite_message(error)
            )),
            _ => self.cannot_open(&sqlite_message(error)),
        }
    }

    /// A WAL database whose log a stopped process left for a read-write connection to recover.
    fn wal_recovery(&self) -> Failure {
        let path = self.path.display();
        Failure::failed(
            "wal_recovery",
            format!(
                "cannot read the database `{path}`: a process stopped without closing it (a crash \
                 or a kill), and its write-ahead log `{}` must be recovered by a read-write \
                 connection before the file can be read; `status` and `version` only read, so \
                 nothing was changed. Run `migrate-sqlite up` (it recovers the log first), or open the \
                 file once read-write (`sqlite3 {path} 'PRAGMA quick_check'`), then run this \
                 command again",
                sibling(&self.path, "-wal").display()
            ),
        )
    }

    fn cannot_open(&self, why: &str) -> Failure {
        Failure::failed(
            "open_database",
            format!("cannot open the database `{}`: {why}", self.path.display()),
        )
    }

    /// Turns a `--database` value or `DATABASE_URL` into a [`DatabaseUrl`].
    ///
    /// Accepted: `sqlite://PATH`, `sqlite3://PATH` (golang-migrate's scheme), `sqlite:PATH`
    /// (sqlx's short form), `file:` URIs (alone or after one of those schemes), and a plain
    /// path, each with query parameters. The path after a scheme is taken literally, so
    /// `sqlite:///var/app.db` is the absolute `/var/app.db`; a `file:` URI's path is
    /// percent-decoded. Refused: other schemes, an empty path, in-memory databases, and every
    /// parameter without a meaning here, by name (a value is never repeated: it may be a
    /// password).
    fn parse(text: &str, origin: Origin) -> Result<DatabaseUrl, Failure> {
        let from = origin.name();
        let refuse = |message: String| Failure::usage("database_url", message);
        let rest = match strip_sqlite_scheme(text) {
            Some(rest) => rest.strip_prefix("//").unwrap_or(rest),
            None => {
                if let Some(scheme) = other_scheme(text).filter(|s| !s.eq_ignore_ascii_case("file"))
                {
                    // Only the scheme is repeated: the rest of a URL may hold a password.
                    return Err(refuse(format!(
                        "{from} uses the scheme `{scheme}`, but migrate-sqlite works on SQLite files \
                         and PostgreSQL servers only: give `sqlite://<path>`, a plain path, or \
                         `postgres://…`"
                    )));
                }
                text
            }
        };
        let (path, query) = match strip_file_scheme(rest) {
            Some(uri) => {
                let uri = uri.split_once('#').map_or(uri, |(before, _)| before);
                let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
                let path = match path.strip_prefix("//") {
                    Some(authority_and_path) => {
                        let (authority, path) = authority_and_path
                            .find('/')
                            .map_or((authority_and_path, ""), |at| {
                                authority_and_path.split_at(at)
                            });
                        if !authority.is_empty() && !authority.eq_ignore_ascii_case("localhost") {
                            return Err(refuse(format!(
                                "{from} is a `file:` URI with a host; SQLite opens local files \
                                 only: write `file:/path/to/app.db` or `file:app.db`"
                            )));
                        }
                        path
                    }
                    None => path,
                };
                (percent_decode(path).ok_or_else(|| bad_escape(from))?, query)
            }
            None => {
                let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
                (path.to_owned(), query)
            }
        };
        let mut url = DatabaseUrl {
            path: PathBuf::new(),
            origin,
            access: Access::Create,
            table: None,
            busy_timeout: None,
            foreign_keys: None,
            journal_mode: None,
            synchronous: None,
            no_tx_wrap: false,
        };
        let mut refusals: Vec<(Vec<String>, String)> = Vec::new();
        let mut memory = path == ":memory:";
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = percent_decode(key).ok_or_else(|| bad_escape(from))?;
            let value = percent_decode(&value.replace('+', " ")).ok_or_else(|| bad_escape(from))?;
            match url.parameter(&key, &value) {
                Ok(Setting::Applied) => {}
                Ok(Setting::Memory) => memory = true,
                Err(reason) => match refusals.iter_mut().find(|(_, r)| *r == reason) {
                    Some((keys, _)) => keys.push(key),
                    None => refusals.push((vec![key], reason)),
                },
            }
        }
        if memory {
            return Err(refuse(format!(
                "{from} names an in-memory database (`:memory:` or `mode=memory`), which would \
                 be discarded when migrate-sqlite exits: give a file path"
            )));
        }
        if path.is_empty() {
            return Err(refuse(format!(
                "{from} names no file: give a path, as in `sqlite://app.db`"
            )));
        }
        if !refusals.is_empty() {
            let refusals: Vec<String> = refusals
                .iter()
                .map(|(keys, reason)| {
                    let keys: Vec<String> = keys.iter().map(|key| format!("`{key}`")).collect();
                    format!("{}: {reason}", keys.join(", "))
                })
                .collect();
            return Err(refuse(format!(
                "{from} has parameters migrate-sqlite refuses; remove or correct them: {}",
                refusals.join("; ")
            )));
        }
        url.path = PathBuf::from(path);
        Ok(url)
    }

    /// Applies one query parameter `key`, or says why it is refused and what to do (the
    /// caller names the parameter; its value is never repeated).
    fn parameter(&mut self, key: &str, value: &str) -> Result<Setting, String> {
        let choice = |allowed: &[&'static str]| -> Result<&'static str, String> {
            allowed
                .iter()
                .find(|allowed| allowed.eq_ignore_ascii_case(value))
                .copied()
                .ok_or_else(|| format!("must be one of {}", allowed.join(", ")))
        };
        match key {
            // golang-migrate's sqlite3 driver.
            "x-migrations-table" => {
                if value.is_empty() {
                    return Err("names no table: give the version table's name".to_owned());
                }
                self.table = Some(value.to_owned());
            }
            "x-no-tx-wrap" => self.no_tx_wrap = boolean(value)?,
            // go-sqlite3's DSN parameters.
            "_busy_timeout" | "_timeout" => {
                // SQLite counts milliseconds in a C int.
                let millis = value
                    .parse::<u32>()
                    .ok()
                    .filter(|millis| i32::try_from(*millis).is_ok())
                    .ok_or_else(|| {
                        "must be a whole number of milliseconds from 0 to 2147483647, such as 5000"
                            .to_owned()
                    })?;
                self.busy_timeout = Some(Duration::from_millis(u64::from(millis)));
            }
            "_foreign_keys" | "_fk" => self.foreign_keys = Some(boolean(value)?),
            "_journal_mode" | "_journal" => {
                if ["memory", "off"]
                    .iter()
                    .any(|v| v.eq_ignore_ascii_case(value))
                {
                    return Err("MEMORY and OFF keep no journal on disk, so a crash in the \
                                middle of a migration could corrupt the database: use DELETE, \
                                TRUNCATE, PERSIST or WAL"
                        .to_owned());
                }
                self.journal_mode = Some(choice(&["DELETE", "TRUNCATE", "PERSIST", "WAL"])?);
            }
            "_synchronous" | "_sync" => {
                if ["off", "0"].iter().any(|v| v.eq_ignore_ascii_case(value)) {
                    return Err(
                        "OFF lets a power loss corrupt the database: use NORMAL, FULL or EXTRA"
                            .to_owned(),
                    );
                }
                self.synchronous = Some(match value {
                    "1" => "NORMAL",
                    "2" => "FULL",
                    "3" => "EXTRA",
                    _ => choice(&["NORMAL", "FULL", "EXTRA"])?,
                });
            }
            "_query_only" => {
                if boolean(value)? {
                    self.access = Access::Read;
                }
            }
            "_locking_mode" | "_locking" => {
                if !value.eq_ignore_ascii_case("normal") {
                    return Err(
                        "EXCLUSIVE keeps other processes out until migrate-sqlite exits and \
                                makes `status` hold a lock: leave it NORMAL"
                            .to_owned(),
                    );
                }
            }
            // Settings of the Go driver itself, with no effect on what migrate-sqlite does.
            "_loc" | "_mutex" | "_txlock" | "cache" => {}
            // SQLite's URI parameters.
            "mode" => match value.to_ascii_lowercase().as_str() {
                "ro" => self.access = Access::Read,
                "rw" => self.access = Access::Write,
                "rwc" => self.access = Access::Create,
                "memory" => return Ok(Setting::Memory),
                _ => return Err("must be one of ro, rw, rwc".to_owned()),
            },
            "nolock" => {
                return Err("turns off SQLite's locking, which keeps two migrating \
                            processes from corrupting the file"
                    .to_owned());
            }
            "immutable" => {
                return Err("tells SQLite that nothing changes the file, which is \
                            untrue of a database being migrated"
                    .to_owned());
            }
            "_auth" | "_auth_user" | "_auth_pass" | "_auth_crypt" | "_auth_salt" => {
                return Err("SQLite's user-authentication extension is not supported".to_owned());
            }
            "_case_sensitive_like"
            | "_cslike"
            | "_recursive_triggers"
            | "_rt"
            | "_defer_foreign_keys"
            | "_defer_fk"
            | "_ignore_check_constraints"
            | "_writable_schema" => {
                return Err(
                    "would change what the migrations' SQL does, so they would no \
                            longer run as `check --verify` and your service run them: set it \
                            with a PRAGMA in the migration that needs it"
                        .to_owned(),
                );
            }
            _ => {
                return Err(
                    "not a parameter migrate-sqlite knows (it takes `x-migrations-table`, \
                            `x-no-tx-wrap`, `mode`, `_busy_timeout`, `_foreign_keys`, \
                            `_journal_mode`, `_synchronous`, `_query_only`, `_locking_mode`, and \
                            ignores `cache`, `_loc`, `_mutex`, `_txlock`)"
                        .to_owned(),
                );
            }
        }
        Ok(Setting::Applied)
    }
}

/// What one accepted parameter did.
enum Setting {
    Applied,
    /// `mode=memory`: refused with the in-memory message.
    Memory,
}

/// go-sqlite3's booleans.
fn boolean(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "yes" | "true" | "on" => Ok(true),
        "0" | "no" | "false" | "off" => Ok(false),
        _ => Err("must be true or false (1/0, yes/no, on/off)".to_owned()),
    }
}

fn bad_escape(from: &str) -> Failure {
    Failure::usage(
        "database_url",
        format!(
            "{from} has a `%` escape that is not two hexadecimal digits, or that does not decode \
             to UTF-8: write `%25` for a `%`"
        ),
    )
}

/// Decodes `%XX` escapes; `None` when one is malformed or the result is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'%' {
            let hex = text.get(at + 1..at + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            at += 3;
        } else {
            out.push(bytes[at]);
            at += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// SQLite's own words, without rusqlite's wrapping.
fn sqlite_message(error: &rusqlite::Error) -> String {
    match error {
        rusqlite::Error::SqliteFailure(_, Some(message)) => message.clone(),
        other => other.to_string(),
    }
}

/// The path as a file name SQLite will not take for a URI (bundled SQLite accepts URIs in
/// file names: a relative `file:x.db` would be one).
fn plain(path: &Path) -> String {
    let text = path.to_string_lossy().into_owned();
    if text.starts_with("file:") {
        format!("./{text}")
    } else {
        text
    }
}

/// A `file:` URI for `path` (made absolute, every byte but unreserved ones and `/` escaped),
/// with `query`.
fn uri(path: &Path, query: &str) -> Result<String, Failure> {
    let absolute = std::path::absolute(path).map_err(|error| {
        Failure::failed(
            "open_database",
            format!("cannot open the database `{}`: {error}", path.display()),
        )
    })?;
    let mut out = String::from("file:");
    for byte in absolute.as_os_str().as_encoded_bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(byte) {
            out.push(char::from(*byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out.push('?');
    out.push_str(query);
    Ok(out)
}

/// `app.db` → `app.db-wal`.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Whether the file's header says WAL mode (bytes 18 and 19 are 2).
fn is_wal(path: &Path) -> bool {
    use std::io::Read;
    let mut header = [0u8; 20];
    std::fs::File::open(path)
        .and_then(|mut file| file.read_exact(&mut header))
        .is_ok_and(|()| header.starts_with(b"SQLite format 3\0") && header[18] == 2)
}

/// The size of a file, 0 when it does not exist.
fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |metadata| metadata.len())
}

/// The file's size and modification time: a writer that checkpoints changes them.
fn stamp(path: &Path) -> Option<(u64, SystemTime)> {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.len(), metadata.modified().ok()?))
}

/// The part after `sqlite:` or `sqlite3:` (any case), if the text starts with one.
fn strip_sqlite_scheme(text: &str) -> Option<&str> {
    let (scheme, rest) = text.split_once(':')?;
    (scheme.eq_ignore_ascii_case("sqlite") || scheme.eq_ignore_ascii_case("sqlite3"))
        .then_some(rest)
}

/// The part after `file:` (any case), if the text starts with it.
fn strip_file_scheme(text: &str) -> Option<&str> {
    let (scheme, rest) = text.split_once(':')?;
    scheme.eq_ignore_ascii_case("file").then_some(rest)
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

    #[test]
    fn dot_env_values_are_read_as_dotenvy_reads_them() {
        let value = |text: &str| dot_env_value(text, "DATABASE_URL");
        assert_eq!(
            value("DATABASE_URL=sqlite://app.db\n"),
            Some("sqlite://app.db".into())
        );
        assert_eq!(
            value("# a comment\nOTHER=1\nexport DATABASE_URL = app.db # the dev database\n"),
            Some("app.db".into())
        );
        assert_eq!(
            value("DATABASE_URL='my app.db' # quoted\n"),
            Some("my app.db".into())
        );
        assert_eq!(
            value("DATABASE_URL=\"sqlite://a \\\"b\\\".db\"\n"),
            Some("sqlite://a \"b\".db".into())
        );
        // The first assignment counts, as dotenvy keeps a variable once set.
        assert_eq!(
            value("DATABASE_URL=a.db\nDATABASE_URL=b.db\n"),
            Some("a.db".into())
        );
        assert_eq!(value("DATABASE_URL_TEST=x.db\n#DATABASE_URL=y.db\n"), None);
        assert_eq!(value("DATABASE_URL=a#b.db\r\n"), Some("a#b.db".into()));
    }

    use super::*;

    fn url(text: &str) -> DatabaseUrl {
        DatabaseUrl::parse(text, Origin::Flag).expect(text)
    }

    fn path(text: &str) -> PathBuf {
        url(text).path
    }

    fn refused(text: &str) -> String {
        DatabaseUrl::parse(text, Origin::Env)
            .expect_err(text)
            .message
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
    fn file_uris_name_the_file_they_open() {
        assert_eq!(path("file:app.db"), PathBuf::from("app.db"));
        assert_eq!(
            path("file:data/app.db?cache=shared"),
            PathBuf::from("data/app.db")
        );
        assert_eq!(path("file:///var/app.db"), PathBuf::from("/var/app.db"));
        assert_eq!(
            path("file://localhost/var/app.db"),
            PathBuf::from("/var/app.db")
        );
        assert_eq!(
            path("file:/var/my%20app.db"),
            PathBuf::from("/var/my app.db")
        );
        assert_eq!(path("file:app.db#fragment"), PathBuf::from("app.db"));
        assert_eq!(path("sqlite:file:app.db"), PathBuf::from("app.db"));
        assert_eq!(path("sqlite3://file:app.db?_fk=1"), PathBuf::from("app.db"));
        assert!(refused("file://db.internal/app.db").contains("with a host"));
        assert!(refused("file:app%2.db").contains("%25"));
    }

    #[test]
    fn go_sqlite3_dsns_take_their_query() {
        let dsn = url("app.db?_busy_timeout=5000&_foreign_keys=off&_journal_mode=wal&_sync=1");
        assert_eq!(dsn.path, PathBuf::from("app.db"));
        assert_eq!(dsn.busy_timeout(), Some(Duration::from_millis(5000)));
        assert_eq!(dsn.foreign_keys, Some(false));
        assert_eq!(dsn.journal_mode, Some("WAL"));
        assert_eq!(dsn.synchronous, Some("NORMAL"));
        let dsn = url("sqlite3://app.db?_timeout=10&_fk=true&_synchronous=extra&_loc=auto");
        assert_eq!(dsn.busy_timeout(), Some(Duration::from_millis(10)));
        assert_eq!(dsn.foreign_keys, Some(true));
        assert_eq!(dsn.synchronous, Some("EXTRA"));
        let dsn = url("app.db?cache=private&_mutex=no&_txlock=immediate&_locking_mode=NORMAL");
        assert_eq!(dsn, DatabaseUrl { ..url("app.db") });
    }

    #[test]
    fn golang_migrate_parameters() {
        let dsn = url("sqlite3://app.db?x-migrations-table=app_versions&x-no-tx-wrap=true");
        assert_eq!(dsn.table(), Some("app_versions"));
        assert!(dsn.no_tx_wrap());
        assert!(!url("sqlite3://app.db?x-no-tx-wrap=false").no_tx_wrap());
        assert!(url("sqlite3://app.db?x-no-tx-wrap=false").table().is_none());
        assert!(refused("sqlite3://app.db?x-no-tx-wrap=maybe").contains("true or false"));
        assert!(refused("sqlite3://app.db?x-migrations-table=").contains("names no table"));
        let unknown = refused("sqlite3://app.db?x-multi-statement=true");
        assert!(
            unknown.contains("`x-multi-statement`: not a parameter"),
            "{unknown}"
        );
    }

    #[test]
    fn mode_decides_what_commands_may_do() {
        assert_eq!(url("file:app.db?mode=ro").access, Access::Read);
        assert_eq!(url("sqlite://app.db?mode=rw").access, Access::Write);
        assert_eq!(url("app.db?mode=rwc").access, Access::Create);
        assert_eq!(url("app.db?_query_only=1").access, Access::Read);
        assert_eq!(url("app.db").access, Access::Create);
        assert!(refused("app.db?mode=rx").contains("`mode`: must be one of ro, rw, rwc"));
    }

    #[test]
    fn in_memory_forms_are_refused() {
        for text in [
            ":memory:",
            "sqlite::memory:",
            "sqlite://:memory:",
            "file::memory:",
            "sqlite:file::memory:",
            "file::memory:?cache=shared",
            "file:app.db?mode=memory",
            "sqlite3://app.db?mode=memory",
        ] {
            assert!(refused(text).contains("in-memory"), "{text}");
        }
    }

    #[test]
    fn lock_disabling_and_unsafe_parameters_are_refused_with_a_reason() {
        assert!(refused("file:app.db?nolock=1").contains("turns off SQLite's locking"));
        assert!(refused("file:app.db?immutable=1").contains("untrue of a database"));
        assert!(refused("app.db?_journal_mode=memory").contains("crash"));
        assert!(refused("app.db?_journal=OFF").contains("crash"));
        assert!(refused("app.db?_sync=0").contains("power loss"));
        assert!(refused("app.db?_locking=exclusive").contains("EXCLUSIVE"));
        assert!(refused("app.db?_rt=1").contains("`_rt`: would change what the migrations"));
        assert!(refused("app.db?_busy_timeout=soon").contains("milliseconds"));
        assert!(refused("app.db?_busy_timeout=2147483648").contains("2147483647"));
        assert!(refused("app.db?_timeout=-1").contains("milliseconds"));
        let longest = url("app.db?_busy_timeout=2147483647").busy_timeout();
        assert_eq!(longest, Some(Duration::from_millis(2_147_483_647)));
    }

    #[test]
    fn every_refused_parameter_is_named_at_once_and_no_value_is_repeated() {
        let message =
            refused("sqlite3://app.db?_auth_user=admin&_auth_pass=s3cret&vfs=unix-none&_cslike=1");
        for name in [
            "`_auth_user`, `_auth_pass`: SQLite's user",
            "`vfs`: not",
            "`_cslike`",
        ] {
            assert!(message.contains(name), "{name}: {message}");
        }
        assert!(
            !message.contains("s3cret") && !message.contains("admin"),
            "{message}"
        );
        assert!(!message.contains("unix-none"), "{message}");
    }

    #[test]
    fn no_parameter_value_is_ever_repeated_in_a_refusal() {
        let keys = [
            "x-no-tx-wrap",
            "_busy_timeout",
            "_timeout",
            "_foreign_keys",
            "_fk",
            "_journal_mode",
            "_journal",
            "_synchronous",
            "_sync",
            "_query_only",
            "_locking_mode",
            "_locking",
            "mode",
            "nolock",
            "immutable",
            "vfs",
            "psow",
            "modeof",
            "_auth",
            "_auth_user",
            "_auth_pass",
            "_auth_crypt",
            "_auth_salt",
            "_auto_vacuum",
            "_vacuum",
            "_cslike",
            "_rt",
            "_defer_fk",
            "_ignore_check_constraints",
            "_writable_schema",
            "_cache_size",
            "password",
            "x-whatever",
        ];
        for key in keys {
            for form in ["app.db", "sqlite3://app.db", "file:app.db"] {
                let text = format!("{form}?{key}=hunter2%20secret");
                if let Err(failure) = DatabaseUrl::parse(&text, Origin::Env) {
                    assert!(
                        !failure.message.contains("hunter2"),
                        "{text}: {}",
                        failure.message
                    );
                    assert!(failure.message.contains(&format!("`{key}`")), "{text}");
                }
            }
        }
    }

    #[test]
    fn malformed_escapes_are_refused_without_panicking() {
        for text in [
            "file:%",
            "file:%4",
            "file:%zz.db",
            "file:%\u{e9}.db",
            "file:%ff.db",
            "app.db?%=1",
        ] {
            assert!(refused(text).contains("`%25`"), "{text}");
        }
    }

    #[test]
    fn refuses_other_schemes_without_repeating_the_url() {
        let message = refused("postgres://user:secret@db/app");
        assert!(message.contains("`postgres`"), "{message}");
        assert!(!message.contains("secret"), "{message}");
    }

    #[test]
    fn refuses_empty_paths() {
        assert!(refused("sqlite://").contains("names no file"));
        assert!(refused("file:").contains("names no file"));
        assert!(refused("sqlite://?_fk=1").contains("names no file"));
    }

    #[test]
    fn plain_names_are_never_taken_for_uris() {
        assert_eq!(plain(Path::new("file:x.db")), "./file:x.db");
        assert_eq!(plain(Path::new("/var/app.db")), "/var/app.db");
        let uri = uri(Path::new("/var/my app?.db"), "immutable=1").unwrap();
        assert_eq!(uri, "file:/var/my%20app%3F.db?immutable=1");
    }
}

#[cfg(test)]
mod postgres_url_tests {
    use super::without_password;

    #[test]
    fn a_postgres_url_is_shown_without_its_password() {
        assert_eq!(
            without_password("postgresql://app:s3cret@db.internal:5433/shop?sslmode=disable"),
            "postgres://app@db.internal:5433/shop"
        );
    }
}
