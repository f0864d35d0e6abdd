//! `migrate status` and `migrate version`: read-only, and never creating a database.

use crate::snapshot;
use crate::support::Sandbox;

#[test]
fn status_and_version_of_a_missing_database_create_nothing() {
    let sandbox = Sandbox::with_migrations();
    let run = sandbox.run(&["status", "--database", "app.db"]);
    run.code(0);
    snapshot!("status_missing_database", run);
    let run = sandbox.run(&["status", "--database", "app.db", "--json"]);
    run.code(0);
    snapshot!("status_missing_database_json", run);
    let run = sandbox.run(&["version", "--database", "app.db"]);
    run.code(0);
    snapshot!("version_missing_database", run);
    let run = sandbox.run(&["version", "--database", "app.db", "--json"]);
    run.code(0);
    snapshot!("version_missing_database_json", run);
    let run = sandbox.run_command(
        sandbox
            .command()
            .args(["status"])
            .env("DATABASE_URL", "sqlite://app.db"),
    );
    run.code(0);
    assert_eq!(sandbox.list("."), ["migrations"], "no file was created");
}

#[test]
fn status_never_writes_to_an_existing_database() {
    let sandbox = Sandbox::with_migrations();
    sandbox.write("empty.db", "");
    sandbox.run(&["status", "--database", "empty.db"]).code(0);
    sandbox.run(&["version", "--database", "empty.db"]).code(0);
    assert_eq!(
        std::fs::metadata(sandbox.path("empty.db")).unwrap().len(),
        0,
        "no version table was created"
    );
    assert_eq!(sandbox.list("."), ["empty.db", "migrations"]);
}

#[test]
fn status_shows_applied_and_pending_migrations() {
    let sandbox = Sandbox::with_migrations();
    sandbox.run(&["to", "2", "--database", "app.db"]).code(0);
    let run = sandbox.run(&["status", "--database", "app.db"]);
    run.code(0);
    snapshot!("status_partly_applied", run);
    let run = sandbox.run(&["status", "--database", "app.db", "--json"]);
    run.code(0);
    snapshot!("status_partly_applied_json", run);
}

#[test]
fn version_prints_the_version_and_dirty_flag() {
    let sandbox = Sandbox::with_migrations();
    sandbox.run(&["up", "--database", "app.db"]).code(0);
    let run = sandbox.run(&["version", "--database", "app.db"]);
    run.code(0);
    assert_eq!(run.stdout, "000003\n");
    let run = sandbox.run(&["version", "--database", "app.db", "--json"]);
    run.code(0);
    snapshot!("version_json", run);
}

#[test]
fn status_reports_a_database_newer_than_the_directory() {
    let sandbox = Sandbox::with_migrations();
    sandbox.run(&["up", "--database", "app.db"]).code(0);
    std::fs::remove_file(sandbox.path("migrations/000003_tags.up.sql")).unwrap();
    std::fs::remove_file(sandbox.path("migrations/000003_tags.down.sql")).unwrap();
    let run = sandbox.run(&["status", "--database", "app.db"]);
    run.code(0);
    snapshot!("status_unknown_version", run);
    // And the commands that would change it refuse.
    let run = sandbox.run(&["up", "--database", "app.db"]);
    run.code(1);
    snapshot!("up_unknown_version", run);
}

#[test]
fn status_of_a_file_that_is_not_a_database_fails() {
    let sandbox = Sandbox::with_migrations();
    sandbox.write(
        "notes.txt",
        "these are not the pages of a SQLite database, only notes\n",
    );
    let run = sandbox.run(&["status", "--database", "notes.txt"]);
    run.code(1);
    snapshot!("status_not_a_database", run);
}

/// An applied migration edited afterwards: `status` shows it as changed, and `up` refuses with
/// the runtime's message naming the file, changing nothing.
#[test]
fn status_shows_an_applied_migration_edited_since_and_up_refuses() {
    let sandbox = Sandbox::with_migrations();
    sandbox.run(&["up", "--database", "app.db"]).code(0);
    let up = sandbox.read("migrations/000002_posts.up.sql");
    sandbox.write(
        "migrations/000002_posts.up.sql",
        &format!("-- edited after it was applied\n{up}"),
    );
    let run = sandbox.run(&["status", "--database", "app.db"]);
    run.code(0);
    assert!(run.stdout.contains("000002   posts  changed"), "{run}");
    assert!(
        run.stdout
            .contains("2 applied, 0 pending, 1 changed since applied"),
        "{run}"
    );
    let json = sandbox
        .run(&["status", "--database", "app.db", "--json"])
        .json();
    assert_eq!(json["migrations"][1]["state"], "changed");
    let run = sandbox.run(&["up", "--database", "app.db"]);
    run.code(1);
    assert!(
        run.stderr.starts_with(
            "error: `000002_posts.up.sql` was changed after it was applied to this database"
        ),
        "{run}"
    );
    assert!(
        run.stderr
            .trim_end()
            .ends_with("or accept the edit with `--allow-changed`"),
        "{run}"
    );
    sandbox
        .run(&["up", "--database", "app.db", "--allow-changed"])
        .code(0);
}

/// A database golang-migrate left dirty at `version`: it failed migration `version`, rolled its
/// transaction back and kept the version row, dirty (no history table: golang-migrate has none).
fn left_dirty_by_golang_migrate(sandbox: &Sandbox, version: i64, schema: &str) {
    let conn = migrate_runtime::rusqlite::Connection::open(sandbox.path("app.db"))
        .expect("opening the database");
    conn.execute_batch(schema).expect("the schema");
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version uint64,dirty bool);
         CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON schema_migrations (version);",
    )
    .expect("golang-migrate's version table");
    conn.execute(
        "INSERT INTO schema_migrations (version, dirty) VALUES (?1, 1)",
        [version],
    )
    .expect("golang-migrate's dirty version");
}

#[test]
fn a_database_golang_migrate_left_dirty_is_explained_as_such() {
    let sandbox = Sandbox::with_migrations();
    left_dirty_by_golang_migrate(
        &sandbox,
        2,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
    );
    let before = sandbox.files();
    let run = sandbox.run(&["status", "--database", "app.db"]);
    run.code(0);
    snapshot!("dirty_status_golang_migrate", run);
    assert!(
        !run.stdout
            .contains("runs outside a transaction and started"),
        "{run}"
    );
    let run = sandbox.run(&["version", "--database", "app.db"]);
    run.code(0);
    assert_eq!(
        run.stdout,
        "000002 (dirty): left by another tool, such as golang-migrate\n"
    );
    let run = sandbox.run(&["status", "--database", "app.db", "--json"]);
    run.code(0);
    assert_eq!(
        run.json()["dirty_origin"],
        serde_json::json!({"by": "other_tool"}),
        "{run}"
    );
    assert_eq!(sandbox.files(), before, "status and version only read");
}

#[test]
fn a_dirty_timestamped_database_names_the_previous_migration_not_version_minus_one() {
    let sandbox = Sandbox::new();
    for (file, sql) in [
        (
            "20240731203656_users.up.sql",
            "CREATE TABLE users (id INTEGER PRIMARY KEY);\n",
        ),
        ("20240731203656_users.down.sql", "DROP TABLE users;\n"),
        (
            "20240815090000_tags.up.sql",
            "CREATE TABLE tags (name TEXT PRIMARY KEY);\n",
        ),
        ("20240815090000_tags.down.sql", "DROP TABLE tags;\n"),
    ] {
        sandbox.write(&format!("migrations/{file}"), sql);
    }
    left_dirty_by_golang_migrate(
        &sandbox,
        20_240_815_090_000,
        "CREATE TABLE users (id INTEGER PRIMARY KEY);",
    );
    let run = sandbox.run(&["status", "--database", "app.db"]);
    run.code(0);
    assert!(
        run.stdout
            .contains("the schema most likely is still that of 20240731203656. Check the schema")
            && run
                .stdout
                .contains("usually `migrate-sqlite force 20240731203656`"),
        "{run}"
    );
    // `up` refuses the dirty database with the same explanation.
    let run = sandbox.run(&["up", "--database", "app.db"]);
    run.code(1);
    assert!(
        run.stderr.starts_with(
            "error: the database is dirty at version 20240815090000, so nothing was changed: \
             this tool did not start a migration to it"
        ) && run
            .stderr
            .contains("usually `migrate-sqlite force 20240731203656`"),
        "{run}"
    );
}
