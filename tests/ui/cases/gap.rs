static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("gap");

fn main() {
    let _ = MIGRATIONS.len();
}
