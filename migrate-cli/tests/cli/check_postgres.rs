//! `check --verify --database postgres://…`: verification on a real PostgreSQL server
//! (`MIGRATE_TEST_POSTGRES_URL`; each test creates and drops a database of its own).

use crate::snapshot;
use crate::support::{Run, Sandbox, workspace_file};

/// A database of the test's own, dropped at the end.
pub(crate) struct Database {
    config: postgres::Config,
    name: String,
    /// The URL of the test's database.
    pub(crate) url: String,
}

impl Database {
    /// Creates a database of its own on `MIGRATE_TEST_POSTGRES_URL`'s server; panics (the
    /// test fails) when the variable is not set.
    pub(crate) fn new() -> Database {
        let url = std::env::var("MIGRATE_TEST_POSTGRES_URL").unwrap_or_else(|_| {
            panic!(
                "MIGRATE_TEST_POSTGRES_URL is not set: these tests need a PostgreSQL server. \
                 Start a throwaway one with `eval \"$(scripts/postgres-test-server start /tmp/pg)\"` \
                 (it prints the variable to export), or set it to a server where this user may \
                 create databases"
            )
        });
        let config: postgres::Config = url.parse().expect("MIGRATE_TEST_POSTGRES_URL is a URL");
        let name = format!(
            "migrate_cli_test_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("the clock is after 1970")
                .as_nanos()
        );
        let mut admin = config
            .connect(postgres::NoTls)
            .expect("connect to the test server");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create the test's database");
        let (base, _) = url.rsplit_once('/').expect("a URL with a database");
        Database {
            url: format!("{base}/{name}"),
            config,
            name,
        }
    }

    /// Runs `check --verify --database <this database>`, with the URL shown as `[server]`.
    fn check(&self, sandbox: &Sandbox, more: &[&str]) -> Run {
        let mut args = vec!["check", "--verify"];
        args.extend(more);
        self.run(sandbox, &args)
    }

    /// Runs `args --database <this database>`, with the URL shown as `[server]`.
    pub(crate) fn run(&self, sandbox: &Sandbox, args: &[&str]) -> Run {
        let mut args = args.to_vec();
        args.extend(["--database", &self.url]);
        let run = sandbox.run(&args);
        self.shown(run)
    }

    /// `run` with this database's URL (as the CLI shows it) replaced by `[server]`.
    pub(crate) fn shown(&self, run: Run) -> Run {
        let shown = self.url.replace("postgresql://", "postgres://");
        Run {
            stdout: run.stdout.replace(&shown, "[server]"),
            stderr: run.stderr.replace(&shown, "[server]"),
            ..run
        }
    }
}

impl Database {
    /// A client of the test's database, to look at or prepare what the CLI sees.
    pub(crate) fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls)
            .expect("connect to the test's database")
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Ok(mut admin) = self.config.connect(postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// A sandbox whose `migrations/` holds the runtime's PostgreSQL test set.
fn shop() -> Sandbox {
    let sandbox = Sandbox::new();
    let dir = workspace_file("migrate-runtime/tests/postgres_shop");
    for entry in std::fs::read_dir(&dir).expect("the shop set") {
        let path = entry.expect("a file of the shop set").path();
        let name = path.file_name().expect("a file name").to_string_lossy();
        let sql = std::fs::read_to_string(&path).expect("a readable file");
        sandbox.write(&format!("migrations/{name}"), &sql);
    }
    sandbox
}

#[test]
fn check_verify_on_postgres_passes_and_says_what_it_ran_differently() {
    let db = Database::new();
    let run = db.check(&shop(), &[]);
    run.code(0);
    snapshot!("check_postgres_ok", run);
    let run = db.check(&shop(), &["--json"]);
    run.code(0);
    let json = run.json();
    assert_eq!(json["verified"], true, "{run}");
    assert_eq!(json["verified_on"], "[server]", "{run}");
    assert_eq!(json["notes"].as_array().map(Vec::len), Some(2), "{run}");
}

#[test]
fn check_verify_on_postgres_reports_each_down_that_does_not_undo_its_up() {
    let db = Database::new();
    let sandbox = shop();
    sandbox.write(
        "migrations/20240103100000_updated_at.down.sql",
        "DROP VIEW open_orders;\nDROP TRIGGER orders_touch ON orders;\nALTER TABLE orders DROP COLUMN updated_at;\n",
    );
    sandbox.write(
        "migrations/20240105150000_split_names.down.sql",
        "ALTER TABLE customers ADD COLUMN full_name text;\nUPDATE customers SET full_name = given_name;\nALTER TABLE customers ALTER COLUMN full_name SET NOT NULL;\nALTER TABLE customers DROP COLUMN given_name, DROP COLUMN family_name;\n",
    );
    let run = db.check(&sandbox, &[]);
    run.code(3);
    snapshot!("check_postgres_findings", run);
}

#[test]
fn check_verify_on_an_unreachable_postgres_server_fails_with_what_to_check() {
    // Port 1 on loopback: nothing listens there.
    let run = shop().run(&[
        "check",
        "--verify",
        "--database",
        "postgres://app:secret@127.0.0.1:1/shop",
    ]);
    run.code(1);
    assert!(!run.stderr.contains("secret"), "{run}");
    snapshot!("check_postgres_unreachable", run);
}

#[test]
fn check_verify_on_postgres_refuses_sqlite_declarations() {
    let run = shop().run(&[
        "check",
        "--verify",
        "--database",
        "postgres://app@127.0.0.1:1/shop",
        "--function",
        "slugify/1",
    ]);
    run.code(2);
    snapshot!("check_postgres_sqlite_declaration", run);
}

#[test]
fn check_with_a_postgres_database_applies_postgres_rules_without_connecting() {
    // A PL/pgSQL body's `END;` is not a transaction's end on PostgreSQL.
    let run = shop().run(&["check", "--database", "postgres://app@127.0.0.1:1/shop"]);
    run.code(0);
    let run = shop().run(&["check"]);
    run.code(3);
    assert!(run.stderr.contains("`END`"), "{run}");
}
