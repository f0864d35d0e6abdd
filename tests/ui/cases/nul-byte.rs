static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("nul-byte");

fn main() {
    let _ = MIGRATIONS.len();
}
