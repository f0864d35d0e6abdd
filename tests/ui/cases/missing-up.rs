static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("missing-up");

fn main() {
    let _ = MIGRATIONS.len();
}
