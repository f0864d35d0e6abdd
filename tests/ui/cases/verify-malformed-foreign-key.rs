static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("verify-malformed-foreign-key");

fn main() {
    let _ = MIGRATIONS.len();
}
