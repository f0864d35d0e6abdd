//! A service's start-up on PostgreSQL: connect, bring the schema up to date with the
//! migrations in `examples/postgres/migrations`, print where it stands, then serve.
//!
//! ```text
//! eval "$(scripts/postgres-test-server start /tmp/migrate-pg)"
//! cargo run --example postgres_service -- "$MIGRATE_TEST_POSTGRES_URL"
//! ```
//!
//! (A service embeds its set with `embed_migrations!`; this example reads the directory at
//! run time with `Migrations::from_dir`, the same checks, because the macro's compile-time
//! verification runs on SQLite.)

use std::process::ExitCode;
use std::time::Duration;

use migrate_runtime::postgres::{Client, NoTls};
use migrate_runtime::{Migrations, Options};

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
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/postgres/migrations");
    let migrations = Migrations::from_dir(dir)?;
    let mut client = Client::connect(url, NoTls)?;

    let postgres = migrations
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
