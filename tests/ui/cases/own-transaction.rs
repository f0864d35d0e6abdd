static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("own-transaction");

fn main() {
    let _ = MIGRATIONS.len();
}
