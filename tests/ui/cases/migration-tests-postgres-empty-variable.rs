migrate_runtime::migration_tests!("gap", postgres = "");

fn main() {}
