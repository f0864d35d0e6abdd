//! PostgreSQL's side of the database boundary (features `tokio-postgres` and `postgres`): the
//! same plan, values, report and errors as SQLite's side, over a PostgreSQL client.
//!
//! ARCHITECTURE.md lists what this side shares with SQLite's and what it does differently.

mod catalog;
mod client;
mod rows;
mod split;
mod verify;

pub use client::Client;
#[cfg(feature = "postgres")]
pub use verify::verify_blocking;
pub use verify::{Verified, verify};
