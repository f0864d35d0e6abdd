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
            .env("DATABASE_URL", "mysql://app:s3cret@db.internal/app"),
    );
    run.code(2);
    snapshot!("database_url_mysql", run);
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
fn in_memory_lock_disabling_and_unknown_forms_are_refused_creating_nothing() {
    let sandbox = Sandbox::with_migrations();
    let mut stderr = String::new();
    for url in [
        "sqlite://",
        ":memory:",
        "sqlite::memory:",
        "file::memory:",
        "sqlite:file::memory:",
        "file:app.db?mode=memory",
        "file:app.db?nolock=1",
        "sqlite3://app.db?immutable=1&_journal_mode=OFF",
        "sqlite3://app.db?_auth_user=admin&_auth_pass=s3cret&x-multi-statement=1",
        "file://db.internal/app.db",
    ] {
        for command in ["up", "status"] {
            let run = sandbox.run(&[command, "--database", url]);
            run.code(2);
            assert!(!run.stderr.contains("s3cret"), "{run}");
            if command == "up" {
                stderr.push_str(&run.stderr);
            }
        }
    }
    snapshot!("database_refused_forms", stderr);
    assert_eq!(sandbox.list("."), ["migrations"]);
}

#[test]
fn a_file_uri_means_the_same_file_for_every_command() {
    let sandbox = Sandbox::with_migrations();
    std::fs::create_dir(sandbox.path("data")).unwrap();
    sandbox.run(&["up", "--database", "file:app.db"]).code(0);
    assert_eq!(sandbox.list("."), ["app.db", "data", "migrations"]);
    for url in [
        "file:app.db",
        "sqlite:file:app.db",
        "file:app.db?mode=ro",
        "app.db?cache=shared",
    ] {
        let run = sandbox.run(&["version", "--database", url]);
        assert_eq!(run.code(0).stdout, "000003\n", "{url}");
    }
    let run = sandbox.run(&["to", "1", "--database", "sqlite3://file:data/my%20app.db"]);
    run.code(0);
    assert_eq!(sandbox.list("data"), ["my app.db"]);
    let run = sandbox.run(&["version", "--database", "file:data/my%20app.db"]);
    assert_eq!(run.code(0).stdout, "000001\n");
}

#[test]
fn golang_migrate_urls_name_the_version_table() {
    let sandbox = Sandbox::with_migrations();
    let url = "sqlite3://app.db?x-migrations-table=app_versions&x-no-tx-wrap=true";
    sandbox.run(&["up", "--database", url]).code(0);
    let conn = sandbox.open("app.db");
    let version: i64 = conn
        .query_row("SELECT version FROM app_versions", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, 3);
    let run = sandbox.run(&["version", "--database", url]);
    assert_eq!(run.code(0).stdout, "000003\n");
    let run = sandbox.run(&["version", "--database", url, "--table", "app_versions"]);
    assert_eq!(run.code(0).stdout, "000003\n");
    let run = sandbox.run(&["down", "--database", url, "--table", "schema_migrations"]);
    run.code(2);
    snapshot!("database_table_conflict", run);
    let run = sandbox.run(&["version", "--database", "sqlite3://app.db"]);
    assert_eq!(
        run.code(0).stdout,
        "nothing applied\n",
        "the default table is another"
    );
}

#[test]
fn go_sqlite3_dsn_parameters_are_applied() {
    let sandbox = Sandbox::with_migrations();
    let dsn = "app.db?_journal_mode=WAL&_busy_timeout=5000&_foreign_keys=1&_sync=NORMAL&_loc=auto";
    sandbox.run(&["up", "--database", dsn]).code(0);
    let conn = sandbox.open("app.db");
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(
        mode, "wal",
        "the file was switched to WAL, as the Go service does"
    );
    let run = sandbox.run(&["status", "--database", dsn]);
    assert!(run.code(0).stdout.contains("3 applied, 0 pending"), "{run}");
}

#[test]
fn mode_ro_refuses_writes_and_mode_rw_never_creates() {
    let sandbox = Sandbox::with_migrations();
    let run = sandbox.run(&["up", "--database", "file:app.db?mode=rw"]);
    run.code(1);
    snapshot!("database_mode_rw_missing", run);
    let run = sandbox.run(&["status", "--database", "file:app.db?mode=ro"]);
    assert!(run.code(0).stdout.contains("(does not exist yet)"), "{run}");
    let run = sandbox.run(&["up", "--database", "sqlite://app.db?mode=ro"]);
    run.code(2);
    snapshot!("database_mode_ro_up", run);
    let run = sandbox.run(&["force", "1", "--database", "app.db?_query_only=true"]);
    run.code(2);
    assert_eq!(sandbox.list("."), ["migrations"], "nothing was created");
    sandbox.run(&["up", "--database", "app.db"]).code(0);
    let run = sandbox.run(&["down", "--database", "file:app.db?mode=rw"]);
    assert!(run.code(0).stdout.contains("000003 → 000002"), "{run}");
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
    assert_eq!(
        sandbox.list("."),
        ["migrations"],
        "refused before the file is created"
    );
}

#[test]
fn x_no_tx_wrap_is_explained_where_files_run_their_own_transaction() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "migrations/000001_users.up.sql",
        "BEGIN;\nCREATE TABLE users (id INTEGER PRIMARY KEY);\nCOMMIT;\n",
    );
    sandbox.write("migrations/000001_users.down.sql", "DROP TABLE users;\n");
    let url = "sqlite3://app.db?x-no-tx-wrap=true";
    let run = sandbox.run(&["up", "--database", url]);
    run.code(3);
    snapshot!("x_no_tx_wrap_own_transaction", run);
    assert_eq!(sandbox.list("."), ["migrations"]);
    // The directive is what lets a file run its own transaction, with or without the URL's.
    let up = sandbox.read("migrations/000001_users.up.sql");
    sandbox.write(
        "migrations/000001_users.up.sql",
        &format!("-- migrate:no-transaction\n{up}"),
    );
    sandbox.run(&["up", "--database", url]).code(0);
    let run = sandbox.run(&["version", "--database", "app.db"]);
    assert_eq!(run.code(0).stdout, "000001\n");
}

#[test]
fn database_url_is_read_from_dot_env_in_the_current_directory() {
    let sandbox = Sandbox::with_migrations();
    sandbox.write(
        ".env",
        "# development settings\nexport DATABASE_URL=\"sqlite://from_dot_env.db\"\nRUST_LOG=info\n",
    );
    let run = sandbox.run(&["up"]);
    run.code(0);
    assert!(sandbox.exists("from_dot_env.db"), "{run}");
    // The environment wins over `.env`, and `--database` over both.
    let run = sandbox.run_command(
        sandbox
            .command()
            .args(["version"])
            .env("DATABASE_URL", "from_env.db"),
    );
    run.code(0);
    assert_eq!(
        run.stdout,
        "nothing applied (`from_env.db` does not exist)\n"
    );
    let run = sandbox.run(&["version", "--database", "flag.db"]);
    assert_eq!(run.stdout, "nothing applied (`flag.db` does not exist)\n");
    let run = sandbox.run(&["version"]);
    assert_eq!(run.stdout, "000003\n");
    // Only the current directory's `.env`: not a parent's.
    sandbox.write("sub/migrations/.keep", "");
    let run = sandbox.run_command(
        sandbox
            .command()
            .args(["version"])
            .current_dir(sandbox.path("sub")),
    );
    run.code(2);
    assert!(run.stderr.contains("no database given"), "{run}");
}

#[test]
fn a_dot_env_url_is_refused_by_name_without_its_password() {
    let sandbox = Sandbox::with_migrations();
    sandbox.write(".env", "DATABASE_URL=mysql://app:hunter2@db.internal/app\n");
    let run = sandbox.run(&["status"]);
    run.code(2);
    assert!(
        run.stderr
            .contains("DATABASE_URL in .env uses the scheme `mysql`"),
        "{run}"
    );
    assert!(
        !run.stderr.contains("hunter2") && !run.stdout.contains("hunter2"),
        "{run}"
    );
    sandbox.write(".env", "DATABASE_URL=sqlite://${HOME}/app.db\n");
    let run = sandbox.run(&["status"]);
    run.code(2);
    snapshot!("dot_env_substitution", run);
    assert!(!sandbox.exists("${HOME}"));
}
