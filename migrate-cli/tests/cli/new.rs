//! `migrate new <name>`: the next-numbered pair, refusals, and never overwriting.

use crate::snapshot;
use crate::support::Sandbox;

#[test]
fn new_creates_the_first_pair_and_the_missing_directory() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["new", "add_users"]);
    run.code(0);
    snapshot!("new_first", run);
    assert_eq!(
        sandbox.list("migrations"),
        ["000001_add_users.down.sql", "000001_add_users.up.sql"]
    );
    snapshot!(
        "new_up_template",
        sandbox.read("migrations/000001_add_users.up.sql")
    );
    snapshot!(
        "new_down_template",
        sandbox.read("migrations/000001_add_users.down.sql")
    );
}

#[test]
fn new_follows_the_highest_version_and_ignores_misnamed_files() {
    let sandbox = Sandbox::with_migrations();
    sandbox.write("migrations/README.md", "how we write migrations\n");
    sandbox.write("migrations/000009-misnamed.up.sql", "SELECT 1;\n");
    let run = sandbox.run(&["new", "add_labels"]);
    run.code(0);
    assert!(
        run.stdout
            .starts_with("created ./migrations/000004_add_labels.up.sql\n"),
        "{run}"
    );
    assert!(sandbox.exists("migrations/000004_add_labels.down.sql"));
}

#[test]
fn new_json_names_the_version_and_both_paths() {
    let sandbox = Sandbox::with_migrations();
    let run = sandbox.run(&["new", "add-labels", "--json", "--dir", "migrations"]);
    run.code(0);
    snapshot!("new_json", run);
}

#[test]
fn new_refuses_a_name_already_used() {
    let sandbox = Sandbox::with_migrations();
    let before = sandbox.list("migrations");
    let run = sandbox.run(&["new", "posts"]);
    run.code(2);
    snapshot!("new_name_taken", run);
    assert_eq!(sandbox.list("migrations"), before);
}

#[test]
fn new_refuses_names_the_grammar_refuses() {
    let sandbox = Sandbox::new();
    let mut stderr = String::new();
    for name in ["add tags", "add.tags", "", "café"] {
        let run = sandbox.run(&["new", name]);
        run.code(2);
        assert!(run.stdout.is_empty(), "{run}");
        stderr.push_str(&run.stderr);
    }
    snapshot!("new_bad_names", stderr);
    assert!(!sandbox.exists("migrations"), "nothing is created");
}

#[test]
fn new_sees_a_directory_holding_a_migration_name() {
    let sandbox = Sandbox::with_migrations();
    // A directory named like the next down file: the listing sees it (and `check` refuses it),
    // so `new` finds the name taken instead of half-creating a pair.
    std::fs::create_dir(sandbox.path("migrations/000004_labels.down.sql")).unwrap();
    let before = sandbox.list("migrations");
    let run = sandbox.run(&["new", "labels"]);
    run.code(2);
    snapshot!("new_name_held_by_a_directory", run);
    assert_eq!(sandbox.list("migrations"), before, "nothing was created");
}

#[test]
fn new_files_are_reported_by_check_until_they_hold_sql() {
    let sandbox = Sandbox::with_migrations();
    sandbox.run(&["new", "labels"]).code(0);
    let run = sandbox.run(&["check"]);
    run.code(3);
    snapshot!("new_then_check", run);

    sandbox.write(
        "migrations/000004_labels.up.sql",
        &(sandbox.read("migrations/000004_labels.up.sql") + "CREATE TABLE labels (name TEXT);\n"),
    );
    sandbox.write(
        "migrations/000004_labels.down.sql",
        "-- migrate:irreversible labels are kept forever\n",
    );
    sandbox.run(&["check"]).code(0);
}

#[test]
fn new_takes_the_directory_after_the_command() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["new", "init", "--dir", "db/migrations"]);
    run.code(0);
    assert_eq!(
        sandbox.list("db/migrations"),
        ["000001_init.down.sql", "000001_init.up.sql"]
    );
}

#[test]
fn new_follows_a_timestamped_directory() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "migrations/20240731203656_init.up.sql",
        "CREATE TABLE a (x);\n",
    );
    sandbox.write("migrations/20240731203656_init.down.sql", "DROP TABLE a;\n");
    let run = sandbox.run(&["new", "add_tags"]);
    run.code(0);
    let created = sandbox.list("migrations");
    let up = created
        .iter()
        .find(|f| f.ends_with("_add_tags.up.sql"))
        .expect("the new up file");
    let version: u64 = up[..14].parse().expect("a 14-digit version");
    assert_eq!(
        migrate_core::name::VersionStyle::of(version),
        migrate_core::name::VersionStyle::Timestamp,
        "{up}"
    );
    // Now, not the newest version plus one (this test was written in 2026).
    assert!(version > 20260101000000, "{up}");
    assert!(
        sandbox.exists(&format!("migrations/{version}_add_tags.down.sql")),
        "{created:?}"
    );
}

#[test]
fn new_offers_the_other_style_only_for_an_empty_directory() {
    let sandbox = Sandbox::new();
    sandbox.run(&["new", "init", "--timestamp"]).code(0);
    let first = sandbox.list("migrations");
    assert!(
        first[0].len() == "20240731203656_init.down.sql".len(),
        "{first:?}"
    );
    let run = sandbox.run(&["new", "tags", "--seq"]);
    run.code(2);
    let stderr = run.stderr.replace(&first[1][..14], "[timestamp]");
    snapshot!("new_other_style", stderr);
    assert_eq!(sandbox.list("migrations"), first, "nothing was created");

    let unix = Sandbox::new();
    unix.run(&["new", "init", "--unix"]).code(0);
    unix.run(&["new", "tags"]).code(0);
    let files = unix.list("migrations");
    let versions: Vec<u64> = files
        .iter()
        .map(|f| f[..10].parse().expect("10 digits"))
        .collect();
    assert!(versions.iter().all(|v| *v >= 1_700_000_000), "{files:?}");
    unix.run(&["new", "more", "--seq"]).code(2);

    let seq = Sandbox::with_migrations();
    seq.run(&["new", "labels", "--seq"]).code(0);
    assert!(seq.exists("migrations/000004_labels.up.sql"));
    seq.run(&["new", "more", "--timestamp"]).code(2);
}
