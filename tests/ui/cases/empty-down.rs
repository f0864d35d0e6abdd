static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("empty-down");

fn main() {
    let _ = MIGRATIONS.len();
}
