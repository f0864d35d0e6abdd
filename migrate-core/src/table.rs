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
    /// Builds a migration from embedded parts; used by the code `embed_migrations!` generates.
    #[doc(hidden)]
    pub const fn __embedded(
        version: u64,
        name: &'static str,
        up: Script,
        down: Script,
        irreversible: Option<&'static str>,
        lossy_down: Option<&'static str>,
        lineage: [u8; 32],
    ) -> Migration {
        Migration {
            version,
            name: Cow::Borrowed(name),
            up,
            down,
            irreversible: match irreversible {
                Some(reason) => Some(Cow::Borrowed(reason)),
                None => None,
            },
            lossy_down: match lossy_down {
                Some(reason) => Some(Cow::Borrowed(reason)),
                None => None,
            },
            lineage: Checksum(lineage),
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
    /// Builds a script from embedded parts; used by the code `embed_migrations!` generates.
    /// A leading byte-order mark is removed here, at compile time.
    #[doc(hidden)]
    pub const fn __embedded(
        file_name: &'static str,
        sql: &'static str,
        checksum: [u8; 32],
        no_transaction: bool,
        disables_foreign_keys: bool,
    ) -> Script {
        Script {
            file_name: Cow::Borrowed(file_name),
            sql: Cow::Borrowed(strip_bom(sql)),
            checksum: Checksum(checksum),
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

    const EMBEDDED: &[Migration] = &[Migration::__embedded(
        1,
        "one",
        Script::__embedded(
            "000001_one.up.sql",
            "\u{feff}SELECT 1;",
            [0; 32],
            false,
            false,
        ),
        Script::__embedded("000001_one.down.sql", "", [0; 32], false, false),
        Some("gone"),
        None,
        [0; 32],
    )];

    #[test]
    fn embedded_table_is_const_and_strips_bom() {
        let m = &EMBEDDED[0];
        assert_eq!(m.up().sql(), "SELECT 1;");
        assert_eq!(m.irreversible(), Some("gone"));
        assert_eq!(m.script(Direction::Down).file_name(), "000001_one.down.sql");
    }
}
