//! Which database a migration set is written for.

use std::fmt;

/// The database a migration set is written for, declared once for the set
/// (`embed_migrations!("migrations", database = "postgres")`); SQLite unless declared.
///
/// It decides which lexical rules the SQL scanner follows ([`crate::sql`]), which rules
/// [`check_for`](crate::check::check_for) applies ([`Rule::applies_to`](crate::check::Rule::applies_to)),
/// and which runtime may apply the set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Database {
    /// SQLite: the default.
    #[default]
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Database {
    /// Every database, in declaration order.
    pub const ALL: [Database; 2] = [Database::Sqlite, Database::Postgres];

    /// The value that declares it: `"sqlite"` or `"postgres"`, as in
    /// `embed_migrations!("migrations", database = "postgres")`.
    pub const fn key(self) -> &'static str {
        match self {
            Database::Sqlite => "sqlite",
            Database::Postgres => "postgres",
        }
    }

    /// The database declared by `key` (see [`Database::key`]), if it is one.
    ///
    /// # Example
    /// ```
    /// use migrate_core::Database;
    /// assert_eq!(Database::from_key("postgres"), Some(Database::Postgres));
    /// assert_eq!(Database::from_key("mysql"), None);
    /// ```
    pub fn from_key(key: &str) -> Option<Database> {
        Database::ALL.into_iter().find(|d| d.key() == key)
    }
}

/// The product's name, for messages: `SQLite`, `PostgreSQL`.
impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Database::Sqlite => "SQLite",
            Database::Postgres => "PostgreSQL",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_name_the_product() {
        for database in Database::ALL {
            assert_eq!(Database::from_key(database.key()), Some(database));
        }
        assert_eq!(Database::default(), Database::Sqlite);
        assert_eq!(Database::Postgres.to_string(), "PostgreSQL");
        assert_eq!(Database::from_key("Postgres"), None);
    }
}
