//! Applies checked migrations to SQLite: the one implementation that the runtime
//! (`migrate-runtime`, what services use) and the macro's compile-time verification share, so a
//! migration runs at compile time exactly as it will at run time.
//!
//! Services use `migrate-runtime`, which re-exports the values, errors, verification and
//! `testing` here. The operations (`run` towards a `Target`, `version`, `force`, `status`) are
//! the runtime's one entry into the engine and hidden from these docs; they take the table as
//! a slice of [`Migration`](migrate_core::Migration)s in version order, as
//! [`migrate_core::check()`] returns it and as `embed_migrations!` embeds it. ARCHITECTURE.md
//! at the repository's root describes the modules.
//!
//! Works with rusqlite 0.38 to 0.43. Feature **`bundled`** (off by default) compiles SQLite from
//! source (rusqlite's `bundled`); the macro's verification turns it on for its own copy.
//!
//! Features **`tokio-postgres`** and **`postgres`** add the module `postgres`: the same run on
//! PostgreSQL (golang-migrate's layout and advisory-lock key, one transaction per run), over
//! `tokio-postgres`'s client and the `postgres` crate's.

mod decimal;
mod drift;
mod error;
mod options;
mod plan;
#[cfg(feature = "tokio-postgres")]
pub mod postgres;
mod report;
mod rows;
mod sorted;
mod sqlite;
mod values;

pub use crate::error::{DirtyOrigin, Error, LeftAt, Violation};
pub use crate::options::{Baseline, Options};
#[doc(hidden)]
pub use crate::plan::Target;
pub use crate::report::{MigrationStatus, Report, Status, Step};
#[doc(hidden)]
pub use crate::sqlite::operations::{force, run, status, version};
pub use crate::sqlite::testing;
/// Verification with the notes on tables it could not fill; for the engine's own tests.
#[doc(hidden)]
pub use crate::sqlite::verify::verify_with_notes;
pub use crate::sqlite::verify::{Declaration, Finding, verify, verify_declared};
pub use crate::values::{Changed, Drift, SchemaVersion};
