//! Verification on a PostgreSQL server: what `migrate-sqlite check --verify --database
//! postgres://…` and `migration_tests!(…, postgres = "VAR")` run.

use migrate_core::Migration;
use migrate_engine::Finding;
use migrate_engine::postgres::Verified;

/// Runs every migration of `migrations` (`MIGRATIONS.as_slice()`) up, down and up again on the
/// server `client` is connected to, and compares the schema (by meaning, from `pg_catalog`)
/// and the rows before each up and after its down; all inside one transaction that is rolled
/// back at the end, in a schema of its own, so the database is never changed.
/// deadpool-postgres and bb8 hand out objects that dereference to a `tokio_postgres::Client`.
///
/// Call it outside a transaction: it begins its own and rolls it back.
///
/// The set is verified from nothing, whatever the database holds: the objects it creates go
/// to a scratch schema first on the `search_path` (then `public`, where extensions usually
/// are). Objects a migration creates in a schema it names (`public.orders`) are compared too.
///
/// # Errors
/// Every finding: each down that fails or does not undo its up, and the first up that fails,
/// each naming the file (and line) and what to do.
///
/// # Example
/// ```no_run
/// # async fn example(client: &mut tokio_postgres::Client) {
/// static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("migrations");
/// match migrate_runtime::verify_postgres(MIGRATIONS.as_slice(), client).await {
///     Ok(verified) => assert!(verified.notes.is_empty()),
///     Err(findings) => panic!("{}", findings[0]),
/// }
/// # }
/// ```
pub async fn verify_postgres(
    migrations: &[Migration],
    client: &mut tokio_postgres::Client,
) -> Result<Verified, Vec<Finding>> {
    migrate_engine::postgres::verify(migrations, client).await
}

/// [`verify_postgres()`] with the `postgres` crate's blocking client.
///
/// # Errors
/// As [`verify_postgres()`].
#[cfg(feature = "postgres")]
pub fn verify_postgres_blocking(
    migrations: &[Migration],
    client: &mut postgres::Client,
) -> Result<Verified, Vec<Finding>> {
    migrate_engine::postgres::verify_blocking(migrations, client)
}

/// What `migration_tests!(…, postgres = "VAR")` runs: connects (without TLS) to the server
/// whose URL is in the environment variable `var` and runs [`verify_postgres_blocking`].
///
/// # Errors
/// The message a failing test shows: the variable is not set (and what to set), the server
/// cannot be reached, or every finding, one per line. What verification ran differently
/// (`CONCURRENTLY` left out) and where it could not compare rows is printed when it passes.
#[cfg(feature = "postgres")]
pub fn verify_postgres_from_env(migrations: &[Migration], var: &str) -> Result<(), String> {
    let url = std::env::var(var).map_err(|_| {
        format!(
            "{var} is not set: these tests verify the migrations on a PostgreSQL server; set \
             {var} to its URL (postgres://user@host:port/database; verification runs in a \
             transaction it rolls back, so the database is never changed)"
        )
    })?;
    let mut client = postgres::Client::connect(&url, postgres::NoTls)
        .map_err(|error| format!("cannot connect to the PostgreSQL server in {var}: {error}"))?;
    match verify_postgres_blocking(migrations, &mut client) {
        Ok(verified) => {
            for note in verified.notes.iter().chain(&verified.unfilled) {
                println!("note: {note}");
            }
            Ok(())
        }
        Err(findings) => Err(findings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")),
    }
}
