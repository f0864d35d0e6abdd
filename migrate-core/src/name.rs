//! The file-name grammar: `{version}_{name}.up.sql` and `{version}_{name}.down.sql`.
//!
//! A hand-written parser rather than a regex, so that every way a name can be wrong gets
//! its own message and its own test. It accepts every `.sql` name golang-migrate's file
//! source applies (`^([0-9]+)_(.*)\.(down|up)\.(.*)$`, whose name part may hold dots, spaces
//! and any other character), except what cannot work here: a `\` (a path separator on
//! Windows), version 0 (what "nothing applied" is recorded as) and versions beyond 64 bits.
//!
//! Versions come in one of three styles ([`VersionStyle`]), and a set uses one.

use std::fmt;

/// Which way a script moves the schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// Forward: the `.up.sql` file.
    Up,
    /// Backward: the `.down.sql` file.
    Down,
}

impl Direction {
    /// The file-name suffix of this direction, `.up.sql` or `.down.sql`.
    pub const fn suffix(self) -> &'static str {
        match self {
            Direction::Up => ".up.sql",
            Direction::Down => ".down.sql",
        }
    }

    /// `"up"` or `"down"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A migration file name that follows the grammar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileName {
    /// The version number, at least 1.
    pub version: u64,
    /// The descriptive name between the version and the direction.
    pub name: String,
    /// Whether this is the up or the down script.
    pub direction: Direction,
}

impl FileName {
    /// The canonical file name for a version, name and direction, with the version padded
    /// to six digits: `000003_tags.up.sql`.
    pub fn canonical(version: u64, name: &str, direction: Direction) -> String {
        format!("{}_{name}{}", format_version(version), direction.suffix())
    }
}

/// Formats a version as the convention writes it: at least six digits, zero-padded.
pub fn format_version(version: u64) -> String {
    format!("{version:06}")
}

/// How a set numbers its migrations. Every version of a set has the same style; only a
/// sequential set must run without a hole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VersionStyle {
    /// 1, 2, 3, …, written `000001`: golang-migrate's `create -seq`.
    Sequential,
    /// A UTC time written `YYYYMMDDhhmmss` (14 digits, a valid date and time):
    /// golang-migrate's `create` default, `20240731203656`.
    Timestamp,
    /// Seconds since 1970 written in 10 digits (from 1000000000, September 2001):
    /// golang-migrate's `create -format unix`, `1722457016`.
    UnixSeconds,
}

impl VersionStyle {
    /// The style of a version: a 14-digit number that is a valid UTC time is a timestamp, a
    /// 10-digit number is Unix seconds, anything else is sequential.
    ///
    /// # Example
    /// ```
    /// use migrate_core::name::VersionStyle;
    /// assert_eq!(VersionStyle::of(3), VersionStyle::Sequential);
    /// assert_eq!(VersionStyle::of(20240731203656), VersionStyle::Timestamp);
    /// assert_eq!(VersionStyle::of(20241331203656), VersionStyle::Sequential); // month 13
    /// assert_eq!(VersionStyle::of(1722457016), VersionStyle::UnixSeconds);
    /// ```
    pub fn of(version: u64) -> VersionStyle {
        if (10_000_000_000_000..100_000_000_000_000).contains(&version) && is_utc_time(version) {
            VersionStyle::Timestamp
        } else if (1_000_000_000..10_000_000_000).contains(&version) {
            VersionStyle::UnixSeconds
        } else {
            VersionStyle::Sequential
        }
    }

    /// How messages name the style: `sequential`, `timestamp` or `Unix-seconds`.
    pub const fn as_str(self) -> &'static str {
        match self {
            VersionStyle::Sequential => "sequential",
            VersionStyle::Timestamp => "timestamp",
            VersionStyle::UnixSeconds => "Unix-seconds",
        }
    }
}

impl fmt::Display for VersionStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a 14-digit number reads as a valid `YYYYMMDDhhmmss` UTC time (no leap second:
/// golang-migrate formats Go times, which never show second 60).
fn is_utc_time(version: u64) -> bool {
    let part = |divisor: u64, modulo: u64| (version / divisor) % modulo;
    let (year, month, day) = (
        version / 10_000_000_000,
        part(100_000_000, 100),
        part(1_000_000, 100),
    );
    let (hour, minute, second) = (part(10_000, 100), part(100, 100), version % 100);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day) && hour < 24 && minute < 60 && second < 60
}

/// Why a `.sql` file name does not follow the grammar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NameError {
    /// `.SQL` or `.Sql`: the extension must be lowercase.
    UppercaseExtension,
    /// `000003_tags.sql`: neither `.up.sql` nor `.down.sql`.
    NoDirection,
    /// `000003_tags.dwn.sql`: the part before `.sql` is not `up` or `down`.
    UnknownDirection(String),
    /// `tags.up.sql`: the name does not start with digits.
    NoVersion,
    /// `000003-tags.up.sql` or `000003.up.sql`: no `_` after the version.
    NoSeparator,
    /// `000003_.up.sql`: refused only for names `migrate new` creates ([`check_new_name`]);
    /// golang-migrate applies such a file, so the grammar accepts it.
    EmptyName,
    /// A character other than ASCII letters, digits, `_` and `-` in a name `migrate new`
    /// creates ([`check_new_name`]).
    BadNameChar(char),
    /// A `\` in the name: a path separator on Windows, where the file could not be checked
    /// out under this name.
    Backslash,
    /// Version 0 is what "nothing applied" is recorded as.
    VersionZero,
    /// More digits than fit in a `u64`.
    VersionTooLarge,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::UppercaseExtension => {
                f.write_str("the extension must be lowercase: `.up.sql` or `.down.sql`")
            }
            NameError::NoDirection => f.write_str(
                "the name must end in `.up.sql` or `.down.sql`, not just `.sql`",
            ),
            NameError::UnknownDirection(found) => write!(
                f,
                "`.{found}.sql` is not a direction: use `.up.sql` or `.down.sql`"
            ),
            NameError::NoVersion => f.write_str(
                "the name must start with a version number, as in `000001_initial_schema.up.sql`",
            ),
            NameError::NoSeparator => f.write_str(
                "the version must be followed by `_` and a name, as in `000001_initial_schema.up.sql`",
            ),
            NameError::EmptyName => {
                f.write_str("the name after `_` is empty: describe the change, as in `000001_initial_schema.up.sql`")
            }
            NameError::BadNameChar(c) => write!(
                f,
                "the name contains {c:?}: use only ASCII letters, digits, `_` and `-`"
            ),
            NameError::Backslash => f.write_str(
                "the name contains `\\`, a path separator on Windows, where the file cannot be \
                 checked out: rename both files of the migration without it",
            ),
            NameError::VersionZero => f.write_str(
                "version 0 means \"nothing applied\" and cannot name a migration: start at 000001",
            ),
            NameError::VersionTooLarge => {
                f.write_str("the version does not fit in 64 bits: use sequential numbers from 000001, \
                             or `YYYYMMDDhhmmss` timestamps")
            }
        }
    }
}

/// Whether a directory entry is a candidate migration file at all.
///
/// Files that do not end in `.sql` (`README.md`, `.gitkeep`, editor backups like
/// `x.sql~`) and hidden files (`.#x.up.sql`) are ignored; a file ending in `.SQL` is a
/// candidate, so that [`parse`] can reject it instead of skipping it silently.
pub fn is_candidate(file_name: &str) -> bool {
    !file_name.starts_with('.') && file_name.to_ascii_lowercase().ends_with(".sql")
}

/// Parses a candidate migration file name (see [`is_candidate`]).
///
/// # Errors
/// Returns the first rule the name breaks.
///
/// # Example
/// ```
/// use migrate_core::name::{parse, Direction};
/// let name = parse("000002_add_tags.down.sql").unwrap();
/// assert_eq!((name.version, name.name.as_str(), name.direction), (2, "add_tags", Direction::Down));
/// ```
pub fn parse(file_name: &str) -> Result<FileName, NameError> {
    let Some(stem) = file_name.strip_suffix(".sql") else {
        return Err(NameError::UppercaseExtension);
    };
    let Some((stem, direction)) = stem.rsplit_once('.') else {
        return Err(NameError::NoDirection);
    };
    let direction = match direction {
        "up" => Direction::Up,
        "down" => Direction::Down,
        other => return Err(NameError::UnknownDirection(other.to_owned())),
    };
    let digits_end = stem
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(stem.len());
    if digits_end == 0 {
        return Err(NameError::NoVersion);
    }
    let (digits, rest) = stem.split_at(digits_end);
    let Some(name) = rest.strip_prefix('_') else {
        return Err(NameError::NoSeparator);
    };
    let version = parse_version(digits)?;
    check_name(name)?;
    Ok(FileName {
        version,
        name: name.to_owned(),
        direction,
    })
}

/// Parses a string of ASCII digits as a version (at least 1, at most `u64::MAX`).
fn parse_version(digits: &str) -> Result<u64, NameError> {
    match digits.parse::<u64>() {
        Ok(0) => Err(NameError::VersionZero),
        Ok(version) => Ok(version),
        Err(_) => Err(NameError::VersionTooLarge),
    }
}

/// Checks the descriptive part of a file name as the grammar accepts it: anything
/// golang-migrate applies (dots, spaces, any character, even nothing), except `\`.
///
/// # Errors
/// [`NameError::Backslash`].
pub fn check_name(name: &str) -> Result<(), NameError> {
    if name.contains('\\') {
        return Err(NameError::Backslash);
    }
    Ok(())
}

/// Checks a name `migrate new` is asked to create: non-empty, ASCII letters, digits, `_` and
/// `-`, the convention that reads well in every shell and on every file system. (Existing
/// files may use anything [`check_name`] accepts.)
///
/// # Errors
/// [`NameError::EmptyName`] or [`NameError::BadNameChar`].
pub fn check_new_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::EmptyName);
    }
    match name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        Some(c) => Err(NameError::BadNameChar(c)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(name: &str) -> NameError {
        parse(name).expect_err(name)
    }

    #[test]
    fn accepts_up_and_down() {
        let up = parse("000001_initial_schema.up.sql").unwrap();
        assert_eq!(up.version, 1);
        assert_eq!(up.name, "initial_schema");
        assert_eq!(up.direction, Direction::Up);
        assert_eq!(
            parse("000001_initial_schema.down.sql").unwrap().direction,
            Direction::Down
        );
    }

    #[test]
    fn accepts_any_number_of_digits_and_dashes_in_names() {
        assert_eq!(parse("7_a-b.up.sql").unwrap().version, 7);
        assert_eq!(parse("0000000000012_x.up.sql").unwrap().version, 12);
    }

    #[test]
    fn ignores_non_sql_and_hidden_files() {
        for name in [
            "README.md",
            ".gitkeep",
            "000001_x.up.sql~",
            ".#000001_x.up.sql",
            "x.sql.bak",
        ] {
            assert!(!is_candidate(name), "{name}");
        }
        assert!(is_candidate("000001_x.up.sql"));
        assert!(is_candidate("000001_x.UP.SQL"));
    }

    #[test]
    fn rejects_uppercase_extension() {
        assert_eq!(err("000001_x.up.SQL"), NameError::UppercaseExtension);
    }

    #[test]
    fn rejects_missing_direction() {
        assert_eq!(err("000003_tags.sql"), NameError::NoDirection);
    }

    #[test]
    fn rejects_unknown_direction() {
        assert_eq!(
            err("000003_tags.dwn.sql"),
            NameError::UnknownDirection("dwn".into())
        );
        assert_eq!(
            err("000003_tags.UP.sql"),
            NameError::UnknownDirection("UP".into())
        );
    }

    #[test]
    fn rejects_missing_version() {
        assert_eq!(err("tags.up.sql"), NameError::NoVersion);
        assert_eq!(err("_tags.up.sql"), NameError::NoVersion);
    }

    #[test]
    fn rejects_missing_separator() {
        assert_eq!(err("000003-tags.up.sql"), NameError::NoSeparator);
        assert_eq!(err("000003.up.sql"), NameError::NoSeparator);
    }

    #[test]
    fn accepts_every_name_golang_migrate_applies() {
        // golang-migrate: `^([0-9]+)_(.*)\.(down|up)\.(.*)$`, the name part greedy.
        for (file, name) in [
            (
                "20240731203656_passkey_backup_flags..up.sql",
                "passkey_backup_flags.",
            ),
            ("000003_add tags.up.sql", "add tags"),
            ("000003_v1.2.up.sql", "v1.2"),
            ("000003_café+ünïcode (2).up.sql", "café+ünïcode (2)"),
            ("000003_.up.sql", ""),
            ("000003_x.up.up.sql", "x.up"),
            ("000003_x.down.up.sql", "x.down"),
            ("1_2_3.up.sql", "2_3"),
        ] {
            assert_eq!(parse(file).map(|n| n.name), Ok(name.to_owned()), "{file}");
        }
    }

    #[test]
    fn rejects_a_backslash_in_the_name() {
        assert_eq!(err("000003_a\\b.up.sql"), NameError::Backslash);
        assert_eq!(
            NameError::Backslash.to_string(),
            "the name contains `\\`, a path separator on Windows, where the file cannot be \
             checked out: rename both files of the migration without it"
        );
    }

    #[test]
    fn new_names_keep_the_convention() {
        assert_eq!(check_new_name(""), Err(NameError::EmptyName));
        assert_eq!(check_new_name("add tags"), Err(NameError::BadNameChar(' ')));
        assert_eq!(check_new_name("a.b"), Err(NameError::BadNameChar('.')));
        assert_eq!(check_new_name("é"), Err(NameError::BadNameChar('é')));
        assert_eq!(check_new_name("add_tags-2"), Ok(()));
    }

    #[test]
    fn classifies_version_styles() {
        use VersionStyle::*;
        for (version, style) in [
            (1, Sequential),
            (999_999, Sequential),
            (20240731203656, Timestamp),
            (19700101000000, Timestamp),
            (20240229235959, Timestamp),
            (20230229000000, Sequential), // not a leap year
            (20240431000000, Sequential), // April has 30 days
            (20240100000000, Sequential), // day 0
            (20240101240000, Sequential), // hour 24
            (20240101006000, Sequential), // minute 60
            (20240101000060, Sequential), // second 60
            (21000229000000, Sequential), // 2100 is not a leap year
            (20000229000000, Timestamp),  // 2000 is
            (1722457016, UnixSeconds),
            (999_999_999, Sequential),
            (202407312036560, Sequential), // 15 digits
        ] {
            assert_eq!(VersionStyle::of(version), style, "{version}");
        }
    }

    #[test]
    fn rejects_version_zero() {
        assert_eq!(err("000000_x.up.sql"), NameError::VersionZero);
    }

    #[test]
    fn rejects_version_too_large() {
        assert_eq!(
            err("18446744073709551616_x.up.sql"),
            NameError::VersionTooLarge
        );
        assert_eq!(
            parse("18446744073709551615_x.up.sql").unwrap().version,
            u64::MAX
        );
    }

    #[test]
    fn canonical_pads_to_six_digits() {
        assert_eq!(
            FileName::canonical(3, "tags", Direction::Down),
            "000003_tags.down.sql"
        );
        assert_eq!(
            FileName::canonical(1234567, "x", Direction::Up),
            "1234567_x.up.sql"
        );
    }
}
