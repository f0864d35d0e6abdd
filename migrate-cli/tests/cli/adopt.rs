//! `migrate adopt`: the test sets under `tests/golang-migrate/` (written like real
//! golang-migrate directories) go through `adopt --write`, `check --verify` and the database
//! commands on real files.

use std::path::Path;

use crate::snapshot;
use crate::support::{Sandbox, workspace_file};

/// Copies the test set `tests/golang-migrate/<set>` (its `.sql` files) to `relative` in the
/// sandbox.
fn copy_set(sandbox: &Sandbox, set: &str, relative: &str) {
    let from = workspace_file(&format!("tests/golang-migrate/{set}"));
    for entry in std::fs::read_dir(from).expect("the test set") {
        let path = entry.expect("an entry").path();
        let name = path
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".sql") {
            sandbox.write(
                &format!("{relative}/{name}"),
                &std::fs::read_to_string(&path).expect("a test file"),
            );
        }
    }
}

/// Every file of a directory with its contents.
fn contents(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("listing")
        .map(|entry| {
            let path = entry.expect("an entry").path();
            (
                path.file_name()
                    .expect("a name")
                    .to_string_lossy()
                    .into_owned(),
                std::fs::read_to_string(&path).expect("reading"),
            )
        })
        .filter(|(name, _)| name.ends_with(".sql"))
        .collect();
    files.sort();
    files
}

#[test]
fn adopt_write_then_check_verify_up_to_0_and_up_on_a_no_tx_wrap_set() {
    let sandbox = Sandbox::new();
    copy_set(&sandbox, "ledger", "migrations");
    let before = contents(&sandbox.path("migrations"));

    // Without --write: the report, and not a byte changed.
    let run = sandbox.run(&["adopt", "migrations"]);
    run.code(0);
    snapshot!("adopt_ledger", run);
    assert_eq!(contents(&sandbox.path("migrations")), before);
    sandbox.run(&["check"]).code(3);

    let run = sandbox.run(&["adopt", "migrations", "--write"]);
    run.code(0);
    snapshot!("adopt_ledger_write", run);
    assert_eq!(
        sandbox.read("migrations/000003_seed_currencies.v2.up.sql"),
        "-- migrate:no-transaction\nBEGIN TRANSACTION;\nCREATE TABLE currencies (code TEXT PRIMARY KEY, minor_units INTEGER NOT NULL);\n\
         INSERT INTO currencies (code, minor_units) VALUES ('EUR', 2), ('USD', 2), ('JPY', 0);\nCOMMIT TRANSACTION;\n"
    );
    // Again: nothing left to do, nothing changed.
    let written = contents(&sandbox.path("migrations"));
    let run = sandbox.run(&["adopt", "migrations", "--write"]);
    run.code(0);
    assert!(
        run.stdout.ends_with(
            "ok: nothing stands between `migrations` and a clean `migrate-sqlite check --verify`\n"
        ),
        "{run}"
    );
    assert_eq!(contents(&sandbox.path("migrations")), written);

    sandbox.run(&["check", "--verify"]).code(0);
    sandbox.run(&["up", "--database", "ledger.db"]).code(0);
    let conn = sandbox.open("ledger.db");
    let currencies: i64 = conn
        .query_row("SELECT count(*) FROM currencies", [], |r| r.get(0))
        .expect("the seeded currencies");
    assert_eq!(currencies, 3);
    drop(conn);
    sandbox.run(&["to", "0", "--database", "ledger.db"]).code(0);
    let conn = sandbox.open("ledger.db");
    let objects: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE tbl_name NOT LIKE 'schema_migrations%'",
            [],
            |r| r.get(0),
        )
        .expect("counting objects");
    assert_eq!(objects, 0);
    drop(conn);
    let run = sandbox.run(&["up", "--database", "ledger.db"]);
    run.code(0);
    assert!(run.stdout.contains("000004"), "{run}");
}

#[test]
fn adopt_write_gives_the_adopted_set_the_macro_embeds() {
    let sandbox = Sandbox::new();
    copy_set(&sandbox, "authd", "migrations");
    let run = sandbox.run(&["adopt", "--write"]);
    run.code(0);
    snapshot!("adopt_authd_write", run);
    assert_eq!(
        contents(&sandbox.path("migrations")),
        contents(&workspace_file("tests/golang-migrate/authd.adopted")),
        "tests/golang-migrate/authd.adopted is what adopt --write makes of authd"
    );
    let run = sandbox.run(&["check", "--verify"]);
    run.code(0);
    snapshot!("adopt_authd_check_verify", run);
}

#[test]
fn a_late_merged_older_migration_is_refused_by_up() {
    let sandbox = Sandbox::new();
    copy_set(&sandbox, "authd.adopted", "migrations");
    let late = "20240820140000_login_attempts";
    let late_files: Vec<(String, String)> = ["up", "down"]
        .iter()
        .map(|direction| {
            let file = format!("migrations/{late}.{direction}.sql");
            let text = sandbox.read(&file);
            std::fs::remove_file(sandbox.path(&file)).expect("removing the late migration");
            (file, text)
        })
        .collect();
    sandbox.run(&["up", "--database", "app.db"]).code(0);
    let database = std::fs::read(sandbox.path("app.db")).expect("the database");

    // The branch is merged.
    for (file, text) in &late_files {
        sandbox.write(file, text);
    }
    sandbox.run(&["check", "--verify"]).code(0);
    let run = sandbox.run(&["up", "--database", "app.db"]);
    run.code(1);
    snapshot!("adopt_late_merge_up", run);
    assert_eq!(
        std::fs::read(sandbox.path("app.db")).expect("the database"),
        database,
        "not a byte of the database changed"
    );
    let run = sandbox.run(&["up", "--database", "app.db", "--json"]);
    assert_eq!(run.json()["error"]["kind"], "skipped_migration");
    let status = sandbox.run(&["status", "--database", "app.db"]);
    status.code(0);
    assert!(
        status
            .stdout
            .contains("20240820140000  login_attempts               pending\n"),
        "{status}"
    );
}

#[test]
fn adopt_lists_what_needs_a_person_and_creates_missing_downs() {
    let sandbox = Sandbox::new();
    copy_set(&sandbox, "inventory", "migrations");
    let run = sandbox.run(&["adopt"]);
    run.code(0);
    snapshot!("adopt_inventory", run);
    assert!(!sandbox.exists("migrations/1723100000_products_discontinued.down.sql"));

    let run = sandbox.run(&["adopt", "--write", "--json"]);
    run.code(0);
    let json = run.json();
    assert_eq!(json["clean"], false);
    assert_eq!(json["written"], true);
    assert_eq!(json["style"], "Unix-seconds");
    assert_eq!(
        sandbox.read("migrations/1723100000_products_discontinued.down.sql"),
        "-- migrate:irreversible golang-migrate had no down file for this migration: going down \
         ran nothing\n"
    );
    assert_eq!(
        sandbox.read("migrations/1723300000_title_search.down.sql"),
        "-- migrate:irreversible TODO\n-- TODO\n"
    );
    // What remains is exactly what `check --verify` reports.
    let check = sandbox.run(&["check", "--verify"]);
    check.code(3);
    let problems: Vec<&serde_json::Value> = json["files"]
        .as_array()
        .expect("files")
        .iter()
        .flat_map(|f| f["problems"].as_array().expect("problems"))
        .collect();
    assert_eq!(problems.len(), 1);
    let message = problems[0]["message"].as_str().expect("a message");
    assert!(check.stderr.contains(message), "{check}\n{message}");
}

#[test]
fn adopt_reports_rule_problems_all_at_once_and_never_renames() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "migrations/20240101000000_users.up.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY);\n",
    );
    sandbox.write(
        "migrations/20240101000000_users.down.sql",
        "DROP TABLE users;\n",
    );
    sandbox.write("migrations/000002_tags.up.sql", "CREATE TABLE tags (x);\n");
    sandbox.write("migrations/000002_tags.down.sql", "DROP TABLE tags;\n");
    sandbox.write("migrations/20240301000000_a\\b.up.sql", "SELECT 1;\n");
    sandbox.write("migrations/20240301000000_a\\b.down.sql", "SELECT 1;\n");
    let before = sandbox.list("migrations");
    let run = sandbox.run(&["adopt", "--write"]);
    run.code(0);
    snapshot!("adopt_rule_problems", run);
    assert_eq!(sandbox.list("migrations"), before);
}

#[test]
fn adopt_lists_every_down_that_does_not_undo_its_up_not_only_the_first() {
    let sandbox = Sandbox::new();
    for (file, sql) in [
        (
            "20240101000000_users.up.sql",
            "CREATE TABLE users (id INTEGER PRIMARY KEY);\n",
        ),
        ("20240101000000_users.down.sql", "DROP TABLE users;\n"),
        (
            "20240201000000_email.up.sql",
            "ALTER TABLE users ADD COLUMN email TEXT;\n",
        ),
        ("20240201000000_email.down.sql", "SELECT 1;\n"),
        (
            "20240301000000_tags.up.sql",
            "CREATE TABLE tags (name TEXT);\n",
        ),
        ("20240301000000_tags.down.sql", "DROP TABLE tags;\n"),
        (
            "20240401000000_tag_index.up.sql",
            "CREATE INDEX tags_name ON tags (name);\n",
        ),
        (
            "20240401000000_tag_index.down.sql",
            "-- forgot the index\nSELECT 1;\n",
        ),
    ] {
        sandbox.write(&format!("migrations/{file}"), sql);
    }
    let run = sandbox.run(&["adopt", "--json"]);
    run.code(0);
    let json = run.json();
    let with_problems: Vec<&str> = json["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter(|f| !f["problems"].as_array().expect("problems").is_empty())
        .map(|f| f["file"].as_str().expect("a file"))
        .collect();
    assert_eq!(
        with_problems,
        [
            "20240201000000_email.down.sql",
            "20240401000000_tag_index.down.sql"
        ]
    );
    // `check --verify` stops at the first; adopt's first message is exactly its message.
    let check = sandbox.run(&["check", "--verify"]);
    check.code(3);
    assert!(
        check.stderr.contains(
            "`20240201000000_email.down.sql` does not undo `20240201000000_email.up.sql`: it \
             leaves column `users.email`, added by the up, behind"
        ),
        "{check}"
    );
}
