//! The example service: it embeds the repository's `migrations/` exactly as a user's service
//! would, with the one line below. `examples/host_service.rs` runs it against a database file.

/// The repository's migrations, checked at compile time.
pub static MIGRATIONS: migrate_runtime::Migrations =
    migrate_runtime::embed_migrations!("migrations");
