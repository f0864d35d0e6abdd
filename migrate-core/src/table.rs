//! The types of the migration table: what the macro embeds as constants, and what reading a
//! directory at run time produces. Both are the same type, so they can be compared.

use std::borrow::Cow;

use crate::checksum::Checksum;
use crate::name::Direction;

/// One migration: a version, a name, and its up and down scripts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Migration {
    pub(crate) version: u64,
    pub(crate) name: Cow<'static, str>,
    pub(crate) up: Script,
    pub(crate) down: Script,
    pub(crate) irreversible: Option<Cow<'static, str>>,
    pub(crate) lossy_down: Option<Cow<'static, str>>,
    pub(crate) lineage: Checksum,
}

/// One SQL file of a migration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    pub(crate) file_name: Cow<'static, str>,
    pub(crate) sql: Cow<'static, str>,
    pub(crate) checksum: Checksum,
    pub(crate) no_transaction: bool,
    pub(crate) disables_foreign_keys: bool,
}

impl Migration {
    /// Builds a migration from parts a checked set produced earlier (the macro's record of a
    /// set it checked in an earlier build); not part of the API. The parts are trusted: the
    /// caller must have them from [`crate::check::check_for`] on the same files.
    #[doc(hidden)]
    pub fn __from_checked_parts(
        version: u64,
        name: String,
        up: Script,
        down: Script,
        irreversible: Option<String>,
        lossy_down: Option<String>,
        lineage: Checksum,
    ) -> Migration {
        Migration {
            version,
            name: Cow::Owned(name),
            up,
            down,
            irreversible: irreversible.map(Cow::Owned),
            lossy_down: lossy_down.map(Cow::Owned),
            lineage,
        }
    }

    /// The version, from 1.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The descriptive name: `initial_schema` for `000001_initial_schema.up.sql`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The up script.
    pub fn up(&self) -> &Script {
        &self.up
    }

    /// The down script (empty for an irreversible migration).
    pub fn down(&self) -> &Script {
        &self.down
    }

    /// The script of one direction.
    pub fn script(&self, direction: Direction) -> &Script {
        match direction {
            Direction::Up => &self.up,
            Direction::Down => &self.down,
        }
    }

    /// The reason given by `-- migrate:irreversible <reason>`, if the migration cannot be
    /// rolled back.
    pub fn irreversible(&self) -> Option<&str> {
        self.irreversible.as_deref()
    }

    /// The reason given by `-- migrate:lossy-down <reason>`, if the down deliberately loses
    /// data.
    pub fn lossy_down(&self) -> Option<&str> {
        self.lossy_down.as_deref()
    }

    /// The checksum of this migration's up script and every up script before it (see
    /// [`Checksum::lineage`]): what the runtime compares at start-up to detect, in one read,
    /// that an applied migration was edited.
    pub fn lineage(&self) -> Checksum {
        self.lineage
    }
}

impl Script {
    /// Builds a script from parts a checked set produced earlier; not part of the API (see
    /// [`Migration::__from_checked_parts`]). `sql` is the file's text without a byte-order
    /// mark.
    #[doc(hidden)]
    pub fn __from_checked_parts(
        file_name: String,
        sql: String,
        checksum: Checksum,
        no_transaction: bool,
        disables_foreign_keys: bool,
    ) -> Script {
        Script {
            file_name: Cow::Owned(file_name),
            sql: Cow::Owned(sql),
            checksum,
            no_transaction,
            disables_foreign_keys,
        }
    }

    /// The file name, relative to the migrations directory: `000001_initial_schema.up.sql`.
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// The SQL text, without a byte-order mark (line endings as in the file).
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The checksum of the normalised text (see [`Checksum::of`]).
    pub fn checksum(&self) -> Checksum {
        self.checksum
    }

    /// Whether the file carries `-- migrate:no-transaction`.
    pub fn no_transaction(&self) -> bool {
        self.no_transaction
    }

    /// Whether the file contains `PRAGMA foreign_keys = OFF` outside strings and comments.
    pub fn disables_foreign_keys(&self) -> bool {
        self.disables_foreign_keys
    }
}

/// [`__row`]'s `flags`: the up script carries `-- migrate:no-transaction`.
#[doc(hidden)]
pub const UP_NO_TRANSACTION: u8 = 1;
/// [`__row`]'s `flags`: the up script contains `PRAGMA foreign_keys = OFF`.
#[doc(hidden)]
pub const UP_DISABLES_FOREIGN_KEYS: u8 = 2;
/// [`__row`]'s `flags`: the down script carries `-- migrate:no-transaction`.
#[doc(hidden)]
pub const DOWN_NO_TRANSACTION: u8 = 4;
/// [`__row`]'s `flags`: the down script contains `PRAGMA foreign_keys = OFF`.
#[doc(hidden)]
pub const DOWN_DISABLES_FOREIGN_KEYS: u8 = 8;

/// One migration of an embedded table; used by the code `embed_migrations!` generates, not
/// part of the API.
///
/// The parameters are flat and the booleans one bit field (`flags`, the constants above) so
/// that each of a thousand generated rows is one short call: rustc parses, hashes and, when a
/// file changed, const-evaluates every token of the table at each rebuild of the crate. A leading
/// byte-order mark is removed here, at compile time.
#[doc(hidden)]
#[allow(clippy::too_many_arguments)]
pub const fn __row(
    version: u64,
    name: &'static str,
    up_file: &'static str,
    up_sql: &'static str,
    up_checksum: &[u8; 32],
    down_file: &'static str,
    down_sql: &'static str,
    down_checksum: &[u8; 32],
    flags: u8,
    irreversible: Option<&'static str>,
    lossy_down: Option<&'static str>,
    lineage: &[u8; 32],
) -> Migration {
    Migration {
        version,
        name: Cow::Borrowed(name),
        up: Script {
            file_name: Cow::Borrowed(up_file),
            sql: Cow::Borrowed(strip_bom(up_sql)),
            checksum: Checksum(*up_checksum),
            no_transaction: flags & UP_NO_TRANSACTION != 0,
            disables_foreign_keys: flags & UP_DISABLES_FOREIGN_KEYS != 0,
        },
        down: Script {
            file_name: Cow::Borrowed(down_file),
            sql: Cow::Borrowed(strip_bom(down_sql)),
            checksum: Checksum(*down_checksum),
            no_transaction: flags & DOWN_NO_TRANSACTION != 0,
            disables_foreign_keys: flags & DOWN_DISABLES_FOREIGN_KEYS != 0,
        },
        irreversible: match irreversible {
            Some(reason) => Some(Cow::Borrowed(reason)),
            None => None,
        },
        lossy_down: match lossy_down {
            Some(reason) => Some(Cow::Borrowed(reason)),
            None => None,
        },
        lineage: Checksum(*lineage),
    }
}

/// Removes a leading UTF-8 byte-order mark. A `const fn`, so embedded tables pay nothing at
/// run time.
pub const fn strip_bom(text: &str) -> &str {
    let bytes = text.as_bytes();
    if bytes.len() >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF {
        text.split_at(3).1
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMBEDDED: &[Migration] = &[__row(
        1,
        "one",
        "000001_one.up.sql",
        "\u{feff}SELECT 1;",
        &[1; 32],
        "000001_one.down.sql",
        "\u{feff}SELECT 2;",
        &[2; 32],
        UP_DISABLES_FOREIGN_KEYS | DOWN_NO_TRANSACTION,
        Some("gone"),
        None,
        &[3; 32],
    )];

    #[test]
    fn embedded_table_is_const_and_strips_bom() {
        let m = &EMBEDDED[0];
        assert_eq!(m.version(), 1);
        assert_eq!(m.name(), "one");
        assert_eq!(m.up().sql(), "SELECT 1;");
        assert_eq!(m.down().sql(), "SELECT 2;");
        assert_eq!(m.up().checksum(), Checksum([1; 32]));
        assert_eq!(m.down().checksum(), Checksum([2; 32]));
        assert_eq!(m.lineage(), Checksum([3; 32]));
        assert!(m.up().disables_foreign_keys() && !m.up().no_transaction());
        assert!(m.down().no_transaction() && !m.down().disables_foreign_keys());
        assert_eq!(m.lossy_down(), None);
        assert_eq!(m.irreversible(), Some("gone"));
        assert_eq!(m.script(Direction::Down).file_name(), "000001_one.down.sql");
    }
}
