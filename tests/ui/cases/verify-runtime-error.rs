static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("verify-runtime-error");

fn main() {
    let _ = MIGRATIONS.len();
}
