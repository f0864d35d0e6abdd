//! tokio-rusqlite: one connection on a background thread of its own; `call` runs the migration
//! there and awaits the result.

use async_examples::{MIGRATIONS, database_path, profiles};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let path = database_path();
    let conn = tokio_rusqlite::Connection::open(&path).await?;

    conn.call(|conn| conn.pragma_update(None, "foreign_keys", true))
        .await?;
    // The closure's error type is the runtime's: a failed migration comes back as
    // `tokio_rusqlite::Error::Error(migrate_runtime::Error::Migration { .. })`.
    let report = conn.call(|conn| MIGRATIONS.up(conn)).await?;
    println!("{path}: {report}");

    let served = conn.call(|conn| profiles(conn)).await?;
    println!("serving {served}");
    Ok(())
}
