static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("verify-syntax-error");

fn main() {
    let _ = MIGRATIONS.len();
}
