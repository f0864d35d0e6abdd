static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("no-such-dir");

fn main() {
    let _ = MIGRATIONS.len();
}
