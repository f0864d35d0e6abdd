static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("multiple-problems");

fn main() {
    let _ = MIGRATIONS.len();
}
