//! deadpool-sqlite: take a connection from the pool and migrate inside `interact`, which runs
//! the closure on a blocking thread with the pool's `rusqlite::Connection`.

use async_examples::{MIGRATIONS, database_path, profiles};
use deadpool_sqlite::{Config, Runtime};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let path = database_path();
    let pool = Config::new(&path).create_pool(Runtime::Tokio1)?;

    let conn = pool.get().await?;
    // `interact` fails only if the closure panicked or was aborted; the migration's own result
    // is the inner `Result`.
    let report = conn
        .interact(|conn| {
            conn.pragma_update(None, "foreign_keys", true)?;
            MIGRATIONS.up(conn).map_err(BoxError::from)
        })
        .await
        .map_err(|error| error.to_string())??;
    println!("{path}: {report}");

    // The pool is ready: every connection it hands out sees the migrated schema.
    let served = pool
        .get()
        .await?
        .interact(|conn| profiles(conn))
        .await
        .map_err(|error| error.to_string())??;
    println!("serving {served}");
    Ok(())
}
