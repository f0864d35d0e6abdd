//! The example service's migrations (the repository's `migrations/`), shared by the examples,
//! and what each example prints after start-up.

use migrate_runtime::{Migrations, embed_migrations};
use rusqlite::Connection;

/// The repository's migrations, checked and verified at compile time.
pub static MIGRATIONS: Migrations = embed_migrations!("../../migrations");

/// The database file: the first argument, or `app.db`.
pub fn database_path() -> String {
    std::env::args()
        .nth(1)
        .unwrap_or_else(|| "app.db".to_owned())
}

/// What the service would serve: the number of quality profiles and their items.
///
/// # Errors
/// SQLite's, when the schema is not migrated.
pub fn profiles(conn: &Connection) -> rusqlite::Result<String> {
    let profiles: i64 = conn.query_row("SELECT count(*) FROM quality_profile", [], |r| r.get(0))?;
    let items: i64 = conn.query_row("SELECT count(*) FROM quality_profile_item", [], |r| {
        r.get(0)
    })?;
    Ok(format!("{profiles} quality profiles ({items} items)"))
}
