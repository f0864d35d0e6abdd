static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("directive-missing-reason");

fn main() {
    let _ = MIGRATIONS.len();
}
