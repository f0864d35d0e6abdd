static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("transaction-control");

fn main() {
    let _ = MIGRATIONS.len();
}
