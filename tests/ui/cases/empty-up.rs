static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("empty-up");

fn main() {
    let _ = MIGRATIONS.len();
}
