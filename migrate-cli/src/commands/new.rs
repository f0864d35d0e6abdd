//! `migrate-sqlite new <name>`: the next pair of files, numbered in the style of the directory
//! (sequential, timestamp or Unix seconds), never overwriting anything.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use std::time::{SystemTime, UNIX_EPOCH};

use migrate_core::name::{self, FileName, VersionStyle, format_version};
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
             the down file; until then `migrate-sqlite check` reports them as holding no SQL\n",
            self.up.display(),
            self.down.display(),
            created = style.paint(Color::Green, "created"),
        )
    }
}

/// Creates `{next}_{name}.up.sql` and `.down.sql` in `dir` (created if missing), where `next`
/// follows the highest version among the files whose names parse, in the style of those
/// versions (sequential for an empty directory) or the style asked for.
///
/// # Errors
/// A name the grammar refuses or another migration already has, a style other than the
/// directory's (usage), an unreadable directory, or a file that cannot be created; an existing
/// file is never overwritten.
pub(crate) fn new(
    dir: &Path,
    migration_name: &str,
    asked: Option<VersionStyle>,
) -> Result<Created, Failure> {
    name::check_new_name(migration_name).map_err(|error| {
        Failure::usage(
            "invalid_name",
            format!("`{migration_name}` cannot name a migration: {error}"),
        )
    })?;
    let version = next_version(dir, migration_name, asked, now())?;
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

/// The version after the highest one in `dir`, in the directory's style (1, or the time
/// `now`, for an empty or missing directory, which is created), refusing a name another
/// migration already uses and a style that would mix with the directory's.
fn next_version(
    dir: &Path,
    migration_name: &str,
    asked: Option<VersionStyle>,
    now: u64,
) -> Result<u64, Failure> {
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
    let mut style = None;
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
        if parsed.version > highest {
            highest = parsed.version;
            style = Some((
                VersionStyle::of(parsed.version),
                format_version(parsed.version),
            ));
        }
    }
    match (&style, asked) {
        (Some((found, newest)), Some(asked)) if *found != asked => {
            return Err(Failure::usage(
                "other_style",
                format!(
                    "`{}` numbers its migrations in {found} style (the newest is version {newest}), so a \
                     {asked} version would mix styles, which `migrate-sqlite check` refuses: leave out the \
                     style option, and `migrate-sqlite new` follows the directory",
                    dir.display()
                ),
            ));
        }
        _ => {}
    }
    match style.map(|(found, _)| found).or(asked) {
        Some(VersionStyle::Timestamp) => Ok(next_timestamp(highest, now)),
        Some(VersionStyle::UnixSeconds) => Ok(now.max(highest.saturating_add(1))),
        Some(VersionStyle::Sequential) | None => next_sequential(highest),
    }
}

/// The sequential version after `highest`.
fn next_sequential(highest: u64) -> Result<u64, Failure> {
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

/// Seconds since 1970 now, UTC.
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// The `YYYYMMDDhhmmss` version for `now` (seconds since 1970, UTC), or one second after
/// `highest` when the newest migration is not older than now (a clock set back, or several
/// migrations created within one second).
fn next_timestamp(highest: u64, now: u64) -> u64 {
    let timestamp = to_timestamp(now);
    if timestamp > highest {
        timestamp
    } else {
        to_timestamp(from_timestamp(highest) + 1)
    }
}

/// `YYYYMMDDhhmmss` of a time in seconds since 1970, UTC (the proleptic Gregorian calendar,
/// from days since 1970 as in Howard Hinnant's `civil_from_days`).
fn to_timestamp(seconds: u64) -> u64 {
    let days = seconds / 86_400;
    let second_of_day = seconds % 86_400;
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    let (hour, minute, second) = (
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60,
    );
    ((((year * 100 + month) * 100 + day) * 100 + hour) * 100 + minute) * 100 + second
}

/// Seconds since 1970 of a `YYYYMMDDhhmmss` UTC time (Hinnant's `days_from_civil`).
fn from_timestamp(timestamp: u64) -> u64 {
    let part = |divisor: u64| timestamp / divisor % 100;
    let (year, month, day) = (
        timestamp / 10_000_000_000,
        part(100_000_000),
        part(1_000_000),
    );
    let (hour, minute, second) = (part(10_000), part(100), timestamp % 100);
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year % 400;
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = (era * 146_097 + day_of_era).saturating_sub(719_468);
    days * 86_400 + hour * 3600 + minute * 60 + second
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
                     `migrate-sqlite new` again",
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
    fn timestamps_are_utc_calendar_times() {
        for (seconds, timestamp) in [
            (0, 19700101000000),
            (951_782_400, 20000229000000),
            (1_722_457_016, 20240731201656),
            (1_735_689_599, 20241231235959),
            (4_107_542_400, 21000301000000),
        ] {
            assert_eq!(to_timestamp(seconds), timestamp, "{seconds}");
            assert_eq!(from_timestamp(timestamp), seconds, "{timestamp}");
            assert_eq!(VersionStyle::of(timestamp), VersionStyle::Timestamp);
        }
    }

    #[test]
    fn the_next_timestamp_is_now_or_a_second_after_the_newest() {
        let now = 1_722_457_016;
        assert_eq!(next_timestamp(20240101000000, now), 20240731201656);
        assert_eq!(next_timestamp(20240731201656, now), 20240731201657);
        assert_eq!(next_timestamp(20241231235959, now), 20250101000000);
    }

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
