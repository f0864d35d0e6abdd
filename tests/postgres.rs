//! The runtime on a real PostgreSQL server: golang-migrate's layout and lock, one transaction
//! per run, line numbers in errors, the dirty protocol around `-- migrate:no-transaction`
//! (`CREATE INDEX CONCURRENTLY`), drift, the lock timeout's message, the async API under
//! tokio, and several processes starting `up` at once on one database.
//!
//! The server comes from `MIGRATE_TEST_POSTGRES_URL` (a superuser's URL); each test creates a
//! database of its own and drops it afterwards, so the tests run in parallel. Start one with
//!
//! ```text
//! eval "$(scripts/postgres-test-server start /tmp/migrate-pg)"
//! cargo test --test postgres
//! scripts/postgres-test-server stop /tmp/migrate-pg
//! ```
//!
//! Without the variable every test fails and says so: a suite that passes without a server
//! would prove nothing.

mod support;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use migrate_runtime::postgres::{Client, NoTls};
use migrate_runtime::{Database, DirtyOrigin, Error, LeftAt, Migrations, Options};
use support::{Output, WorkerProcess};
use tempfile::TempDir;

const URL_VAR: &str = "MIGRATE_TEST_POSTGRES_URL";

/// The server's URL, or a failure saying how to start one.
fn server_url() -> String {
    std::env::var(URL_VAR).unwrap_or_else(|_| {
        panic!(
            "{URL_VAR} is not set: these tests need a PostgreSQL server. Start a throwaway one \
             with `eval \"$(scripts/postgres-test-server start /tmp/migrate-pg)\"` (needs \
             Debian's `postgresql` package: `apt-get install postgresql`), then run the tests \
             again; stop it with `scripts/postgres-test-server stop /tmp/migrate-pg`"
        )
    })
}

/// `url` with its database replaced by `database`.
fn url_for(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let base = base.rsplit_once('/').map_or(base, |(base, _)| base);
    format!("{base}/{database}{query}")
}

/// A database of the test's own, dropped at the end.
struct TestDb {
    name: String,
    url: String,
}

impl TestDb {
    fn new(tag: &str) -> TestDb {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "migrate_{tag}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        TestDb::named(&name)
    }

    /// A database with a fixed name (dropped first if a failed run left it).
    fn named(name: &str) -> TestDb {
        let server = server_url();
        let mut admin = Client::connect(&server, NoTls).expect("connecting to the test server");
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .expect("dropping what a failed run left");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("creating the test database");
        TestDb {
            name: name.to_owned(),
            url: url_for(&server, name),
        }
    }

    fn connect(&self) -> Client {
        Client::connect(&self.url, NoTls).expect("connecting to the test database")
    }

    fn connect_as(&self, application: &str) -> Client {
        let separator = if self.url.contains('?') { '&' } else { '?' };
        Client::connect(
            &format!("{}{separator}application_name={application}", self.url),
            NoTls,
        )
        .expect("connecting to the test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = Client::connect(&server_url(), NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// Writes `files` (name, contents) to a fresh directory and loads them as a set.
fn set(files: &[(&str, &str)]) -> (TempDir, Migrations) {
    let dir = TempDir::new().expect("a temporary directory");
    write_files(dir.path(), files);
    let migrations =
        Migrations::from_dir_for(dir.path(), Database::Postgres).unwrap_or_else(|p| panic!("{p}"));
    (dir, migrations)
}

fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (name, contents) in files {
        fs::write(dir.join(name), contents).expect("writing a migration");
    }
}

/// A small shop: customers, orders with a foreign key, and a data migration.
const SHOP: &[(&str, &str)] = &[
    (
        "20240101120000_customers.up.sql",
        "CREATE TABLE customers (\n    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n    \
         email text NOT NULL UNIQUE,\n    created_at timestamptz NOT NULL DEFAULT now()\n);\n",
    ),
    (
        "20240101120000_customers.down.sql",
        "DROP TABLE customers;\n",
    ),
    (
        "20240205093000_orders.up.sql",
        "CREATE TYPE order_state AS ENUM ('open', 'paid', 'shipped');\n\
         CREATE TABLE orders (\n    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n    \
         customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,\n    \
         state order_state NOT NULL DEFAULT 'open',\n    total numeric(12, 2) NOT NULL CHECK (total >= 0)\n);\n\
         COMMENT ON TABLE orders IS 'one row per checkout; see $$docs$$';\n",
    ),
    (
        "20240205093000_orders.down.sql",
        "DROP TABLE orders;\nDROP TYPE order_state;\n",
    ),
    (
        "20240310170000_seed_customers.up.sql",
        "INSERT INTO customers (email)\nSELECT 'customer' || n || '@example.com' FROM generate_series(1, 50) AS n;\n",
    ),
    (
        "20240310170000_seed_customers.down.sql",
        "DELETE FROM customers WHERE email LIKE 'customer%@example.com';\n",
    ),
];

fn scalar_i64(client: &mut Client, sql: &str) -> i64 {
    client
        .query_one(sql, &[])
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get(0)
}

#[test]
fn the_version_table_is_golang_migrates_to_the_letter() {
    let db = TestDb::new("layout");
    let (_dir, migrations) = set(SHOP);
    let mut client = db.connect();
    let report = migrations.postgres().up(&mut client).unwrap();
    assert_eq!(report.to, Some(20240310170000));
    assert_eq!(report.steps.len(), 3);

    // The table golang-migrate's postgres driver creates, with its own DDL, beside ours.
    client
        .batch_execute(
            "CREATE SCHEMA golang; \
             CREATE TABLE IF NOT EXISTS \"golang\".\"schema_migrations\" (version bigint not null primary key, dirty boolean not null)",
        )
        .unwrap();
    let describe = |client: &mut Client, schema: &str| -> Vec<String> {
        let mut rows: Vec<String> = client
            .query(
                "SELECT column_name::text, data_type::text, is_nullable::text, \
                 coalesce(column_default, ''), ordinal_position::int FROM information_schema.columns \
                 WHERE table_schema = $1 AND table_name = 'schema_migrations' ORDER BY ordinal_position",
                &[&schema],
            )
            .unwrap()
            .iter()
            .map(|r| {
                format!(
                    "{} {} nullable={} default={:?} #{}",
                    r.get::<_, String>(0),
                    r.get::<_, String>(1),
                    r.get::<_, String>(2),
                    r.get::<_, String>(3),
                    r.get::<_, i32>(4)
                )
            })
            .collect();
        rows.extend(
            client
                .query(
                    "SELECT contype::text, pg_get_constraintdef(c.oid) FROM pg_constraint c \
                     JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
                     WHERE n.nspname = $1 AND t.relname = 'schema_migrations' ORDER BY 1, 2",
                    &[&schema],
                )
                .unwrap()
                .iter()
                .map(|r| format!("{} {}", r.get::<_, String>(0), r.get::<_, String>(1))),
        );
        rows
    };
    let ours = describe(&mut client, "public");
    assert_eq!(
        ours,
        [
            "version bigint nullable=NO default=\"\" #1",
            "dirty boolean nullable=NO default=\"\" #2",
            "p PRIMARY KEY (version)",
        ]
    );
    assert_eq!(ours, describe(&mut client, "golang"));
    let row = client
        .query_one("SELECT version, dirty FROM public.schema_migrations", &[])
        .unwrap();
    assert_eq!(
        (row.get::<_, i64>(0), row.get::<_, bool>(1)),
        (20240310170000, false)
    );
    assert_eq!(
        scalar_i64(&mut client, "SELECT count(*) FROM schema_migrations"),
        1
    );
    // The history beside it, in PostgreSQL's types, one row per run.
    let columns: Vec<String> = client
        .query(
            "SELECT column_name::text || ' ' || data_type::text FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = 'schema_migrations_history' \
             ORDER BY ordinal_position",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        columns,
        [
            "id bigint",
            "version bigint",
            "name text",
            "direction text",
            "checksum text",
            "lineage text",
            "applied_at timestamp with time zone",
            "duration_ms double precision",
            "down_checksum text",
            "finished smallint",
        ]
    );
    assert_eq!(
        scalar_i64(
            &mut client,
            "SELECT count(*) FROM schema_migrations_history WHERE direction = 'up' AND finished = 1"
        ),
        3
    );
}

#[test]
fn a_database_golang_migrate_left_continues_and_the_idle_path_writes_nothing() {
    let db = TestDb::new("adopt");
    let (_dir, migrations) = set(SHOP);
    let mut client = db.connect();
    // As golang-migrate leaves a database after its first two migrations.
    client
        .batch_execute(&format!(
            "{}\n{}\nCREATE TABLE IF NOT EXISTS \"public\".\"schema_migrations\" (version bigint not null primary key, dirty boolean not null);\n\
             TRUNCATE \"public\".\"schema_migrations\";\n\
             INSERT INTO \"public\".\"schema_migrations\" (version, dirty) VALUES (20240205093000, false);",
            SHOP[0].1, SHOP[2].1
        ))
        .unwrap();
    let report = migrations.postgres().up(&mut client).unwrap();
    assert_eq!(report.from, Some(20240205093000));
    assert_eq!(report.steps.len(), 1);
    assert_eq!(
        scalar_i64(&mut client, "SELECT count(*) FROM customers"),
        50
    );

    // A role that can only read: the idle `up` and `status` work, and nothing is written.
    client
        .batch_execute(
            "CREATE ROLE reader LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader",
        )
        .unwrap();
    let server = server_url();
    let reader_url = url_for(&server, &db.name).replacen("postgres@", "reader@", 1);
    let mut reader = Client::connect(&reader_url, NoTls).unwrap();
    let report = migrations.postgres().up(&mut reader).unwrap();
    assert!(report.is_empty(), "{report}");
    assert_eq!(report.to, Some(20240310170000));
    let status = migrations.postgres().status(&mut reader).unwrap();
    assert_eq!(status.pending().count(), 0);
    drop(reader);
    client
        .batch_execute(
            "REASSIGN OWNED BY reader TO postgres; DROP OWNED BY reader; DROP ROLE reader",
        )
        .unwrap();
}

#[test]
fn all_pending_migrations_run_in_one_transaction() {
    let db = TestDb::new("atomic");
    let mut files = SHOP.to_vec();
    files[4] = (
        "20240310170000_seed_customers.up.sql",
        "INSERT INTO customers (email) VALUES ('a@example.com');\n\
         INSERT INTO customers (email) VALUES ('a@example.com');\n",
    );
    let (_dir, migrations) = set(&files);
    let mut client = db.connect();
    let error = migrations.postgres().up(&mut client).unwrap_err();
    let Error::Migration {
        file,
        line,
        left_at,
        message,
        ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(file, "20240310170000_seed_customers.up.sql");
    assert_eq!(*line, 2, "{error}");
    assert_eq!(*left_at, LeftAt::Clean(None));
    assert!(
        message.contains("duplicate key value violates unique constraint"),
        "{error}"
    );
    assert!(
        message.contains("(detail: Key (email)=(a@example.com) already exists.)"),
        "{error}"
    );
    assert!(error.to_string().ends_with(
        "it was rolled back and the database is at nothing applied, not dirty: fix the migration and run again"
    ), "{error}");
    // Neither the first two migrations nor the version table survived.
    assert_eq!(
        scalar_i64(
            &mut client,
            "SELECT count(*) FROM pg_class WHERE relname IN ('customers', 'orders', 'schema_migrations', 'schema_migrations_history')"
        ),
        0
    );
    // The lock was released on the way out.
    assert_eq!(
        scalar_i64(
            &mut client,
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        ),
        0
    );
    println!("{error}");
}

#[test]
fn errors_name_the_line_within_the_file() {
    let db = TestDb::new("lines");
    let (_dir, migrations) = set(&[
        (
            "000001_a.up.sql",
            "CREATE TABLE a (x int);\n\n-- the next one is misspelt\nINSERT INTO a VALUES (1);\nSELEC x FROM a;\n",
        ),
        ("000001_a.down.sql", "DROP TABLE a;\n"),
        (
            "000002_b.up.sql",
            "-- ünïcödé before the error moves no line\nCREATE TABLE b (y int);\nINSERT INTO b\n  SELECT 1 / 0;\n",
        ),
        ("000002_b.down.sql", "DROP TABLE b;\n"),
    ]);
    let mut client = db.connect();
    let error = migrations.postgres().up(&mut client).unwrap_err();
    let Error::Migration {
        line,
        column,
        statement,
        message,
        ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!((*line, *column), (5, Some(1)), "{error}");
    assert_eq!(statement, "SELEC x FROM a;");
    assert_eq!(message, "syntax error at or near \"SELEC\"");
    println!("{error}");

    // An error without a position is found by running the statements again one at a time.
    let (_dir2, migrations) = set(&[
        ("000001_a.up.sql", "CREATE TABLE a (x int);\n"),
        ("000001_a.down.sql", "DROP TABLE a;\n"),
        (
            "000002_b.up.sql",
            "-- ünïcödé before the error moves no line\nCREATE TABLE b (y int);\nINSERT INTO b\n  SELECT 1 / 0;\n",
        ),
        ("000002_b.down.sql", "DROP TABLE b;\n"),
    ]);
    let error = migrations.postgres().up(&mut client).unwrap_err();
    let Error::Migration {
        file,
        line,
        column,
        message,
        ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(file, "000002_b.up.sql");
    assert_eq!((*line, *column), (3, None), "{error}");
    assert_eq!(message, "division by zero");
    println!("{error}");
    assert_eq!(
        migrations.postgres().version(&mut client).unwrap().version,
        None
    );

    // A no-transaction script's statements are sent one at a time: positions count from the
    // failing one's text, lines from the file's start.
    let (_dir3, migrations) = set(&[
        ("000001_a.up.sql", "CREATE TABLE a (x int);\n"),
        ("000001_a.down.sql", "DROP TABLE a;\n"),
        (
            "000002_b.up.sql",
            "-- migrate:no-transaction\nCREATE INDEX CONCURRENTLY a_x ON a (x);\n\n  -- next\n  CREATE INDEX CONCURRENTLY a_y ON a (x) WHER x > 0;\n",
        ),
        (
            "000002_b.down.sql",
            "-- migrate:no-transaction\nDROP INDEX CONCURRENTLY a_x;\n",
        ),
    ]);
    let error = migrations.postgres().up(&mut client).unwrap_err();
    let Error::Migration {
        file,
        line,
        column,
        message,
        left_at,
        ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(file, "000002_b.up.sql");
    assert_eq!((*line, *column), (5, Some(42)), "{error}");
    assert_eq!(message, "syntax error at or near \"WHER\"");
    assert_eq!(*left_at, LeftAt::Dirty(Some(2)));
    println!("{error}");
}

const CONCURRENT_INDEX: &[(&str, &str)] = &[
    (
        "000001_items.up.sql",
        "CREATE TABLE items (id int PRIMARY KEY, sku text NOT NULL, label text);\nINSERT INTO items SELECT n, 'sku-' || n, NULL FROM generate_series(1, 100) AS n;\n",
    ),
    ("000001_items.down.sql", "DROP TABLE items;\n"),
    (
        "000002_sku_index.up.sql",
        "-- migrate:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY items_sku ON items (sku);\nCREATE INDEX CONCURRENTLY items_label ON items (label);\n",
    ),
    (
        "000002_sku_index.down.sql",
        "-- migrate:no-transaction\nDROP INDEX CONCURRENTLY items_label;\nDROP INDEX CONCURRENTLY items_sku;\n",
    ),
    (
        "000003_more.up.sql",
        "ALTER TABLE items ADD COLUMN price numeric;\n",
    ),
    (
        "000003_more.down.sql",
        "ALTER TABLE items DROP COLUMN price;\n",
    ),
];

#[test]
fn create_index_concurrently_runs_with_the_dirty_protocol() {
    let db = TestDb::new("concurrently");
    let (_dir, migrations) = set(CONCURRENT_INDEX);
    let mut client = db.connect();
    let report = migrations.postgres().up(&mut client).unwrap();
    assert_eq!(report.steps.len(), 3, "{report}");
    assert_eq!(
        scalar_i64(
            &mut client,
            "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname IN ('items_sku', 'items_label') AND i.indisvalid"
        ),
        2
    );
    let report = migrations.postgres().down(&mut client, 2).unwrap();
    assert_eq!(report.to, Some(1), "{report}");
    assert_eq!(
        scalar_i64(
            &mut client,
            "SELECT count(*) FROM pg_class WHERE relname LIKE 'items_%'"
        ),
        1,
        "only items_pkey"
    );

    // The second index fails (duplicate skus): the first stays, the version is dirty.
    client
        .batch_execute("UPDATE items SET sku = 'same' WHERE id <= 2")
        .unwrap();
    let error = migrations.postgres().up(&mut client).unwrap_err();
    let Error::Migration {
        file,
        line,
        left_at,
        ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(file, "000002_sku_index.up.sql");
    assert_eq!(*line, 2, "{error}");
    assert_eq!(*left_at, LeftAt::Dirty(Some(2)));
    assert_eq!(error.left_at(), Some(LeftAt::Dirty(Some(2))));
    assert!(error.committed().is_empty());
    println!("{error}");
    let state = migrations.postgres().version(&mut client).unwrap();
    assert!(state.dirty && state.version == Some(2), "{state:?}");

    // The next run refuses, naming the unfinished migration, and `force` repairs.
    let error = migrations.postgres().up(&mut client).unwrap_err();
    assert!(
        matches!(&error, Error::Dirty { origin: DirtyOrigin::Unfinished { file, .. }, .. } if file == "000002_sku_index.up.sql"),
        "{error:?}"
    );
    println!("{error}");
    client
        .batch_execute("DROP INDEX items_sku; UPDATE items SET sku = 'sku-' || id")
        .unwrap();
    migrations.postgres().force(&mut client, 1).unwrap();
    let report = migrations.postgres().up(&mut client).unwrap();
    assert_eq!(report.to, Some(3), "{report}");
    let status = migrations.postgres().status(&mut client).unwrap();
    assert!(!status.dirty && status.pending().count() == 0, "{status}");
}

#[test]
fn a_no_transaction_migration_after_others_commits_them_first() {
    let db = TestDb::new("split");
    let mut files = CONCURRENT_INDEX.to_vec();
    files[2].1 = "-- migrate:no-transaction\nCREATE INDEX CONCURRENTLY items_label ON items (label);\nCREATE INDEX CONCURRENTLY items_missing ON missing (x);\n";
    let (_dir, migrations) = set(&files);
    let mut client = db.connect();
    let error = migrations.postgres().up(&mut client).unwrap_err();
    assert_eq!(error.committed(), ["000001_items.up.sql"]);
    assert_eq!(error.left_at(), Some(LeftAt::Dirty(Some(2))));
    let text = error.to_string();
    assert!(
        text.contains(
            "failed at line 3 (`CREATE INDEX CONCURRENTLY items_missing ON missing (x);`)"
        ),
        "{text}"
    );
    assert!(
        text.contains("relation \"missing\" does not exist"),
        "{text}"
    );
    assert!(
        text.contains(
            "dirty at version 000002 (this run committed `000001_items.up.sql` before it)"
        ),
        "{text}"
    );
    println!("{text}");
}

#[test]
fn a_no_transaction_migration_that_leaves_a_transaction_open_is_rolled_back_and_named() {
    let db = TestDb::new("leftopen");
    let (_dir, migrations) = set(&[
        ("000001_a.up.sql", "CREATE TABLE a (x int);\n"),
        ("000001_a.down.sql", "DROP TABLE a;\n"),
        (
            "000002_b.up.sql",
            "-- migrate:no-transaction\nBEGIN;\nCREATE TABLE b (y int);\n",
        ),
        ("000002_b.down.sql", "DROP TABLE b;\n"),
    ]);
    let mut client = db.connect();
    let error = migrations.postgres().up(&mut client).unwrap_err();
    assert!(
        matches!(&error, Error::EndsTransaction { file, left_at: LeftAt::Dirty(Some(2)), .. } if file == "000002_b.up.sql"),
        "{error:?}"
    );
    assert_eq!(error.committed(), ["000001_a.up.sql"]);
    println!("{error}");
    // Its transaction was rolled back (no `b`), and the session is usable: `force` works.
    assert_eq!(
        scalar_i64(
            &mut client,
            "SELECT count(*) FROM pg_class WHERE relname = 'b'"
        ),
        0
    );
    migrations.postgres().force(&mut client, 1).unwrap();
    assert_eq!(
        scalar_i64(
            &mut client,
            "SELECT count(*) FROM pg_class WHERE relname = 'b'"
        ),
        0
    );
    let state = migrations.postgres().version(&mut client).unwrap();
    assert_eq!((state.version, state.dirty), (Some(1), false));
}

#[test]
fn a_run_refuses_the_callers_open_transaction_and_changes_nothing() {
    let db = TestDb::new("callers");
    let (_dir, migrations) = set(SHOP);
    let mut client = db.connect();
    client
        .batch_execute("BEGIN; CREATE TABLE mine (x int)")
        .unwrap();
    let error = migrations.postgres().up(&mut client).unwrap_err();
    assert!(matches!(error, Error::CallersTransaction), "{error:?}");
    println!("{error}");
    // Still the caller's transaction: rolling it back leaves nothing, of theirs or ours.
    client.batch_execute("ROLLBACK").unwrap();
    assert_eq!(
        scalar_i64(
            &mut client,
            "SELECT count(*) FROM pg_class WHERE relname IN ('mine', 'customers', 'schema_migrations')"
        ),
        0
    );
}

#[test]
fn an_applied_migration_edited_since_is_refused() {
    let db = TestDb::new("drift");
    let (dir, migrations) = set(SHOP);
    let mut client = db.connect();
    migrations.postgres().up(&mut client).unwrap();
    write_files(
        dir.path(),
        &[(
            "20240205093000_orders.up.sql",
            &SHOP[2].1.replace("numeric(12, 2)", "numeric(14, 2)"),
        )],
    );
    let edited = Migrations::from_dir_for(dir.path(), Database::Postgres).unwrap();
    let error = edited.postgres().up_by(&mut client, 1).unwrap_err();
    let Error::Changed { changed, table } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].file, "20240205093000_orders.up.sql");
    assert_eq!(table, "schema_migrations_history");
    println!("{error}");
    // Accepted on request; and a later down runs.
    let report = edited
        .with_options(Options::new().allow_changed_migrations(true))
        .postgres()
        .to(&mut client, 20240101120000)
        .unwrap();
    assert_eq!(report.steps.len(), 2, "{report}");
}

#[test]
fn a_migration_merged_late_below_the_version_is_refused() {
    let db = TestDb::new("skipped");
    let without: Vec<(&str, &str)> = SHOP
        .iter()
        .copied()
        .filter(|(name, _)| !name.contains("orders"))
        .collect();
    let (_dir, first) = set(&without);
    let mut client = db.connect();
    first.postgres().up(&mut client).unwrap();
    let (_dir2, all) = set(SHOP);
    let error = all.postgres().up(&mut client).unwrap_err();
    let Error::Skipped {
        skipped, database, ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(
        skipped,
        &[(20240205093000, "20240205093000_orders.up.sql".to_owned())]
    );
    assert_eq!(*database, 20240310170000);
    assert_eq!(
        all.postgres()
            .status(&mut client)
            .unwrap()
            .pending()
            .count(),
        1
    );
    println!("{error}");
}

#[test]
fn options_apply_as_on_sqlite_baseline_commit_each_and_on_step() {
    let db = TestDb::new("options");
    let mut client = db.connect();
    // A legacy database that already has the first migration's schema.
    client.batch_execute(SHOP[0].1).unwrap();
    let (_dir, migrations) = set(SHOP);
    let steps = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = std::sync::Arc::clone(&steps);
    let report = migrations
        .with_options(
            Options::new()
                .baseline_if_table_exists("customers", 20240101120000)
                .on_step(move |step| seen.lock().unwrap().push(step.version)),
        )
        .postgres()
        .up(&mut client)
        .unwrap();
    assert_eq!(report.from, Some(20240101120000), "{report}");
    assert_eq!(report.steps.len(), 2, "{report}");
    assert_eq!(*steps.lock().unwrap(), [20240205093000, 20240310170000]);

    // Each migration committed on its own: a failure keeps the ones before it.
    let db = TestDb::new("commiteach");
    let mut client = db.connect();
    let mut files = SHOP.to_vec();
    files[4].1 = "INSERT INTO missing VALUES (1);\n";
    let (_dir2, failing) = set(&files);
    let error = failing
        .with_options(Options::new().commit_each_migration(true))
        .postgres()
        .up(&mut client)
        .unwrap_err();
    assert_eq!(
        error.committed(),
        [
            "20240101120000_customers.up.sql",
            "20240205093000_orders.up.sql"
        ]
    );
    assert_eq!(error.left_at(), Some(LeftAt::Clean(Some(20240205093000))));
    println!("{error}");
}

/// The database of the lock test has a fixed name, so golang-migrate's keys for it are
/// constants computed outside this code:
/// `python3 -c 'import zlib; print((zlib.crc32(b"public\x00schema_migrations\x00migrate_lock_key_test") * 1486364155) % 2**32)'`
/// and the same with `/migrate_lock_key_test` (the database as golang-migrate's URL gives it).
const LOCK_DB: &str = "migrate_lock_key_test";
const GO_KEY: i64 = 2_822_386_510;
const GO_URL_KEY: i64 = 3_797_615_248;

#[test]
fn the_lock_excludes_a_golang_migrate_session_and_says_who_holds_it() {
    let db = TestDb::named(LOCK_DB);
    let (_dir, migrations) = set(SHOP);
    let quick = migrations.with_options(Options::new().busy_timeout(Duration::from_millis(300)));
    for key in [GO_KEY, GO_URL_KEY] {
        let mut go = db.connect_as("go-replica");
        go.query("SELECT pg_advisory_lock($1)", &[&key]).unwrap();
        let go_pid = scalar_i64(&mut go, "SELECT pg_backend_pid()::bigint");
        let mut client = db.connect();
        let error = quick.postgres().up(&mut client).unwrap_err();
        let Error::LockTimeout {
            key: waited_on,
            holders,
            ..
        } = &error
        else {
            panic!("{error:?}")
        };
        assert_eq!(*waited_on, key);
        assert_eq!(holders.len(), 1, "{error}");
        let text = error.to_string();
        assert!(
            text.contains(&format!(
                "Held by pid {go_pid} (application `go-replica`) from 127.0.0.1"
            )),
            "{text}"
        );
        println!("{text}");
        // Nothing was changed, and the other key (taken first when smaller) was given back.
        assert_eq!(quick.postgres().version(&mut client).unwrap().version, None);
        assert_eq!(
            scalar_i64(
                &mut client,
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
            ),
            0
        );
        go.query("SELECT pg_advisory_unlock($1)", &[&key]).unwrap();
        drop(go);
    }
    let mut client = db.connect();
    assert_eq!(quick.postgres().up(&mut client).unwrap().steps.len(), 3);
}

#[test]
fn the_async_api_runs_under_tokio() {
    let db = TestDb::new("tokio");
    let (_dir, migrations) = set(SHOP);
    let migrations: &'static Migrations = Box::leak(Box::new(migrations));
    let url = db.url.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let (mut client, connection) =
            migrate_runtime::tokio_postgres::connect(&url, migrate_runtime::tokio_postgres::NoTls)
                .await
                .unwrap();
        tokio::spawn(connection);
        // Spawned: the futures are `Send`, as a service's start-up task needs.
        let mut client = tokio::spawn(async move {
            let report = migrations.tokio_postgres().up(&mut client).await.unwrap();
            assert_eq!(report.steps.len(), 3);
            client
        })
        .await
        .unwrap();
        let api = migrations.tokio_postgres();
        assert!(api.up(&mut client).await.unwrap().is_empty());
        let report = api.down(&mut client, 1).await.unwrap();
        assert_eq!(report.to, Some(20240205093000));
        assert_eq!(
            api.version(&mut client).await.unwrap().version,
            Some(20240205093000)
        );
        assert_eq!(api.up_by(&mut client, 5).await.unwrap().steps.len(), 1);
        assert_eq!(api.to(&mut client, 0).await.unwrap().to, None);
        api.force(&mut client, 20240101120000).await.unwrap();
        let status = api.status(&mut client).await.unwrap();
        assert_eq!(status.version, Some(20240101120000));
        assert_eq!(status.pending().count(), 2);
    });
}

#[test]
fn a_client_error_outside_a_migration_says_what_was_being_done() {
    let db = TestDb::new("closed");
    let (_dir, migrations) = set(SHOP);
    let mut client = db.connect();
    let mut admin = db.connect();
    let pid = scalar_i64(&mut client, "SELECT pg_backend_pid()::bigint");
    admin
        // Waits (up to 5 s) until the session is gone, so the next call meets a closed one.
        .query(
            "SELECT pg_terminate_backend($1::bigint::int, 5000)",
            &[&pid],
        )
        .unwrap();
    let error = migrations.postgres().up(&mut client).unwrap_err();
    assert!(matches!(error, Error::Postgres { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with("PostgreSQL failed while looking for the version table: "),
        "{error}"
    );
}

// ---- Several processes at once -------------------------------------------------------------

/// How many worker processes start `up` at once in each trial.
const WORKERS: u32 = 6;

/// The set the workers race on: every migration records its run in `runs` (with the worker's
/// `application_name`); the second sleeps so the others pile up on the lock; the third is a
/// data migration whose rows are counted.
const RACE: &[(&str, &str)] = &[
    (
        "000001_runs.up.sql",
        "CREATE TABLE runs (version int NOT NULL, worker text NOT NULL);\nINSERT INTO runs VALUES (1, current_setting('application_name'));\n",
    ),
    ("000001_runs.down.sql", "DROP TABLE runs;\n"),
    (
        "000002_slow.up.sql",
        "CREATE TABLE products (id int PRIMARY KEY, name text NOT NULL);\nSELECT pg_sleep(0.3);\nINSERT INTO runs VALUES (2, current_setting('application_name'));\n",
    ),
    ("000002_slow.down.sql", "DROP TABLE products;\n"),
    (
        "000003_seed.up.sql",
        "INSERT INTO products SELECT n, 'product ' || n FROM generate_series(1, 1000) AS n;\nINSERT INTO runs VALUES (3, current_setting('application_name'));\n",
    ),
    ("000003_seed.down.sql", "DELETE FROM products;\n"),
    (
        "000004_index.up.sql",
        "CREATE INDEX products_name ON products (name);\nINSERT INTO runs VALUES (4, current_setting('application_name'));\n",
    ),
    ("000004_index.down.sql", "DROP INDEX products_name;\n"),
];

#[test]
fn several_processes_starting_at_once_apply_each_migration_exactly_once() {
    let trials = support::trials("MIGRATE_PG_TRIALS", 2);
    let dir = TempDir::new().unwrap();
    write_files(dir.path(), RACE);
    for trial in 1..=trials {
        let db = TestDb::new("race");
        let (sender, receiver) = support::output_channel();
        let mut workers: Vec<WorkerProcess> = (1..=WORKERS)
            .map(|id| {
                let url = format!("{}?application_name=worker-{id}", db.url);
                WorkerProcess::spawn(
                    "worker_process",
                    id,
                    &[
                        ("MIGRATE_PG_WORKER_URL", OsStr::new(&url)),
                        ("MIGRATE_PG_WORKER_DIR", dir.path().as_os_str()),
                    ],
                    &[],
                    sender.clone(),
                )
            })
            .collect();
        drop(sender);
        // Every worker connects first; then all are let go at once.
        let mut results: BTreeMap<u32, String> = BTreeMap::new();
        let mut ready = 0;
        let mut ended = 0;
        while ended < WORKERS {
            let (id, output) = receiver.recv().expect("worker output");
            let worker = &mut workers[(id - 1) as usize];
            match output {
                Output::Line(line) => {
                    worker.record(&line);
                    if line == "ready" {
                        ready += 1;
                        if ready == WORKERS {
                            for w in &mut workers {
                                w.send("go");
                            }
                        }
                    } else if let Some(result) = line.strip_prefix("result ") {
                        results.insert(id, result.to_owned());
                    }
                }
                Output::End => ended += 1,
            }
        }
        for worker in &mut workers {
            let (status, stderr) = worker.wait();
            assert!(
                status.success(),
                "worker {} failed ({status}):\n{}\n{stderr}",
                worker.id,
                worker.transcript
            );
        }
        let mut client = db.connect();
        let runs: Vec<(i32, String)> = client
            .query("SELECT version, worker FROM runs ORDER BY version", &[])
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let versions: Vec<i32> = runs.iter().map(|(v, _)| *v).collect();
        assert_eq!(
            versions,
            [1, 2, 3, 4],
            "each migration ran exactly once: {runs:?}"
        );
        let products = scalar_i64(&mut client, "SELECT count(*) FROM products");
        assert_eq!(products, 1000, "the data migration ran once");
        let history = scalar_i64(
            &mut client,
            "SELECT count(*) FROM schema_migrations_history",
        );
        assert_eq!(history, 4);
        let applied: Vec<(&u32, &String)> = results
            .iter()
            .filter(|(_, r)| r.starts_with("applied"))
            .collect();
        let up_to_date = results
            .values()
            .filter(|r| r.starts_with("up to date"))
            .count();
        assert_eq!(applied.len(), 1, "{results:?}");
        assert_eq!(up_to_date, (WORKERS - 1) as usize, "{results:?}");
        let (leader, what) = applied[0];
        assert!(
            runs.iter().all(|(_, w)| *w == format!("worker-{leader}")),
            "{runs:?}"
        );
        println!(
            "trial {trial}: {WORKERS} processes started `up` at once; worker {leader} {what}; \
             the other {up_to_date} reported up to date at 000004; runs rows {}, products {products}, \
             history rows {history}",
            runs.len()
        );
    }
}

/// A worker: connects, says `ready`, waits for the go-ahead, runs `up`, prints the result.
/// Run by the test above; ignored when run alone.
#[test]
#[ignore = "a worker process of several_processes_starting_at_once_apply_each_migration_exactly_once"]
fn worker_process() {
    let url = std::env::var("MIGRATE_PG_WORKER_URL").expect("MIGRATE_PG_WORKER_URL");
    let dir = std::env::var("MIGRATE_PG_WORKER_DIR").expect("MIGRATE_PG_WORKER_DIR");
    let migrations = Migrations::from_dir_for(Path::new(&dir), Database::Postgres)
        .unwrap_or_else(|problems| panic!("{problems}"));
    let mut client = Client::connect(&url, NoTls).expect("connecting");
    support::report("ready");
    support::await_go_ahead();
    match migrations.postgres().up(&mut client) {
        Ok(report) if report.is_empty() => support::report(&format!("result {report}")),
        Ok(report) => {
            let steps: Vec<String> = report
                .steps
                .iter()
                .map(|s| format!("{:06}", s.version))
                .collect();
            support::report(&format!(
                "result applied {} ({} migrations, one transaction)",
                steps.join(", "),
                steps.len()
            ));
        }
        Err(error) => {
            support::report(&format!("result failed: {error}"));
            std::process::exit(1);
        }
    }
}

#[test]
fn a_set_declared_for_sqlite_is_refused_before_the_client_is_used() {
    let db = TestDb::new("wrong_database");
    let dir = TempDir::new().expect("a temporary directory");
    write_files(dir.path(), SHOP);
    // Loaded without a declaration: a SQLite set, checked by SQLite's rules.
    let migrations = Migrations::from_dir(dir.path()).unwrap_or_else(|p| panic!("{p}"));
    let mut client = db.connect();
    let error = migrations.postgres().up(&mut client).unwrap_err();
    assert!(
        matches!(
            error,
            Error::WrongDatabase {
                set: Database::Sqlite,
                connection: Database::Postgres
            }
        ),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("declare the set `database = \"postgres\"`"),
        "{error}"
    );
    for result in [
        migrations.postgres().version(&mut client).map(drop),
        migrations.postgres().status(&mut client).map(drop),
        migrations.postgres().force(&mut client, 1),
    ] {
        assert!(
            matches!(result, Err(Error::WrongDatabase { .. })),
            "{result:?}"
        );
    }
    let tables: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()",
            &[],
        )
        .expect("counting tables")
        .get(0);
    assert_eq!(tables, 0, "nothing may be created");
}

#[test]
fn a_run_of_more_than_a_thousand_migrations_records_each_in_order() {
    let db = TestDb::new("history_chunks");
    let dir = TempDir::new().expect("a temporary directory");
    // One more than the rows of one history INSERT.
    for v in 1..=1001u32 {
        fs::write(
            dir.path().join(format!("{v:06}_m{v}.up.sql")),
            format!("CREATE TABLE t{v} (x int);\n"),
        )
        .expect("writing a migration");
        fs::write(
            dir.path().join(format!("{v:06}_m{v}.down.sql")),
            format!("DROP TABLE t{v};\n"),
        )
        .expect("writing a migration");
    }
    let migrations =
        Migrations::from_dir_for(dir.path(), Database::Postgres).unwrap_or_else(|p| panic!("{p}"));
    let mut client = db.connect();
    let report = migrations.postgres().up(&mut client).expect("up");
    assert_eq!(report.steps.len(), 1001);
    let rows = client
        .query(
            "SELECT version, name FROM schema_migrations_history ORDER BY id",
            &[],
        )
        .expect("reading the history");
    assert_eq!(rows.len(), 1001);
    for (i, row) in rows.iter().enumerate() {
        let version: i64 = row.get(0);
        let name: String = row.get(1);
        assert_eq!(version, i as i64 + 1);
        assert_eq!(name, format!("m{}", i + 1));
    }
}
