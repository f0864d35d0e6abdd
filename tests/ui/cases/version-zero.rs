static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("version-zero");

fn main() {
    let _ = MIGRATIONS.len();
}
