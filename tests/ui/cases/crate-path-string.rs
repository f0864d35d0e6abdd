static MIGRATIONS: migrate_runtime::Migrations =
    migrate_runtime::embed_migrations!("gap", crate = "my_facade::migrate");

fn main() {
    let _ = MIGRATIONS.len();
}
