static MIGRATIONS: migrate_runtime::Migrations =
    migrate_runtime::embed_migrations!("verify-sandbox", foreign_key = "unenforced");

fn main() {
    let _ = MIGRATIONS.len();
}
