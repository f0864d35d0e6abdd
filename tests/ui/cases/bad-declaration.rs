static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!(
    "verify-sandbox",
    foreign_keys = "off",
    functions = ["normalize", "bin2b64/1", "slug-ify/1"],
);

fn main() {
    let _ = MIGRATIONS.len();
}
