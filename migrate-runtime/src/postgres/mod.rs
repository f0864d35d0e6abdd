//! PostgreSQL (features `postgres`, blocking, and `tokio-postgres`, async): the same embedded
//! table, on a PostgreSQL server.

mod verify;

pub use migrate_engine::postgres::{Client, Verified};
pub use verify::verify;
#[cfg(feature = "postgres")]
pub use verify::{verify_blocking, verify_from_env};
