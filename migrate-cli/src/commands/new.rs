//! `migrate new <name>`: the next-numbered pair of files, never overwriting anything.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use migrate_core::name::{self, FileName, format_version};
use migrate_core::{Direction, source};
use serde::Serialize;

use crate::failure::Failure;
use crate::output::{Color, Document, Style};

/// The pair `new` created.
#[derive(Debug, Serialize)]
pub(crate) struct Created {
    /// The new migration's version.
    version: u64,
    /// Its name.
    name: String,
    /// The up file's path.
    up: PathBuf,
    /// The down file's path.
    down: PathBuf,
}

impl Document for Created {
    fn human(&self, style: Style) -> String {
        format!(
            "{created} {}\n{created} {}\n\
             both files hold only comments: write the change in the up file and what undoes it in \
             the down file; until then `migrate check` reports them as holding no SQL\n",
            self.up.display(),
            self.down.display(),
            created = style.paint(Color::Green, "created"),
        )
    }
}

/// Creates `{next}_{name}.up.sql` and `.down.sql` in `dir` (created if missing), where `next`
/// follows the highest version among the files whose names parse.
///
/// # Errors
/// A name the grammar refuses or another migration already has (usage), an unreadable
/// directory, or a file that cannot be created; an existing file is never overwritten.
pub(crate) fn new(dir: &Path, migration_name: &str) -> Result<Created, Failure> {
    name::check_new_name(migration_name).map_err(|error| {
        Failure::usage(
            "invalid_name",
            format!("`{migration_name}` cannot name a migration: {error}"),
        )
    })?;
    let version = next_version(dir, migration_name)?;
    let up = dir.join(FileName::canonical(version, migration_name, Direction::Up));
    let down = dir.join(FileName::canonical(
        version,
        migration_name,
        Direction::Down,
    ));
    create(&up, &up_template(version, migration_name))?;
    if let Err(failure) = create(&down, &down_template(version, migration_name)) {
        // Leave the directory as it was: an up without its down breaks every build.
        let _ = fs::remove_file(&up);
        return Err(failure);
    }
    Ok(Created {
        version,
        name: migration_name.to_owned(),
        up,
        down,
    })
}

/// The version after the highest one in `dir` (1 for an empty or missing directory, which is
/// created), refusing a name another migration already uses.
fn next_version(dir: &Path, migration_name: &str) -> Result<u64, Failure> {
    if !dir.exists() {
        fs::create_dir_all(dir).map_err(|error| {
            Failure::failed(
                "create_directory",
                format!(
                    "cannot create the migrations directory `{}`: {error}",
                    dir.display()
                ),
            )
        })?;
    }
    // The same listing as `check` and the macro; misnamed files are `check`'s business.
    let files = source::read_dir(dir).map_err(|problem| Failure::directory(dir, vec![problem]))?;
    let mut highest = 0;
    for file in &files {
        let Ok(parsed) = name::parse(&file.file_name) else {
            continue;
        };
        if parsed.name == migration_name {
            return Err(Failure::usage(
                "name_taken",
                format!(
                    "the name `{migration_name}` is already used by migration {}: choose another name",
                    format_version(parsed.version)
                ),
            ));
        }
        highest = highest.max(parsed.version);
    }
    highest.checked_add(1).ok_or_else(|| {
        Failure::failed(
            "no_next_version",
            format!(
                "version {} is the largest possible, so no version can follow it: renumber the \
                 migrations from 000001",
                format_version(highest)
            ),
        )
    })
}

/// Writes a new file; an existing one is an error, never overwritten.
fn create(path: &Path, contents: &str) -> Result<(), Failure> {
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .and_then(|mut file| file.write_all(contents.as_bytes()));
    written.map_err(|error| {
        if error.kind() == io::ErrorKind::AlreadyExists {
            Failure::failed(
                "file_exists",
                format!(
                    "`{}` already exists: nothing was overwritten; remove or rename it, then run \
                     `migrate new` again",
                    path.display()
                ),
            )
        } else {
            Failure::failed(
                "write_file",
                format!("cannot create `{}`: {error}", path.display()),
            )
        }
    })
}

/// The up file: a header naming the migration and saying what to write.
fn up_template(version: u64, name: &str) -> String {
    format!(
        "-- Migration {}: {name}\n\
         -- Write the statements that make this change below. They run in one transaction\n\
         -- with the version update, so a failure leaves the database as it was.\n",
        format_version(version)
    )
}

/// The down file: what to write, and how to mark a migration that cannot be undone.
fn down_template(version: u64, name: &str) -> String {
    format!(
        "-- Migration {} down: {name}\n\
         -- Write the statements that undo {} below, in reverse order.\n\
         -- If the change cannot be undone, replace all of this file with the line\n\
         --     -- migrate:irreversible <reason>\n",
        format_version(version),
        FileName::canonical(version, name, Direction::Up)
    )
}

#[cfg(test)]
mod tests {
    use migrate_core::directive;

    use super::*;

    #[test]
    fn templates_hold_no_directive_and_no_sql() {
        for text in [up_template(7, "add_tags"), down_template(7, "add_tags")] {
            let (directives, errors) = directive::parse(&text);
            assert!(errors.is_empty(), "{errors:?}");
            assert!(directives.found.is_empty(), "{text}");
            assert!(!migrate_core::sql::has_code(&text), "{text}");
        }
    }
}
