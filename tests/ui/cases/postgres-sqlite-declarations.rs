static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!(
    "postgres-unterminated",
    database = "postgres",
    foreign_keys = "unenforced",
    functions = ["normalize/2"],
);

fn main() {
    let _ = MIGRATIONS.len();
}
