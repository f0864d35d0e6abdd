static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("verify-column-added-back");

fn main() {
    let _ = MIGRATIONS.len();
}
