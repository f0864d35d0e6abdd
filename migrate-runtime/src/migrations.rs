//! The migration table: embedded at compile time, or read from a directory at run time.

use std::borrow::Cow;
use std::fmt;
use std::path::Path;

use migrate_core::{Migration, Problems};

/// An ordered, checked set of migrations: versions 1, 2, …, N, or timestamps.
///
/// Built by [`embed_migrations!`](crate::embed_migrations) at compile time (no parsing and no
/// allocation at run time), or by [`Migrations::from_dir`] at run time with the same rules.
#[derive(Clone, PartialEq, Eq)]
pub struct Migrations {
    table: Cow<'static, [Migration]>,
}

impl Migrations {
    /// Wraps an embedded table; used by the code `embed_migrations!` generates.
    #[doc(hidden)]
    pub const fn __from_static(table: &'static [Migration]) -> Migrations {
        Migrations {
            table: Cow::Borrowed(table),
        }
    }

    /// Reads and checks a migrations directory at run time, with exactly the rules
    /// `embed_migrations!` applies at compile time.
    ///
    /// # Errors
    /// Every problem found in the directory, at once.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Migrations, Problems> {
        migrate_core::load_dir(dir.as_ref()).map(|table| Migrations {
            table: Cow::Owned(table),
        })
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
