static MIGRATIONS: migrate_runtime::Migrations =
    migrate_runtime::embed_migrations!("gap", krate = ::migrate_runtime);

fn main() {
    let _ = MIGRATIONS.len();
}
