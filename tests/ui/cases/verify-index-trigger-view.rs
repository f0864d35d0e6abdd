static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("verify-index-trigger-view");

fn main() {
    let _ = MIGRATIONS.len();
}
