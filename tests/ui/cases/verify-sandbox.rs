static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("verify-sandbox");

fn main() {
    let _ = MIGRATIONS.len();
}
