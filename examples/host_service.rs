//! The shape of a real service's start-up: open (or create) the database file, bring its
//! schema up to date with the embedded migrations, print where it stands, then serve.
//!
//! ```text
//! cargo run --example host_service -- [path/to/app.db]     # or APP_DATABASE=path
//! ```

use std::process::ExitCode;

use example_service::MIGRATIONS;
use migrate_runtime::rusqlite::Connection;

fn main() -> ExitCode {
    let path = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("APP_DATABASE").ok())
        .unwrap_or_else(|| "app.db".to_owned());
    match start(&path) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn start(path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let mut conn = Connection::open(path)?;
    // The service's own setting: enforce foreign keys. Migrations that rebuild tables with
    // `PRAGMA foreign_keys = OFF` still run as their authors meant.
    conn.pragma_update(None, "foreign_keys", true)?;

    let report = MIGRATIONS.up(&mut conn)?;
    if report.is_empty() {
        println!("{path}: {report}");
    } else {
        println!("{path}: migrated {report}");
    }
    println!("{}", MIGRATIONS.status(&conn)?);

    let profiles: i64 = conn.query_row("SELECT count(*) FROM quality_profile", [], |r| r.get(0))?;
    let items: i64 = conn.query_row("SELECT count(*) FROM quality_profile_item", [], |r| {
        r.get(0)
    })?;
    println!("serving with {profiles} quality profiles ({items} items)");
    Ok(())
}
