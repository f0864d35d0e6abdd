//! The file-name grammar: `{version}_{name}.up.sql` and `{version}_{name}.down.sql`.
//!
//! A hand-written parser rather than a regex, so that every way a name can be wrong gets
//! its own message and its own test.

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
    /// `000003_.up.sql`.
    EmptyName,
    /// A character other than ASCII letters, digits, `_` and `-` in the name.
    BadNameChar(char),
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
            NameError::VersionZero => f.write_str(
                "version 0 means \"nothing applied\" and cannot name a migration: start at 000001",
            ),
            NameError::VersionTooLarge => {
                f.write_str("the version does not fit in 64 bits: use sequential numbers from 000001")
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

/// Checks the descriptive part of a name: non-empty, ASCII letters, digits, `_` and `-`.
///
/// The CLI uses this to refuse a name before creating files.
///
/// # Errors
/// [`NameError::EmptyName`] or [`NameError::BadNameChar`].
pub fn check_name(name: &str) -> Result<(), NameError> {
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
    fn rejects_empty_name() {
        assert_eq!(err("000003_.up.sql"), NameError::EmptyName);
    }

    #[test]
    fn rejects_bad_name_characters() {
        assert_eq!(err("000003_add tags.up.sql"), NameError::BadNameChar(' '));
        assert_eq!(err("000003_a.b.up.sql"), NameError::BadNameChar('.'));
        assert_eq!(err("000003_é.up.sql"), NameError::BadNameChar('é'));
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
