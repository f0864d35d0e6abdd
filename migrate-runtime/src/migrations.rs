//! The migration table: embedded at compile time, or read from a directory at run time.

use std::borrow::Cow;
use std::fmt;
use std::path::Path;

use migrate_core::{AppFunction, Database, ForeignKeys, Migration, Problems};

/// An ordered, checked set of migrations: versions 1, 2, …, N, or timestamps.
///
/// Built by [`embed_migrations!`](crate::embed_migrations) at compile time (no parsing and no
/// allocation at run time), or by [`Migrations::from_dir`] at run time with the same rules.
///
/// It also carries what the set declares about the service that runs it (see
/// [`foreign_keys`](Migrations::foreign_keys) and [`functions`](Migrations::functions)),
/// which compile-time verification honours.
#[derive(Clone, PartialEq, Eq)]
pub struct Migrations {
    table: Cow<'static, [Migration]>,
    foreign_keys: ForeignKeys,
    functions: Cow<'static, [AppFunction]>,
    database: Database,
}

impl Migrations {
    /// Wraps an embedded table; used by the code `embed_migrations!` generates.
    #[doc(hidden)]
    pub const fn __from_static(table: &'static [Migration]) -> Migrations {
        Migrations::__from_static_declared(table, ForeignKeys::Enforced, &[], Database::Sqlite)
    }

    /// Wraps an embedded table with its declaration; used by the code `embed_migrations!`
    /// generates.
    #[doc(hidden)]
    pub const fn __from_static_declared(
        table: &'static [Migration],
        foreign_keys: ForeignKeys,
        functions: &'static [AppFunction],
        database: Database,
    ) -> Migrations {
        Migrations {
            table: Cow::Borrowed(table),
            foreign_keys,
            functions: Cow::Borrowed(functions),
            database,
        }
    }

    /// Reads and checks a migrations directory at run time, with exactly the rules
    /// `embed_migrations!` applies at compile time.
    ///
    /// The set declares foreign keys enforced and no application function; say otherwise with
    /// [`with_foreign_keys`](Migrations::with_foreign_keys) and
    /// [`with_functions`](Migrations::with_functions).
    ///
    /// # Errors
    /// Every problem found in the directory, at once.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Migrations, Problems> {
        Migrations::from_dir_for(dir, Database::Sqlite)
    }

    /// Reads and checks a migrations directory written for `database` at run time, with
    /// exactly the rules `embed_migrations!("…", database = "…")` applies at compile time.
    ///
    /// # Errors
    /// Every problem found in the directory, at once.
    ///
    /// # Example
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("migrate-from-dir-for-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// use migrate_runtime::{Database, Migrations};
    /// std::fs::write(dir.join("000001_touch.up.sql"), "DO $$ BEGIN PERFORM 1; END $$;")?;
    /// std::fs::write(dir.join("000001_touch.down.sql"), "DO $$ BEGIN PERFORM 2; END $$;")?;
    /// let set = Migrations::from_dir_for(&dir, Database::Postgres)?;
    /// assert_eq!(set.database(), Database::Postgres);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_dir_for(dir: impl AsRef<Path>, database: Database) -> Result<Migrations, Problems> {
        migrate_core::load_dir_for(dir.as_ref(), database).map(|table| Migrations {
            table: Cow::Owned(table),
            foreign_keys: ForeignKeys::Enforced,
            functions: Cow::Borrowed(&[]),
            database,
        })
    }

    /// The database the set is written for, as it declares it
    /// (`embed_migrations!("…", database = "postgres")`, or
    /// [`from_dir_for`](Migrations::from_dir_for)); SQLite unless declared.
    ///
    /// The SQLite operations ([`Migrations::up`] and the others) refuse a set written for
    /// another database with [`Error::WrongDatabase`](crate::Error::WrongDatabase), before
    /// touching the connection.
    ///
    /// # Example
    /// ```
    /// use migrate_runtime::{embed_migrations, Database, Migrations};
    /// static PLAIN: Migrations = embed_migrations!("migrations");
    /// assert_eq!(PLAIN.database(), Database::Sqlite);
    /// ```
    pub fn database(&self) -> Database {
        self.database
    }

    /// Declares whether the service enforces foreign keys, as
    /// `embed_migrations!("…", foreign_keys = "unenforced")` does.
    ///
    /// # Example
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("migrate-with-fk-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// use migrate_runtime::{ForeignKeys, Migrations};
    /// let set = Migrations::from_dir(&dir)?.with_foreign_keys(ForeignKeys::Unenforced);
    /// assert_eq!(set.foreign_keys(), ForeignKeys::Unenforced);
    /// # Ok::<(), migrate_runtime::Problems>(())
    /// ```
    pub fn with_foreign_keys(mut self, foreign_keys: ForeignKeys) -> Migrations {
        self.foreign_keys = foreign_keys;
        self
    }

    /// Declares the SQL functions the application registers on its connections, as
    /// `embed_migrations!("…", functions = ["normalize/2"])` does.
    pub fn with_functions(
        mut self,
        functions: impl IntoIterator<Item = AppFunction>,
    ) -> Migrations {
        self.functions = Cow::Owned(functions.into_iter().collect());
        self
    }

    /// Whether the service that runs the set enforces foreign keys, as the set declares it
    /// (`embed_migrations!("…", foreign_keys = "unenforced")`); enforced unless declared.
    ///
    /// # Example
    /// ```
    /// use migrate_runtime::{embed_migrations, ForeignKeys, Migrations};
    ///
    /// static DECLARED: Migrations = embed_migrations!(
    ///     "migrations",
    ///     foreign_keys = "unenforced",
    ///     functions = ["normalize/2", "slugify/*"],
    /// );
    /// assert_eq!(DECLARED.foreign_keys(), ForeignKeys::Unenforced);
    /// let functions: Vec<String> = DECLARED.functions().iter().map(|f| f.to_string()).collect();
    /// assert_eq!(functions, ["normalize/2", "slugify/*"]);
    ///
    /// static PLAIN: Migrations = embed_migrations!("migrations");
    /// assert_eq!(PLAIN.foreign_keys(), ForeignKeys::Enforced);
    /// assert!(PLAIN.functions().is_empty());
    /// ```
    pub fn foreign_keys(&self) -> ForeignKeys {
        self.foreign_keys
    }

    /// The SQL functions the application registers on its connections, as the set declares
    /// them (`embed_migrations!("…", functions = ["normalize/2"])`).
    pub fn functions(&self) -> &[AppFunction] {
        &self.functions
    }

    /// What the set declares, as compile-time verification reads it: pass it to
    /// [`verify_declared`](crate::verify_declared) to verify a set read with
    /// [`from_dir`](Migrations::from_dir) as the macro would.
    pub fn declaration(&self) -> crate::Declaration {
        let mut declaration = crate::Declaration::new().with_foreign_keys(self.foreign_keys);
        for function in self.functions.iter() {
            declaration = declaration.with_function(function.clone());
        }
        declaration
    }

    /// The number of migrations.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether there are no migrations at all.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// The highest version, or `None` for an empty set.
    pub fn latest(&self) -> Option<u64> {
        self.table.last().map(Migration::version)
    }

    /// The migrations in version order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            inner: self.table.iter(),
        }
    }

    /// The migration with this version (a binary search: timestamped versions have holes).
    pub fn get(&self, version: u64) -> Option<&Migration> {
        let index = self
            .table
            .binary_search_by_key(&version, Migration::version)
            .ok()?;
        self.table.get(index)
    }

    /// The migrations as a slice, in version order.
    pub fn as_slice(&self) -> &[Migration] {
        &self.table
    }
}

impl fmt::Debug for Migrations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.table.iter().map(|m| (m.version(), m.name())))
            .finish()
    }
}

impl<'a> IntoIterator for &'a Migrations {
    type Item = &'a Migration;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// An iterator over [`Migrations`] in version order.
#[derive(Clone, Debug)]
pub struct Iter<'a> {
    inner: std::slice::Iter<'a, Migration>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a Migration;

    fn next(&mut self) -> Option<&'a Migration> {
        self.inner.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back()
    }
}

impl ExactSizeIterator for Iter<'_> {}
