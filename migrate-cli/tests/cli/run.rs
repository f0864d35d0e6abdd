//! `migrate up`, `down [N]`, `to <V>` and `force <V>` on real database files.

use crate::snapshot;
use crate::support::Sandbox;

/// The user tables of a database, sorted.
fn tables(sandbox: &Sandbox, db: &str) -> Vec<String> {
    let conn = sandbox.open(db);
    let mut statement = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             ORDER BY name",
        )
        .expect("listing tables");
    statement
        .query_map([], |row| row.get(0))
        .and_then(Iterator::collect)
        .expect("listing tables")
}

/// The database's `schema_migrations` row.
fn recorded(sandbox: &Sandbox, db: &str) -> Option<(i64, bool)> {
    let conn = sandbox.open(db);
    conn.query_row("SELECT version, dirty FROM schema_migrations", [], |row| {
        Ok((row.get(0)?, row.get(1)?))
    })
    .ok()
}

#[test]
fn up_applies_everything_then_is_up_to_date() {
    let sandbox = Sandbox::with_migrations();
    let run = sandbox.run(&["up", "--database", "app.db"]);
    run.code(0);
    snapshot!("up", run);
    assert_eq!(
        tables(&sandbox, "app.db"),
        [
            "posts",
            "schema_migrations",
            "schema_migrations_history",
            "tags",
            "users"
        ]
    );
    assert_eq!(recorded(&sandbox, "app.db"), Some((3, false)));
    let run = sandbox.run(&["up", "--database", "app.db"]);
    run.code(0);
    snapshot!("up_again", run);
}

#[test]
fn up_json_lists_each_step() {
    let sandbox = Sandbox::with_migrations();
    let run = sandbox.run(&["up", "--database", "app.db", "--json"]);
    run.code(0);
    snapshot!("up_json", run);
}

#[test]
fn down_rolls_back_one_migration_by_default() {
    let sandbox = Sandbox::with_migrations();
    sandbox.run(&["up", "--database", "app.db"]).code(0);
    let run = sandbox.run(&["down", "--database", "app.db"]);
    run.code(0);
    snapshot!("down_default", run);
    assert_eq!(recorded(&sandbox, "app.db"), Some((2, false)));
    let run = sandbox.run(&["down", "2", "--database", "app.db", "--json"]);
    run.code(0);
    snapshot!("down_two_json", run);
    assert_eq!(
        tables(&sandbox, "app.db"),
        ["schema_migrations", "schema_migrations_history"]
    );
    assert_eq!(recorded(&sandbox, "app.db"), None, "nothing applied");
}

#[test]
fn down_more_than_applied_changes_nothing() {
    let sandbox = Sandbox::with_migrations();
    sandbox.run(&["to", "1", "--database", "app.db"]).code(0);
    let run = sandbox.run(&["down", "2", "--database", "app.db"]);
    run.code(1);
    snapshot!("down_too_many", run);
    assert_eq!(recorded(&sandbox, "app.db"), Some((1, false)));
}

#[test]
fn to_goes_up_and_down_and_to_zero() {
    let sandbox = Sandbox::with_migrations();
    let run = sandbox.run(&["to", "2", "--database", "app.db"]);
    run.code(0);
    snapshot!("to_2", run);
    let run = sandbox.run(&["to", "2", "--database", "app.db"]);
    run.code(0);
    assert_eq!(run.stdout, "already at 000002\n");
    let run = sandbox.run(&["to", "0", "--database", "app.db"]);
    run.code(0);
    snapshot!("to_0", run);
    assert_eq!(
        tables(&sandbox, "app.db"),
        ["schema_migrations", "schema_migrations_history"]
    );
}

#[test]
fn to_an_unknown_version_changes_nothing() {
    let sandbox = Sandbox::with_migrations();
    let run = sandbox.run(&["to", "9", "--database", "app.db"]);
    run.code(1);
    snapshot!("to_unknown", run);
    let run = sandbox.run(&["to", "9", "--database", "app.db", "--json"]);
    run.code(1);
    snapshot!("to_unknown_json", run);
}

#[test]
fn a_failing_migration_is_rolled_back_with_everything_before_it() {
    let sandbox = Sandbox::with_migrations();
    sandbox.write(
        "migrations/000004_seed.up.sql",
        "INSERT INTO users (id, name) VALUES (1, 'ada');\nINSERT INTO missing VALUES (1);\n",
    );
    sandbox.write("migrations/000004_seed.down.sql", "DELETE FROM users;\n");
    sandbox.run(&["to", "1", "--database", "app.db"]).code(0);
    let run = sandbox.run(&["up", "--database", "app.db"]);
    run.code(1);
    snapshot!("up_failing_migration", run);
    assert_eq!(recorded(&sandbox, "app.db"), Some((1, false)));
    assert_eq!(
        tables(&sandbox, "app.db"),
        ["schema_migrations", "schema_migrations_history", "users"]
    );
}

#[test]
fn foreign_keys_are_enforced_as_in_a_service() {
    let sandbox = Sandbox::with_migrations();
    sandbox.write(
        "migrations/000004_orphan.up.sql",
        "INSERT INTO posts (id, user_id) VALUES (1, 42);\n",
    );
    sandbox.write("migrations/000004_orphan.down.sql", "DELETE FROM posts;\n");
    let run = sandbox.run(&["up", "--database", "app.db"]);
    run.code(1);
    // Migrations run with enforcement off; the check before commit names the migration.
    assert!(
        run.stderr.contains(
            "migration `000004_orphan.up.sql` leaves 1 row(s) pointing at missing parents \
             (`posts` row 1 → `users`)"
        ),
        "{run}"
    );
}

#[test]
fn down_through_an_irreversible_migration_is_refused() {
    let sandbox = Sandbox::with_migrations();
    sandbox.write(
        "migrations/000003_tags.down.sql",
        "-- migrate:irreversible tags are shared with the billing system\n",
    );
    sandbox.run(&["up", "--database", "app.db"]).code(0);
    let run = sandbox.run(&["down", "--database", "app.db"]);
    run.code(1);
    snapshot!("down_irreversible", run);
    assert_eq!(recorded(&sandbox, "app.db"), Some((3, false)));
}

#[test]
fn force_recovers_a_dirty_database() {
    let sandbox = Sandbox::with_migrations();
    // A no-transaction migration that fails halfway leaves the database dirty.
    sandbox.write(
        "migrations/000004_rebuild.up.sql",
        "-- migrate:no-transaction\nCREATE TABLE archive (id INTEGER);\nINSERT INTO missing VALUES (1);\n",
    );
    sandbox.write(
        "migrations/000004_rebuild.down.sql",
        "DROP TABLE archive;\n",
    );
    let run = sandbox.run(&["up", "--database", "app.db"]);
    run.code(1);
    snapshot!("dirty_up", run);
    assert_eq!(recorded(&sandbox, "app.db"), Some((4, true)));

    let run = sandbox.run(&["status", "--database", "app.db"]);
    run.code(0);
    snapshot!("dirty_status", run);
    let run = sandbox.run(&["up", "--database", "app.db"]);
    run.code(1);
    snapshot!("dirty_up_refused", run);

    // Repair by hand: the schema matches version 3 again.
    sandbox
        .open("app.db")
        .execute_batch("DROP TABLE archive;")
        .unwrap();
    let run = sandbox.run(&["force", "3", "--database", "app.db"]);
    run.code(0);
    snapshot!("force", run);
    assert_eq!(recorded(&sandbox, "app.db"), Some((3, false)));

    sandbox.write(
        "migrations/000004_rebuild.up.sql",
        "-- migrate:no-transaction\nCREATE TABLE archive (id INTEGER);\n",
    );
    sandbox.run(&["up", "--database", "app.db"]).code(0);
    assert_eq!(recorded(&sandbox, "app.db"), Some((4, false)));
}

#[test]
fn force_json_and_force_zero() {
    let sandbox = Sandbox::with_migrations();
    sandbox.run(&["up", "--database", "app.db"]).code(0);
    let run = sandbox.run(&["force", "0", "--database", "app.db", "--json"]);
    run.code(0);
    snapshot!("force_zero_json", run);
    assert_eq!(recorded(&sandbox, "app.db"), None);
    let run = sandbox.run(&["force", "7", "--database", "app.db"]);
    run.code(1);
    snapshot!("force_unknown", run);
}

#[test]
fn a_broken_directory_stops_every_command_before_the_database() {
    let sandbox = Sandbox::with_migrations();
    std::fs::remove_file(sandbox.path("migrations/000002_posts.down.sql")).unwrap();
    for command in ["up", "down", "status", "version"] {
        let run = sandbox.run(&[command, "--database", "app.db"]);
        run.code(3);
        assert_eq!(
            run.stderr.lines().count(),
            1,
            "one problem, one line:\n{run}"
        );
    }
    let run = sandbox.run(&["to", "1", "--database", "app.db"]);
    run.code(3);
    snapshot!("broken_directory", run);
    let run = sandbox.run(&["force", "1", "--database", "app.db", "--json"]);
    run.code(3);
    snapshot!("broken_directory_json", run);
    assert!(!sandbox.exists("app.db"), "the database was never opened");
}

#[test]
fn progress_always_prints_one_line_per_migration_as_it_runs() {
    let sandbox = Sandbox::with_migrations();
    let run = sandbox.run(&["up", "--database", "app.db", "--progress", "always"]);
    run.code(0);
    assert_eq!(
        run.stderr,
        "progress: 1/3 ran: up 000001_users\n\
         progress: 2/3 ran: up 000002_posts\n\
         progress: 3/3 ran: up 000003_tags\n"
    );
    let run = sandbox.run(&["down", "2", "--database", "app.db", "--progress=always"]);
    run.code(0);
    assert_eq!(
        run.stderr,
        "progress: 1/2 ran: down 000003_tags\n\
         progress: 2/2 ran: down 000002_posts\n"
    );
    // Without a terminal, the default shows nothing.
    let run = sandbox.run(&["up", "--database", "app.db"]);
    run.code(0);
    assert_eq!(run.stderr, "");
}

#[test]
fn progress_moves_inside_the_shared_transaction_before_anything_commits() {
    let sandbox = Sandbox::with_migrations();
    sandbox.write(
        "migrations/000003_tags.up.sql",
        "CREATE TABLE tags (name TEXT PRIMARY KEY);\nINSERT INTO nowhere VALUES (1);\n",
    );
    let run = sandbox.run(&["up", "--database", "app.db", "--progress", "always"]);
    run.code(1);
    // The first two ran in the one transaction (and were rolled back with it): the steps
    // are reported as they run, not when the transaction commits.
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        lines[..2],
        [
            "progress: 1/3 ran: up 000001_users",
            "progress: 2/3 ran: up 000002_posts"
        ],
        "{run}"
    );
    assert!(lines[2].starts_with("error: "), "{run}");
    assert_eq!(recorded(&sandbox, "app.db"), None);
}

#[test]
fn up_n_applies_at_most_n_pending_migrations() {
    let sandbox = Sandbox::with_migrations();
    let run = sandbox.run(&["up", "2", "--database", "app.db"]);
    run.code(0);
    snapshot!("up_n", run);
    assert_eq!(recorded(&sandbox, "app.db"), Some((2, false)));
    // Counted from where the database is: one is left, though 2 are asked for.
    let run = sandbox.run(&["up", "2", "--database", "app.db", "--json"]);
    run.code(0);
    assert_eq!(
        run.json()["steps"].as_array().map(Vec::len),
        Some(1),
        "{run}"
    );
    assert_eq!(recorded(&sandbox, "app.db"), Some((3, false)));
    let run = sandbox.run(&["up", "0", "--database", "app.db"]);
    run.code(2);
    assert!(
        run.stderr
            .contains("N must be at least 1: `up N` applies at most N pending migrations"),
        "{run}"
    );
}

#[test]
fn goto_is_to() {
    let sandbox = Sandbox::with_migrations();
    sandbox.run(&["up", "--database", "app.db"]).code(0);
    let run = sandbox.run(&["goto", "1", "--database", "app.db"]);
    run.code(0);
    snapshot!("goto", run);
    assert_eq!(recorded(&sandbox, "app.db"), Some((1, false)));
}

#[test]
fn down_without_n_rolls_back_one_and_down_all_rolls_back_everything() {
    let sandbox = Sandbox::with_migrations();
    sandbox.run(&["up", "--database", "app.db"]).code(0);
    sandbox.run(&["down", "--database", "app.db"]).code(0);
    assert_eq!(recorded(&sandbox, "app.db"), Some((2, false)));
    let run = sandbox.run(&["down", "--all", "--database", "app.db"]);
    run.code(0);
    snapshot!("down_all", run);
    assert_eq!(recorded(&sandbox, "app.db"), None);
    let run = sandbox.run(&["down", "1", "--all", "--database", "app.db"]);
    run.code(2);
    assert!(run.stderr.contains("cannot be used with"), "{run}");
    // Like `down`, it never creates a missing database.
    let run = sandbox.run(&["down", "--all", "--database", "other.db"]);
    run.code(1);
    assert!(!sandbox.exists("other.db"));
}

/// Users, then a VACUUM outside a transaction, then a migration that fails.
fn split_then_failing() -> Sandbox {
    let sandbox = Sandbox::new();
    for (file, sql) in [
        (
            "000001_users.up.sql",
            "CREATE TABLE users (id INTEGER PRIMARY KEY);\n",
        ),
        ("000001_users.down.sql", "DROP TABLE users;\n"),
        (
            "000002_compact.up.sql",
            "-- migrate:no-transaction\nVACUUM;\n",
        ),
        (
            "000002_compact.down.sql",
            "-- migrate:irreversible VACUUM has nothing to undo\n",
        ),
        (
            "000003_tags.up.sql",
            "CREATE TABLE tags (name TEXT PRIMARY KEY);\nINSERT INTO labels VALUES (1);\n",
        ),
        ("000003_tags.down.sql", "DROP TABLE tags;\n"),
    ] {
        sandbox.write(&format!("migrations/{file}"), sql);
    }
    sandbox
}

#[test]
fn a_failed_run_says_what_it_committed_before_the_failure() {
    let sandbox = split_then_failing();
    let run = sandbox.run(&["up", "--database", "app.db"]);
    run.code(1);
    snapshot!("up_committed_before_failure", run);
    assert!(
        run.stderr.contains(
            "this run had already committed `000001_users.up.sql`, `000002_compact.up.sql`"
        ),
        "{run}"
    );
    assert_eq!(recorded(&sandbox, "app.db"), Some((2, false)));
}

#[test]
fn a_failed_run_in_json_lists_what_it_committed_and_where_it_left_the_database() {
    let sandbox = split_then_failing();
    let run = sandbox.run(&["up", "--database", "app.db", "--json"]);
    run.code(1);
    let error = &run.json()["error"];
    assert_eq!(error["kind"], "migration", "{run}");
    assert_eq!(
        error["committed"],
        serde_json::json!(["000001_users.up.sql", "000002_compact.up.sql"]),
        "{run}"
    );
    assert_eq!(
        error["left_at"],
        serde_json::json!({"version": 2, "dirty": false}),
        "{run}"
    );
    // A run in one transaction commits nothing: the list is there, and empty.
    let sandbox = Sandbox::with_migrations();
    sandbox.write(
        "migrations/000003_tags.up.sql",
        "CREATE TABLE tags (name TEXT PRIMARY KEY);\nINSERT INTO labels VALUES (1);\n",
    );
    let run = sandbox.run(&["up", "--database", "app.db", "--json"]);
    run.code(1);
    let error = &run.json()["error"];
    assert_eq!(error["committed"], serde_json::json!([]), "{run}");
    assert_eq!(
        error["left_at"],
        serde_json::json!({"version": null, "dirty": false}),
        "{run}"
    );
    // A refusal before anything ran has neither.
    let run = sandbox.run(&["to", "9", "--database", "app.db", "--json"]);
    run.code(1);
    let error = &run.json()["error"];
    assert!(
        error.get("committed").is_none() && error.get("left_at").is_none(),
        "{run}"
    );
}
