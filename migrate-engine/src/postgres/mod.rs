//! PostgreSQL's side of the database boundary (features `tokio-postgres` and `postgres`): the
//! same plan, values, report and errors as SQLite's side, over a PostgreSQL client.
//!
//! ARCHITECTURE.md lists what this side shares with SQLite's and what it does differently.
//! The entries (`run`, `version`, `force`, `status`, and the same in `blocking`) are the
//! runtime's; services use `migrate-runtime`'s `postgres()` and `tokio_postgres()`.

mod catalog;
mod client;
mod history;
mod lock;
mod operations;
mod run;
mod script;
mod split;
mod tables;
mod verify;

pub use client::Client;
#[doc(hidden)]
pub use client::TextRows;
pub use lock::golang_migrate_key;
#[cfg(feature = "postgres")]
#[doc(hidden)]
pub use operations::blocking;
#[doc(hidden)]
pub use operations::{force, run, status, version};
#[cfg(feature = "postgres")]
pub use verify::verify_blocking;
pub use verify::{Verified, verify};
