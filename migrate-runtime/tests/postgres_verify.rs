//! `migration_tests!(…, postgres = "VAR")` and `verify_postgres_from_env` on a real server
//! (`MIGRATE_TEST_POSTGRES_URL`; locally: `eval "$(scripts/postgres-test-server start /tmp/pg)"`).

use migrate_runtime::Migrations;

// The generated test verifies the set on the server; without the variable it fails, saying
// what to set.
migrate_runtime::migration_tests!(
    "tests/postgres_shop",
    postgres = "MIGRATE_TEST_POSTGRES_URL"
);

fn set(files: &[(&str, &str)]) -> (tempfile::TempDir, Migrations) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (name, sql) in files {
        std::fs::write(dir.path().join(name), sql).expect("write a migration file");
    }
    let migrations = Migrations::from_dir(dir.path()).unwrap_or_else(|p| panic!("{p}"));
    (dir, migrations)
}

const FORGETS_AN_INDEX: [(&str, &str); 4] = [
    (
        "000001_tags.up.sql",
        "CREATE TABLE tags (id int PRIMARY KEY, name text NOT NULL);",
    ),
    ("000001_tags.down.sql", "DROP TABLE tags;"),
    (
        "000002_tag_names.up.sql",
        "CREATE UNIQUE INDEX tags_name ON tags (lower(name));",
    ),
    ("000002_tag_names.down.sql", "SELECT 1;"),
];

#[test]
fn an_unset_variable_fails_with_what_to_set() {
    let (_dir, migrations) = set(&FORGETS_AN_INDEX);
    let var = "MIGRATE_TEST_POSTGRES_URL_THAT_IS_NEVER_SET";
    assert_eq!(
        migrate_runtime::verify_postgres_from_env(migrations.as_slice(), var),
        Err(format!(
            "{var} is not set: these tests verify the migrations on a PostgreSQL server; set \
             {var} to its URL (postgres://user@host:port/database; verification runs in a \
             transaction it rolls back, so the database is never changed)"
        ))
    );
}

#[test]
fn a_down_that_does_not_undo_its_up_fails_the_test_with_the_finding() {
    let (_dir, migrations) = set(&FORGETS_AN_INDEX);
    assert_eq!(
        migrate_runtime::verify_postgres_from_env(
            migrations.as_slice(),
            "MIGRATE_TEST_POSTGRES_URL"
        ),
        Err(
            "`000002_tag_names.down.sql` does not undo `000002_tag_names.up.sql`: it leaves index \
             `tags_name` on `tags` behind; make the down undo exactly what the up does"
                .to_owned()
        )
    );
}
