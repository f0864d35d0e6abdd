//! r2d2 with r2d2_sqlite: a blocking pool (as in actix-web or a thread-per-request service).
//! Migrate through one pooled connection before handing the pool to the service; in a tokio
//! service, do this inside `spawn_blocking`, as the axum example does.

use async_examples::{MIGRATIONS, database_path, profiles};
use r2d2_sqlite::SqliteConnectionManager;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = database_path();
    // Every connection the pool opens enforces foreign keys, the service's own setting.
    let manager = SqliteConnectionManager::file(&path)
        .with_init(|conn| conn.pragma_update(None, "foreign_keys", true));
    let pool = r2d2::Pool::builder().max_size(4).build(manager)?;

    let mut conn = pool.get()?;
    let report = MIGRATIONS.up(&mut conn)?;
    println!("{path}: {report}");
    drop(conn);

    println!("serving {}", profiles(&*pool.get()?)?);
    Ok(())
}
