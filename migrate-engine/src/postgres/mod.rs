//! PostgreSQL's side of the database boundary (features `tokio-postgres` and `postgres`): the
//! same plan, values, report and errors as SQLite's side, over a PostgreSQL client.
//!
//! ARCHITECTURE.md lists what this side shares with SQLite's and what it does differently.

mod client;

pub use client::Client;
