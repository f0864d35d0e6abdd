static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("duplicate-version");

fn main() {
    let _ = MIGRATIONS.len();
}
