static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("bad-name");

fn main() {
    let _ = MIGRATIONS.len();
}
