//! `migrate-sqlite check`: every rule of `migrate_core`, the same code and messages as the macro.

use std::path::{Path, PathBuf};

use migrate_core::check::Rule;
use migrate_core::name::format_version;
use migrate_core::{AppFunction, Database};
use migrate_runtime::Declaration;
use serde::Serialize;

use crate::cli::ForeignKeysArg;
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
    /// Whether the migrations were also verified on a fresh in-memory database.
    verified: bool,
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
        match self
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
        }
    }
}

impl Document for Checked {
    fn human(&self, style: Style) -> String {
        let dir = self.dir.display();
        // SQLite is the default: only another database is named.
        let database = match Database::from_key(self.database) {
            Some(Database::Sqlite) | None => String::new(),
            Some(other) => format!(" by {other}'s rules"),
        };
        match (self.migrations.first(), self.migrations.last()) {
            (Some(first), Some(last)) => format!(
                "{}: {} migration{} ({} to {}) in `{dir}`, no problems{database}{}\n",
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

/// Reads and checks `dir` as a set written for `database` with [`migrate_core::load_dir_for`],
/// as the macro does, and with a declaration (`--verify`) runs
/// [`migrate_runtime::verify_declared`], as the macro's `verify` feature does.
///
/// # Errors
/// Every problem at once, or the verification findings, as a directory failure.
pub(crate) fn check(
    dir: &Path,
    database: Database,
    verify: Option<&Declaration>,
) -> Result<Checked, Failure> {
    let migrations = migrate_core::load_dir_for(dir, database)
        .map_err(|problems| Failure::directory(dir, problems.0))?;
    // The in-memory verification runs the set on SQLite: it proves nothing about another
    // database (`--postgres` conflicts with `--verify` on the command line).
    let verify = verify.filter(|_| Rule::Verification.applies_to(database));
    if let Some(declaration) = verify {
        migrate_runtime::verify_declared(&migrations, declaration)
            .map_err(|findings| Failure::verification(dir, findings))?;
    }
    Ok(Checked {
        dir: dir.to_path_buf(),
        database: database.key(),
        verified: verify.is_some(),
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
