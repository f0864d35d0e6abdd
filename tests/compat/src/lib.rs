//! A service's migrations, embedded and verified at compile time (through the dependency
//! renamed `migrate`, so with `crate = ::migrate`), built against whichever
//! rusqlite release and SQLite library the build selects.

use migrate::{Migrations, embed_migrations};

/// The service's schema: accounts, their sessions (cascading), and a table recreation that runs
/// with foreign keys off.
pub static MIGRATIONS: Migrations = embed_migrations!("migrations", crate = ::migrate);

/// One migration that calls `jsonb()`, which SQLite has only from 3.45.0 on. It compiles only
/// because the macro verifies it on its own bundled SQLite (3.45 or newer), whatever SQLite this
/// crate links: with Debian 12's system SQLite (3.40) it then fails at run time.
pub static NEEDS_SQLITE_3_45: Migrations = embed_migrations!("newer-sqlite", crate = ::migrate);
