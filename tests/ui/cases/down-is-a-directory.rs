static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("down-is-a-directory");

fn main() {
    let _ = MIGRATIONS.len();
}
