//! `up`, `down`, `to`, `force`, `status` and `version` on a real PostgreSQL server
//! (`MIGRATE_TEST_POSTGRES_URL`; each test creates and drops a database of its own): the
//! runtime's `PostgresMigrator` behind the same commands and output as on SQLite.

use crate::check_postgres::Database;
use crate::snapshot;
use crate::support::{Sandbox, workspace_file};

/// A sandbox whose `migrations/` holds the shop set, a PostgreSQL set of eight migrations
/// (an enum, a trigger in PL/pgSQL, a view, a `CREATE INDEX CONCURRENTLY` outside a
/// transaction).
fn shop() -> Sandbox {
    let sandbox = Sandbox::new();
    let dir = workspace_file("tests/sets/postgres_shop");
    for entry in std::fs::read_dir(&dir).expect("the shop set") {
        let path = entry.expect("a file of the shop set").path();
        let name = path.file_name().expect("a file name").to_string_lossy();
        let sql = std::fs::read_to_string(&path).expect("a readable file");
        sandbox.write(&format!("migrations/{name}"), &sql);
    }
    sandbox
}

/// The tables of the database's public schema but the version and history tables, sorted.
fn tables(db: &Database) -> Vec<String> {
    db.client()
        .query(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE' \
             AND table_name NOT LIKE 'schema_migrations%' ORDER BY 1",
            &[],
        )
        .expect("list the tables")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// The version table's row, as golang-migrate reads it.
fn recorded(db: &Database) -> Vec<(i64, bool)> {
    db.client()
        .query("SELECT version, dirty FROM schema_migrations", &[])
        .expect("read schema_migrations")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

#[test]
fn up_then_status_then_version_on_postgres() {
    let db = Database::new();
    let sandbox = shop();
    let run = db.run(&sandbox, &["up"]);
    run.code(0);
    snapshot!("postgres_up", run);
    assert_eq!(recorded(&db), vec![(8, false)]);
    assert!(tables(&db).contains(&"order_status_history".to_owned()));
    let run = db.run(&sandbox, &["status"]);
    run.code(0);
    snapshot!("postgres_status", run);
    let run = db.run(&sandbox, &["version"]);
    run.code(0);
    snapshot!("postgres_version", run);
    let run = db.run(&sandbox, &["up"]);
    run.code(0);
    assert_eq!(run.stdout, "up to date at 000008\n", "{run}");
}

#[test]
fn up_n_down_and_to_on_postgres() {
    let db = Database::new();
    let sandbox = shop();
    let run = db.run(&sandbox, &["up", "3", "--progress", "always"]);
    run.code(0);
    // Progress from the runtime's `on_step`, as on SQLite.
    assert!(
        run.stderr
            .contains("progress: 3/3 ran: up 000003_create_orders"),
        "{run}"
    );
    assert_eq!(recorded(&db), vec![(3, false)]);
    assert_eq!(
        tables(&db),
        ["customers", "order_lines", "orders", "products"]
    );
    let run = db.run(&sandbox, &["to", "7"]);
    run.code(0);
    assert_eq!(recorded(&db), vec![(7, false)]);
    let run = db.run(&sandbox, &["down", "2"]);
    run.code(0);
    snapshot!("postgres_down_2", run);
    assert_eq!(recorded(&db), vec![(5, false)]);
    assert!(!tables(&db).contains(&"order_status_history".to_owned()));
    db.run(&sandbox, &["to", "1"]).code(0);
    assert_eq!(tables(&db), ["customers"]);
    let run = db.run(&sandbox, &["down", "--all"]);
    run.code(0);
    assert_eq!(tables(&db), Vec::<String>::new(), "{run}");
    assert_eq!(recorded(&db), Vec::<(i64, bool)>::new());
    let run = db.run(&sandbox, &["to", "9"]);
    run.code(1);
    assert!(run.stderr.contains("000008"), "{run}");
}

#[test]
fn a_failing_migration_on_postgres_names_its_file_and_line_and_changes_nothing() {
    let db = Database::new();
    let sandbox = Sandbox::new();
    sandbox.write(
        "migrations/20240301090000_create_accounts.up.sql",
        "CREATE TABLE accounts (\n    id bigint PRIMARY KEY,\n    email text NOT NULL\n);\n",
    );
    sandbox.write(
        "migrations/20240301090000_create_accounts.down.sql",
        "DROP TABLE accounts;\n",
    );
    sandbox.write(
        "migrations/20240302100000_add_plan.up.sql",
        "ALTER TABLE accounts ADD COLUMN plan text;\n\nUPDATE acounts SET plan = 'free';\n",
    );
    sandbox.write(
        "migrations/20240302100000_add_plan.down.sql",
        "ALTER TABLE accounts DROP COLUMN plan;\n",
    );
    let run = db.run(&sandbox, &["up"]);
    run.code(1);
    snapshot!("postgres_failing_migration", run);
    // One transaction: the first migration is rolled back with the second.
    assert_eq!(tables(&db), Vec::<String>::new(), "{run}");
    let run = db.run(&sandbox, &["up", "--json"]);
    run.code(1);
    let json = run.json();
    assert_eq!(json["error"]["kind"], "migration", "{run}");
    assert_eq!(json["error"]["exit_code"], 1, "{run}");
}

#[test]
fn force_on_a_dirty_postgres_database_lets_up_run_again() {
    let db = Database::new();
    let sandbox = shop();
    db.run(&sandbox, &["up", "2"]).code(0);
    // What golang-migrate leaves when migration 3 fails.
    db.client()
        .batch_execute("UPDATE schema_migrations SET version = 3, dirty = true")
        .expect("mark the database dirty");
    let run = db.run(&sandbox, &["up"]);
    run.code(1);
    snapshot!("postgres_dirty_up", run);
    let run = db.run(&sandbox, &["version"]);
    run.code(0);
    assert!(run.stdout.starts_with("000003 (dirty)"), "{run}");
    let run = db.run(&sandbox, &["force", "2"]);
    run.code(0);
    snapshot!("postgres_force", run);
    assert_eq!(recorded(&db), vec![(2, false)]);
    db.run(&sandbox, &["up"]).code(0);
    assert_eq!(recorded(&db), vec![(8, false)]);
}

#[test]
fn json_on_postgres_reports_as_on_sqlite() {
    let db = Database::new();
    let sandbox = shop();
    let run = db.run(&sandbox, &["up", "--json"]);
    run.code(0);
    let json = run.json();
    assert_eq!(json["database"], "[server]", "{run}");
    assert_eq!(json["from"], serde_json::Value::Null, "{run}");
    assert_eq!(json["to"], 8, "{run}");
    assert_eq!(json["steps"].as_array().map(Vec::len), Some(8), "{run}");
    assert_eq!(json["steps"][6]["name"], "orders_customer_index", "{run}");
    let run = db.run(&sandbox, &["status", "--json"]);
    run.code(0);
    let json = run.json();
    assert_eq!(json["exists"], true, "{run}");
    assert_eq!(json["version"], 8, "{run}");
    assert_eq!(json["dirty"], false, "{run}");
    assert_eq!(json["migrations"][7]["state"], "applied", "{run}");
    let run = db.run(&sandbox, &["version", "--json"]);
    run.code(0);
    assert_eq!(run.json()["version"], 8, "{run}");
}

#[test]
fn database_url_and_its_migrations_table_reach_postgres() {
    let db = Database::new();
    let sandbox = shop();
    let url = format!("{}?x-migrations-table=shop_versions", db.url);
    let run = db.shown(
        sandbox.run_command(
            sandbox
                .command()
                .args(["up", "2"])
                .env("DATABASE_URL", &url),
        ),
    );
    run.code(0);
    let rows = db
        .client()
        .query("SELECT version, dirty FROM shop_versions", &[])
        .expect("the URL's version table");
    assert_eq!(rows.len(), 1, "{run}");
    assert_eq!(rows[0].get::<_, i64>(0), 2);
    // `.env`'s DATABASE_URL, as sqlx-cli reads it, reaches the same database.
    sandbox.write(".env", &format!("DATABASE_URL={url}\n"));
    let run = sandbox.run(&["version"]);
    run.code(0);
    assert_eq!(run.stdout, "000002\n", "{run}");
    let run = sandbox.run(&[
        "status",
        "--database",
        &format!("{}?x-multi-statement=true", db.url),
    ]);
    run.code(2);
    assert!(
        run.stderr
            .contains("sets `x-multi-statement`, golang-migrate PostgreSQL parameter"),
        "{run}"
    );
    let run = sandbox.run(&[
        "up",
        "--database",
        &format!("{}?_busy_timeout=5000", db.url),
    ]);
    run.code(2);
    assert!(run.stderr.contains("`_busy_timeout`"), "{run}");
    // Refused before connecting: no default version table was created.
    let default_table = db
        .client()
        .query(
            "SELECT 1 FROM information_schema.tables WHERE table_name = 'schema_migrations'",
            &[],
        )
        .expect("look for schema_migrations");
    assert!(default_table.is_empty(), "{run}");
}

#[test]
fn an_unreachable_postgres_server_is_named_without_its_password() {
    // Port 1 on loopback: nothing listens there.
    let run = shop().run(&["up", "--database", "postgres://app:secret@127.0.0.1:1/shop"]);
    run.code(1);
    assert!(!run.stderr.contains("secret"), "{run}");
    snapshot!("postgres_unreachable", run);
    let run = shop().run(&[
        "status",
        "--json",
        "--database",
        "postgresql://app:secret@127.0.0.1:1/shop",
    ]);
    run.code(1);
    assert_eq!(run.json()["error"]["kind"], "postgres_connect", "{run}");
    assert!(!run.stdout.contains("secret"), "{run}");
}
