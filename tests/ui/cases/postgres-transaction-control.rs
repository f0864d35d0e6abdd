static MIGRATIONS: migrate_runtime::Migrations =
    migrate_runtime::embed_migrations!("postgres-transaction-control", database = "postgres");

fn main() {
    let _ = MIGRATIONS.len();
}
