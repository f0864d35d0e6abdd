//! `migrate-sqlite check`: every rule of `migrate_core`, the same code and messages as the macro.

use std::path::{Path, PathBuf};

use migrate_core::name::format_version;
use migrate_core::{AppFunction, Database};
use migrate_runtime::Declaration;
use serde::Serialize;

use crate::cli::ForeignKeysArg;
use crate::database::{with_causes, without_password};
use crate::failure::Failure;
use crate::output::{Color, Document, Style};

/// A directory that passes every rule.
#[derive(Debug, Serialize)]
pub(crate) struct Checked {
    /// The directory.
    dir: PathBuf,
    /// The database whose rules it was checked by: `sqlite` or `postgres`.
    database: &'static str,
    /// Its migrations, in version order.
    migrations: Vec<Summary>,
    /// Whether the migrations were also verified (on a fresh in-memory database, or on
    /// `verified_on`).
    verified: bool,
    /// The PostgreSQL server verification ran on (its URL without the password), if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    verified_on: Option<String>,
    /// What PostgreSQL verification ran differently from a real run (`CONCURRENTLY` left out)
    /// and where it could not compare rows, one line each, naming the file.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
}

/// What `check` verifies on, if anything.
#[derive(Clone, Copy)]
pub(crate) enum Verification<'a> {
    /// Only the rules.
    None,
    /// A fresh in-memory SQLite, honouring the declaration (`--verify`).
    Sqlite(&'a Declaration),
    /// A PostgreSQL server (`--verify --database postgres://…`), in a transaction rolled back.
    Postgres(&'a str),
}

/// One migration of a checked directory.
#[derive(Debug, Serialize)]
struct Summary {
    version: u64,
    name: String,
    /// The reason of `-- migrate:irreversible`, if the migration cannot be rolled back.
    irreversible: Option<String>,
    /// Whether either script runs outside a transaction.
    no_transaction: bool,
}

impl Checked {
    /// What verification proved, for the `ok` line: irreversible migrations have no down to
    /// prove anything of.
    fn verified_text(&self) -> String {
        if !self.verified {
            return String::new();
        }
        let on = self
            .verified_on
            .as_ref()
            .map(|url| {
                format!(
                    ", on the PostgreSQL server `{url}` (in a transaction rolled back: the \
                     database was not changed)"
                )
            })
            .unwrap_or_default();
        let proved = match self
            .migrations
            .iter()
            .filter(|m| m.irreversible.is_some())
            .count()
        {
            0 => "; each runs, and each down undoes its up".to_owned(),
            n if n == self.migrations.len() => {
                "; each runs (all are irreversible, so no down was run)".to_owned()
            }
            n => format!(
                "; each runs, and each down undoes its up ({n} irreversible, without a down)"
            ),
        };
        format!("{proved}{on}")
    }
}

impl Document for Checked {
    fn human(&self, style: Style) -> String {
        let dir = self.dir.display();
        let notes: String = self
            .notes
            .iter()
            .map(|note| format!("{}: {note}\n", style.paint(Color::Yellow, "note")))
            .collect();
        // SQLite is the default: only another database is named.
        let database = match Database::from_key(self.database) {
            Some(Database::Sqlite) | None => String::new(),
            Some(other) => format!(" by {other}'s rules"),
        };
        match (self.migrations.first(), self.migrations.last()) {
            (Some(first), Some(last)) => format!(
                "{}: {} migration{} ({} to {}) in `{dir}`, no problems{database}{}\n{notes}",
                style.paint(Color::Green, "ok"),
                self.migrations.len(),
                if self.migrations.len() == 1 { "" } else { "s" },
                format_version(first.version),
                format_version(last.version),
                self.verified_text(),
            ),
            _ => format!(
                "{}: no migrations in `{dir}` yet; create one with `migrate-sqlite new <name>`\n",
                style.paint(Color::Green, "ok")
            ),
        }
    }
}

/// What `--foreign-keys` and `--function` declare, as the macro's arguments would.
pub(crate) fn declaration(foreign_keys: ForeignKeysArg, functions: &[AppFunction]) -> Declaration {
    let mut declaration = Declaration::new().with_foreign_keys(foreign_keys.into());
    for function in functions {
        declaration = declaration.with_function(function.clone());
    }
    declaration
}

/// Whether `--database` names a PostgreSQL server (`postgres://` or `postgresql://`): `check`
/// then applies PostgreSQL's rules, and `--verify` verifies on it.
pub(crate) fn is_postgres(database: &str) -> bool {
    crate::database::is_postgres(database)
}

/// `check --postgres --verify` without a server: PostgreSQL verification runs on one.
pub(crate) fn postgres_verification_needs_a_server() -> Failure {
    Failure::usage(
        "postgres_verification_needs_a_server",
        "--verify on a PostgreSQL set runs every migration on a PostgreSQL server, inside a \
         transaction rolled back: name one with --database postgres://… (or DATABASE_URL), or \
         leave out --verify to check the files only"
            .to_owned(),
    )
}

/// `--foreign-keys` and `--function` tell SQLite's in-memory verification what the service
/// does; a PostgreSQL server has its own functions and always enforces foreign keys.
///
/// # Errors
/// A usage failure naming the option to remove.
pub(crate) fn refuse_sqlite_declarations(
    foreign_keys: ForeignKeysArg,
    functions: &[AppFunction],
) -> Result<(), Failure> {
    let mut given = Vec::new();
    if Declaration::new().with_foreign_keys(foreign_keys.into()) != Declaration::new() {
        given.push("--foreign-keys");
    }
    if !functions.is_empty() {
        given.push("--function");
    }
    if given.is_empty() {
        return Ok(());
    }
    Err(Failure::usage(
        "sqlite_declaration_on_postgres",
        format!(
            "{} declare{} what verification on an in-memory SQLite must know; PostgreSQL \
             verification runs on the server, with its own functions and foreign keys: remove {}",
            given.join(" and "),
            if given.len() == 1 { "s" } else { "" },
            if given.len() == 1 { "it" } else { "them" }
        ),
    ))
}

/// Reads and checks `dir` as a set written for `database` with [`migrate_core::load_dir_for`],
/// as the macro does; then verifies it as `verification` says:
/// [`migrate_runtime::verify_declared`] (the macro's `verify` feature) for a SQLite set, or on
/// a PostgreSQL server for a PostgreSQL set.
///
/// # Errors
/// Every problem at once, or the verification findings, as a directory failure; a server
/// that cannot be reached, as a failed operation.
pub(crate) fn check(
    dir: &Path,
    database: Database,
    verification: Verification<'_>,
) -> Result<Checked, Failure> {
    let verified = !matches!(verification, Verification::None);
    let migrations = migrate_core::load_dir_for(dir, database)
        .map_err(|problems| Failure::directory(dir, problems.0))?;
    let mut verified_on = None;
    let mut notes = Vec::new();
    match verification {
        Verification::None => {}
        Verification::Sqlite(declaration) => {
            migrate_runtime::verify_declared(&migrations, declaration)
                .map_err(|findings| Failure::verification(dir, findings))?;
        }
        Verification::Postgres(url) => {
            let shown = without_password(url);
            let mut client = postgres::Client::connect(url, postgres::NoTls).map_err(|error| {
                Failure::failed(
                    "postgres_connect",
                    format!(
                        "cannot connect to the PostgreSQL server `{shown}` to verify the \
                         migrations: {}; check the URL given to --database, and that the \
                         server accepts connections without TLS",
                        with_causes(&error)
                    ),
                )
            })?;
            let passed = migrate_runtime::verify_postgres_blocking(&migrations, &mut client)
                .map_err(|findings| Failure::verification_postgres(dir, &shown, findings))?;
            notes = passed.notes;
            notes.extend(passed.unfilled);
            verified_on = Some(shown);
        }
    }
    Ok(Checked {
        dir: dir.to_path_buf(),
        database: database.key(),
        verified,
        verified_on,
        notes,
        migrations: migrations
            .iter()
            .map(|m| Summary {
                version: m.version(),
                name: m.name().to_owned(),
                irreversible: m.irreversible().map(str::to_owned),
                no_transaction: m.up().no_transaction() || m.down().no_transaction(),
            })
            .collect(),
    })
}
