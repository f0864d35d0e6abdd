static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("missing-down");

fn main() {
    let _ = MIGRATIONS.len();
}
