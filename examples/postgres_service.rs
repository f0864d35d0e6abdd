//! A service's start-up on PostgreSQL: connect, bring the schema up to date with the
//! migrations in `examples/postgres/migrations`, print where it stands, then serve.
//!
//! ```text
//! eval "$(scripts/postgres-test-server start /tmp/migrate-pg)"
//! cargo run --example postgres_service -- "$MIGRATE_TEST_POSTGRES_URL"
//! ```
//!
//! The set is embedded as a service embeds it, declared for PostgreSQL: checked at compile
//! time by PostgreSQL's lexical rules (the in-memory SQLite verification does not run for it;
//! `migrate-sqlite check --verify --database postgres://…` verifies it on a server).

use std::process::ExitCode;
use std::time::Duration;

use migrate_runtime::postgres::{Client, NoTls};
use migrate_runtime::{Migrations, Options, embed_migrations};

static MIGRATIONS: Migrations =
    embed_migrations!("examples/postgres/migrations", database = "postgres");

fn main() -> ExitCode {
    let Some(url) = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("DATABASE_URL").ok())
    else {
        eprintln!("usage: postgres_service postgres://user@host/database (or DATABASE_URL)");
        return ExitCode::FAILURE;
    };
    match start(&url) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn start(url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let mut client = Client::connect(url, NoTls)?;

    let postgres = MIGRATIONS
        .with_options(Options::new().busy_timeout(Duration::from_secs(30)))
        .postgres();
    let report = postgres.up(&mut client)?;
    if report.is_empty() {
        println!("{report}");
    } else {
        println!("migrated {report}");
    }
    println!("{}", postgres.status(&mut client)?);

    let row = client.query_one("SELECT version, dirty FROM schema_migrations", &[])?;
    let (version, dirty): (i64, bool) = (row.get(0), row.get(1));
    println!("schema_migrations: version {version}, dirty {dirty} (golang-migrate's table)");
    Ok(())
}
