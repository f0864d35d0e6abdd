static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("verify-data-loss");

fn main() {
    let _ = MIGRATIONS.len();
}
