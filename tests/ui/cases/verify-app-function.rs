static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("verify-app-function");

fn main() {
    let _ = MIGRATIONS.len();
}
