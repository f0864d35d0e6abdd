static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("not-utf8");

fn main() {
    let _ = MIGRATIONS.len();
}
