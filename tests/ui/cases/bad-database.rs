static MIGRATIONS: migrate_runtime::Migrations =
    migrate_runtime::embed_migrations!("gap", database = "postgresql");

fn main() {
    let _ = MIGRATIONS.len();
}
