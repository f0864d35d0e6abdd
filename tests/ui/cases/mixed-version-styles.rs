static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("mixed-version-styles");

fn main() {
    let _ = MIGRATIONS.len();
}
