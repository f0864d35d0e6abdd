//! Where the database is (`--database`, `DATABASE_URL`), and the options every command takes
//! before or after its name.

use crate::snapshot;
use crate::support::Sandbox;

#[test]
fn database_url_accepts_sqlite_urls_and_plain_paths() {
    let sandbox = Sandbox::with_migrations();
    std::fs::create_dir(sandbox.path("data")).unwrap();
    let absolute = sandbox.path("data/absolute.db");
    let absolute_url = format!("sqlite://{}", absolute.display());
    for (url, file) in [
        ("sqlite://a.db", "a.db"),
        ("sqlite:b.db", "b.db"),
        ("sqlite3://data/c.db", "data/c.db"),
        ("d.db", "d.db"),
        (absolute_url.as_str(), "data/absolute.db"),
    ] {
        let run = sandbox.run_command(sandbox.command().arg("up").env("DATABASE_URL", url));
        run.code(0);
        assert!(sandbox.exists(file), "{url} → {file}\n{run}");
        let run = sandbox.run_command(sandbox.command().arg("version").env("DATABASE_URL", url));
        assert_eq!(run.code(0).stdout, "000003\n");
    }
}

#[test]
fn database_flag_wins_over_database_url() {
    let sandbox = Sandbox::with_migrations();
    let run = sandbox.run_command(
        sandbox
            .command()
            .args(["up", "--database", "flag.db"])
            .env("DATABASE_URL", "sqlite://env.db"),
    );
    run.code(0);
    assert!(sandbox.exists("flag.db"));
    assert!(!sandbox.exists("env.db"));
}

#[test]
fn other_schemes_are_refused_without_repeating_the_url() {
    let sandbox = Sandbox::with_migrations();
    let run = sandbox.run_command(
        sandbox
            .command()
            .arg("up")
            .env("DATABASE_URL", "postgres://app:s3cret@db.internal/app"),
    );
    run.code(2);
    snapshot!("database_url_postgres", run);
    let run = sandbox.run(&[
        "status",
        "--json",
        "--database",
        "mysql://root@localhost/app",
    ]);
    run.code(2);
    snapshot!("database_flag_mysql_json", run);
    assert_eq!(sandbox.list("."), ["migrations"]);
}

#[test]
fn query_parameters_empty_paths_and_memory_are_refused() {
    let sandbox = Sandbox::with_migrations();
    let mut stderr = String::new();
    for url in [
        "sqlite://app.db?mode=ro",
        "sqlite://",
        ":memory:",
        "sqlite::memory:",
    ] {
        let run = sandbox.run(&["up", "--database", url]);
        run.code(2);
        stderr.push_str(&run.stderr);
    }
    snapshot!("database_refused_forms", stderr);
    assert_eq!(sandbox.list("."), ["migrations"]);
}

#[test]
fn no_database_is_a_usage_error() {
    let sandbox = Sandbox::with_migrations();
    let run = sandbox.run(&["up"]);
    run.code(2);
    snapshot!("no_database", run);
    // An empty variable counts as unset.
    let run = sandbox.run_command(sandbox.command().arg("status").env("DATABASE_URL", ""));
    run.code(2);
}

#[test]
fn a_missing_directory_for_a_new_database_is_named() {
    let sandbox = Sandbox::with_migrations();
    let run = sandbox.run(&["up", "--database", "no-such-dir/app.db"]);
    run.code(1);
    snapshot!("database_missing_parent", run);
}

#[test]
fn options_go_before_or_after_the_command() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "db/m/000001_users.up.sql",
        "CREATE TABLE users (id INTEGER);\n",
    );
    sandbox.write("db/m/000001_users.down.sql", "DROP TABLE users;\n");
    let before = sandbox.run(&[
        "--dir",
        "db/m",
        "--database",
        "before.db",
        "--table",
        "app_versions",
        "--json",
        "up",
    ]);
    let after = sandbox.run(&[
        "up",
        "--dir",
        "db/m",
        "--database",
        "after.db",
        "--table",
        "app_versions",
        "--json",
    ]);
    let mixed = sandbox.run(&[
        "--dir",
        "db/m",
        "up",
        "--table",
        "app_versions",
        "--database",
        "mixed.db",
        "--json",
    ]);
    for (run, db) in [
        (before, "before.db"),
        (after, "after.db"),
        (mixed, "mixed.db"),
    ] {
        run.code(0);
        assert_eq!(run.json()["to"], 1, "{run}");
        let conn = sandbox.open(db);
        let version: i64 = conn
            .query_row("SELECT version FROM app_versions", [], |row| row.get(0))
            .unwrap();
        assert_eq!(version, 1);
        let golang_table: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'schema_migrations'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(golang_table, 0, "the default table is not created");
    }
    let run = sandbox.run(&["status", "--database", "after.db", "--dir", "db/m"]);
    run.code(0);
    assert!(run.stdout.contains("version   nothing applied"), "{run}");
    let run = sandbox.run(&[
        "status",
        "--database",
        "after.db",
        "--dir",
        "db/m",
        "--table",
        "app_versions",
    ]);
    run.code(0);
    assert!(run.stdout.contains("version   000001"), "{run}");
}

#[test]
fn an_invalid_table_name_is_a_usage_error() {
    let sandbox = Sandbox::with_migrations();
    let run = sandbox.run(&[
        "up",
        "--database",
        "app.db",
        "--table",
        "x; DROP TABLE users",
    ]);
    run.code(2);
    snapshot!("invalid_table_name", run);
}
