static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("unknown-directive");

fn main() {
    let _ = MIGRATIONS.len();
}
