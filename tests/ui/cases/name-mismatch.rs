static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("name-mismatch");

fn main() {
    let _ = MIGRATIONS.len();
}
