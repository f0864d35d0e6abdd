//! A service embedding 200 migrations: applies them to the file given.

use diesel::prelude::*;
use diesel_migrations::MigrationHarness;

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "size.db".to_owned());
    let mut conn = diesel::sqlite::SqliteConnection::establish(&path).expect("open");
    let applied = conn
        .run_pending_migrations(set_n200::MIGRATIONS)
        .expect("up");
    println!("applied {}", applied.len());
}
