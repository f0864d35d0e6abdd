//! A service embedding 200 migrations: applies them to the file given.

static MIGRATIONS: &migrate_runtime::Migrations = &set_n200::MIGRATIONS;

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "size.db".to_owned());
    let mut conn = migrate_runtime::rusqlite::Connection::open(path).expect("open");
    let report = MIGRATIONS.up(&mut conn).expect("up");
    println!("{report}");
}
