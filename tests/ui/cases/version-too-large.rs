static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("version-too-large");

fn main() {
    let _ = MIGRATIONS.len();
}
