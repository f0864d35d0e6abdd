//! The rules of a migrations directory, shared by the `embed_migrations!` macro (at compile
//! time), the runtime and the `migrate` CLI (at run time), so the three can never disagree.
//!
//! A migrations directory holds pairs `{version}_{name}.up.sql` / `{version}_{name}.down.sql`
//! with versions 1, 2, 3, … (or timestamps, see [`name::VersionStyle`]). [`load_dir`] reads
//! one and checks every rule at once:
//!
//! ```
//! # let dir = tempdir();
//! std::fs::write(dir.join("000001_users.up.sql"), "CREATE TABLE users (id INTEGER);").unwrap();
//! std::fs::write(dir.join("000001_users.down.sql"), "DROP TABLE users;").unwrap();
//! let migrations = migrate_core::load_dir(&dir).unwrap();
//! assert_eq!(migrations[0].name(), "users");
//! # fn tempdir() -> std::path::PathBuf {
//! #     let d = std::env::temp_dir().join(format!("migrate-core-doc-{}", std::process::id()));
//! #     let _ = std::fs::remove_dir_all(&d);
//! #     std::fs::create_dir_all(&d).unwrap();
//! #     d
//! # }
//! ```
//!
//! This crate depends on nothing but std.

pub mod check;
pub mod checksum;
pub mod directive;
pub mod foreign_keys;
pub mod function;
pub mod name;
pub mod problem;
pub mod source;
pub mod sql;
pub mod table;

use std::path::Path;

pub use check::check;
pub use checksum::Checksum;
pub use foreign_keys::ForeignKeys;
pub use function::AppFunction;
pub use name::Direction;
pub use problem::{Problem, Problems};
pub use table::{Migration, Script};

/// Reads and checks a migrations directory: [`source::read_dir`] then [`check()`].
///
/// # Errors
/// Every problem found, at once.
pub fn load_dir(dir: &Path) -> Result<Vec<Migration>, Problems> {
    let files = source::read_dir(dir).map_err(|problem| Problems(vec![problem]))?;
    check(&files).map_err(Problems)
}

/// [`load_dir`] for a PostgreSQL set, with [`check::check_postgres_interim`]'s rules: until
/// the scanner knows PostgreSQL's lexical rules.
///
/// # Errors
/// Every problem found, at once.
#[doc(hidden)]
pub fn load_dir_postgres_interim(dir: &Path) -> Result<Vec<Migration>, Problems> {
    let files = source::read_dir(dir).map_err(|problem| Problems(vec![problem]))?;
    check::check_postgres_interim(&files).map_err(Problems)
}
