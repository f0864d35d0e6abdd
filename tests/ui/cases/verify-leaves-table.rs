static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("verify-leaves-table");

fn main() {
    let _ = MIGRATIONS.len();
}
