//! Embed a directory of SQL migrations, checked at compile time, and apply them to SQLite.
//!
//! A service keeps its schema as numbered pairs (`000001_create_users.up.sql`,
//! `000001_create_users.down.sql`, …) and adds one line. Every mistake in the directory (a
//! missing down, a gap in the numbering, a misnamed or empty file, a mistyped directive) is a
//! compile error naming the file, so a broken set never reaches production.
//!
//! ```
//! use migrate_runtime::{embed_migrations, Migrations};
//!
//! static MIGRATIONS: Migrations = embed_migrations!("migrations");
//!
//! let mut conn = rusqlite::Connection::open_in_memory()?;
//! let report = MIGRATIONS.up(&mut conn)?; // apply what is pending, atomically
//! assert_eq!(report.to, Some(2));
//! assert!(MIGRATIONS.up(&mut conn)?.is_empty()); // at the next start: one read
//!
//! MIGRATIONS.down(&mut conn, 1)?; // roll back the last migration
//! assert_eq!(MIGRATIONS.version(&conn)?.version, Some(1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # At compile time
//!
//! [`embed_migrations!`] reads the directory (relative to the crate's `Cargo.toml`), checks
//! every rule of [`migrate_core`] and reports every problem at once, then expands to a
//! constant table: no parsing and no allocation at run time. Add a one-line `build.rs` so that
//! new files trigger a rebuild:
//!
//! ```text
//! fn main() { println!("cargo:rerun-if-changed=migrations"); }
//! ```
//!
//! # At run time
//!
//! [`Migrations::up`], [`to`](Migrations::to), [`down`](Migrations::down),
//! [`version`](Migrations::version) and [`force`](Migrations::force) mirror golang-migrate's
//! `Up`, `Migrate`, `Steps`, `Version` and `Force`, on the same `schema_migrations` table, so
//! a database migrated by a Go service continues here, and back.
//!
//! - **Atomic**: all pending migrations run in one `BEGIN IMMEDIATE` transaction together
//!   with the version update. A failure rolls everything back and names the file, the line
//!   and SQLite's message ([`Error::Migration`]). Only a `-- migrate:no-transaction`
//!   migration splits a run, and an error after such a split lists what was committed.
//! - **Foreign keys done right**: every run turns enforcement off before `BEGIN` and
//!   restores the connection's setting afterwards, and every `PRAGMA foreign_keys` in a
//!   migration is a no-op, so no migration deletes rows through `ON DELETE CASCADE` (the
//!   table-recreation pattern is safe with or without the pragma). After each migration,
//!   `PRAGMA foreign_key_check` on the tables it touched fails it if it left a dangling
//!   reference ([`Error::ForeignKeyViolation`]); see [`Options::foreign_keys`].
//! - **Concurrent starters**: the version is read inside the write transaction, and a busy
//!   timeout makes other processes wait, so each migration runs exactly once.
//! - **`-- migrate:no-transaction`** migrations (`VACUUM`) run outside a transaction; the
//!   version is marked dirty before and cleared after, as golang-migrate does.
//! - **Cheap when idle**: with nothing pending, `up` is one read of the version table.
//! - **Logged**: one `log` record per migration (target `migrate`).
//!
//! Custom version table, busy timeout, legacy-database baseline, commit policy and
//! foreign-key policy:
//! [`Options`] through [`Migrations::with_options`].
//!
//! # Installing
//!
//! ```toml
//! [dependencies]
//! migrate-runtime = "0.1"
//! rusqlite = "0.43"   # any release from 0.38 to 0.43: the one your service already uses
//! ```
//!
//! `libsqlite3-sys` declares `links = "sqlite3"`, so a build holds one release of it: this crate
//! accepts rusqlite 0.38 to 0.43 so that it shares yours. The [`rusqlite`] re-export is that
//! same crate.
//!
//! # Features
//!
//! - **`verify`** (default): the macro also runs every migration up, down and up again on an
//!   in-memory SQLite at compile time, and fails the build when a down does not undo its up.
//!   It uses a SQLite compiled into the macro: cargo (resolver 2, the default since edition
//!   2021) keeps a proc macro's dependency features apart from your binary's, so this does not
//!   change which SQLite your binary links. Off: only the file checks run at compile time.
//! - **`bundled`** (default): compiles SQLite into your binary (rusqlite's `bundled`). Off:
//!   your binary links the SQLite that your own rusqlite features choose, such as the system's
//!   `libsqlite3` or SQLCipher (`default-features = false, features = ["verify",
//!   "statement-cache"]`). rusqlite 0.41 and later need SQLite 3.45.3 or newer when it is not
//!   bundled; with an older system SQLite (Debian 12 has 3.40) use rusqlite 0.40.
//! - **`statement-cache`** (default): keeps the start-up read compiled on each connection
//!   (rusqlite's statement cache, its `cache` feature: `hashlink`, `hashbrown`, `foldhash`), so
//!   an `up` on a connection that ran it before does not compile it again. Off: every `up`
//!   compiles it, and those three packages stay out of your build unless your own rusqlite
//!   features (its defaults among them) bring them.
//!
//! - **`postgres`** (off by default; turns on `tokio-postgres`): the same migrations on
//!   PostgreSQL through the `postgres` crate's blocking client,
//!   `MIGRATIONS.postgres().up(&mut client)` (`PostgresMigrator`), verification on a server
//!   with `verify_postgres_blocking` and `migration_tests!(…, postgres = "VAR")`; re-exports
//!   the `postgres` crate. A set applied to PostgreSQL is declared
//!   `embed_migrations!("…", database = "postgres")`.
//! - **`tokio-postgres`** (off by default): the same as `async fn`s over `tokio-postgres`,
//!   `MIGRATIONS.tokio_postgres().up(&mut client).await` (`TokioPostgresMigrator`), and
//!   `verify_postgres`; re-exports the `tokio_postgres` crate. Both keep golang-migrate's
//!   PostgreSQL layout and advisory-lock key; the repository's README describes locking,
//!   no-transaction migrations and verification there.
//!
//! # In async services
//!
//! Every call is blocking: run it before serving, on a blocking thread (tokio's
//! `spawn_blocking`, deadpool-sqlite's `interact`, tokio-rusqlite's `call`). `up` holds
//! SQLite's write lock for each transaction it runs (one for the whole run, by default), and
//! waits for a lock another connection holds at most the busy timeout
//! ([`Options::busy_timeout`], 60 s by default) before failing with [`Error::Sqlite`]. The repository's
//! `examples/async` shows axum, deadpool-sqlite, tokio-rusqlite and r2d2.

mod migrations;
mod migrator;
#[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
mod on_postgres;
#[cfg(feature = "tokio-postgres")]
mod verify_postgres;

pub use migrate_core::{
    AppFunction, Checksum, Database, Direction, ForeignKeys, Migration, Problem, Problems, Script,
};
/// What PostgreSQL verification proved, and what it ran differently.
#[cfg(feature = "tokio-postgres")]
pub use migrate_engine::postgres::Verified as PostgresVerified;
pub use migrate_engine::testing;
pub use migrate_engine::{
    Baseline, Changed, Declaration, DirtyOrigin, Drift, Error, Finding, LeftAt, MigrationStatus,
    Options, Report, SchemaVersion, Status, Step, Violation, verify, verify_declared,
};
pub use migrate_macros::{embed_migrations, migration_tests};
pub use migrations::{Iter, Migrations};
pub use migrator::Migrator;
#[cfg(feature = "postgres")]
pub use on_postgres::PostgresMigrator;
#[cfg(feature = "tokio-postgres")]
pub use on_postgres::TokioPostgresMigrator;
#[cfg(feature = "postgres")]
pub use postgres;
pub use rusqlite;
#[cfg(feature = "tokio-postgres")]
pub use tokio_postgres;
#[cfg(feature = "tokio-postgres")]
pub use verify_postgres::verify_postgres;
#[cfg(feature = "postgres")]
pub use verify_postgres::{verify_postgres_blocking, verify_postgres_from_env};

/// What the code generated by [`embed_migrations!`] refers to. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use migrate_core::table::__row;
    pub use migrate_core::{Migration, Script};
}
