static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("irreversible-with-sql");

fn main() {
    let _ = MIGRATIONS.len();
}
