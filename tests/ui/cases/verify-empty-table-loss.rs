static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("verify-empty-table-loss");

fn main() {
    let _ = MIGRATIONS.len();
}
