//! PostgreSQL verification on a real server: a realistic set passes, each kind of mistake is
//! found with its message, and the database verified is never changed.
//!
//! Needs `MIGRATE_TEST_POSTGRES_URL` (a server where the user may create databases); each test
//! creates a database of its own and drops it, so the tests run in parallel. Locally:
//! `eval "$(scripts/postgres-test-server start /tmp/pg)"`.

use migrate_core::Migration;
use migrate_engine::Finding;
use migrate_engine::postgres::{Verified, verify, verify_blocking};

/// A database of the test's own on the test server, dropped at the end.
struct Database {
    config: postgres::Config,
    name: String,
    client: Option<postgres::Client>,
}

impl Database {
    fn new() -> Database {
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
            "migrate_verify_test_{}_{}",
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
        let client = config
            .clone()
            .dbname(&name)
            .connect(postgres::NoTls)
            .expect("connect to the test's database");
        Database {
            config,
            name,
            client: Some(client),
        }
    }

    fn client(&mut self) -> &mut postgres::Client {
        self.client
            .as_mut()
            .expect("the client is there until dropped")
    }

    fn url(&self) -> String {
        let host = match &self.config.get_hosts()[0] {
            postgres::config::Host::Tcp(host) => host.clone(),
            #[cfg(unix)]
            postgres::config::Host::Unix(path) => path.display().to_string(),
        };
        format!(
            "postgres://{}@{host}:{}/{}",
            self.config.get_user().unwrap_or("postgres"),
            self.config.get_ports().first().copied().unwrap_or(5432),
            self.name
        )
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        drop(self.client.take());
        if let Ok(mut admin) = self.config.connect(postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// Writes `files` to a temporary directory and checks them as a PostgreSQL set.
fn load(files: &[(&str, &str)]) -> Vec<Migration> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (name, sql) in files {
        std::fs::write(dir.path().join(name), sql).expect("write a migration file");
    }
    migrate_core::load_dir_for(dir.path(), migrate_core::Database::Postgres)
        .unwrap_or_else(|p| panic!("{p}"))
}

fn verify_files(files: &[(&str, &str)]) -> Result<Verified, Vec<Finding>> {
    let table = load(files);
    let mut db = Database::new();
    verify_blocking(&table, db.client())
}

/// The findings' messages of a set that must fail.
fn findings(files: &[(&str, &str)]) -> Vec<String> {
    verify_files(files)
        .expect_err("verification should fail")
        .into_iter()
        .map(|f| f.message)
        .collect()
}

/// The one finding of a set that must fail.
fn finding(files: &[(&str, &str)]) -> String {
    let found = findings(files);
    assert_eq!(found.len(), 1, "{found:#?}");
    found.into_iter().next().expect("one finding")
}

/// A shop: an enum, identity columns, a foreign key with an action, a CHECK, an index.
const ORDERS: [(&str, &str); 2] = [
    (
        "20240101120000_orders.up.sql",
        "CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped');

CREATE TABLE customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    full_name text NOT NULL
);

CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    status order_status NOT NULL DEFAULT 'new',
    total numeric(10, 2) NOT NULL CHECK (total >= 0),
    placed_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX orders_customer_id_idx ON orders (customer_id);
",
    ),
    (
        "20240101120000_orders.down.sql",
        "DROP TABLE orders;\nDROP TABLE customers;\nDROP TYPE order_status;\n",
    ),
];

/// Seed rows and a view over them.
const SEED: [(&str, &str); 2] = [
    (
        "20240102090000_seed.up.sql",
        "INSERT INTO customers (email, full_name) VALUES
    ('ada@example.com', 'Ada Lovelace'),
    ('grace@example.com', 'Grace Brewster Hopper');
INSERT INTO orders (customer_id, status, total)
SELECT id, 'paid', 12.50 FROM customers WHERE email = 'ada@example.com';

CREATE VIEW order_totals AS
SELECT customer_id, count(*) AS orders, sum(total) AS total
FROM orders GROUP BY customer_id;
",
    ),
    (
        "20240102090000_seed.down.sql",
        "DROP VIEW order_totals;\n-- The seed's own rows only (their orders go with them: ON DELETE CASCADE).\nDELETE FROM customers WHERE email IN ('ada@example.com', 'grace@example.com');\n",
    ),
];

fn with(
    base: &[(&'static str, &'static str)],
    more: &[(&'static str, &'static str)],
) -> Vec<(&'static str, &'static str)> {
    base.iter().chain(more).copied().collect()
}

fn shop() -> Vec<(&'static str, &'static str)> {
    with(&ORDERS, &SEED)
}

#[test]
fn a_realistic_set_passes() {
    let files = with(
        &shop(),
        &[
            // A PL/pgSQL trigger function with a dollar-quoted body.
            (
                "20240103100000_updated_at.up.sql",
                "ALTER TABLE orders ADD COLUMN updated_at timestamptz;

CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now(); -- a semicolon; in a comment
    RETURN NEW;
END;
$$;

CREATE TRIGGER orders_touch BEFORE UPDATE ON orders
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
COMMENT ON COLUMN orders.updated_at IS 'set by orders_touch';
",
            ),
            (
                "20240103100000_updated_at.down.sql",
                "DROP TRIGGER orders_touch ON orders;\nDROP FUNCTION touch_updated_at();\nALTER TABLE orders DROP COLUMN updated_at;\n",
            ),
            // A sequence a column draws from.
            (
                "20240104080000_invoice_numbers.up.sql",
                "CREATE SEQUENCE invoice_numbers START 1000 INCREMENT 10;\nALTER TABLE orders ADD COLUMN invoice_no bigint DEFAULT nextval('invoice_numbers');\nALTER SEQUENCE invoice_numbers OWNED BY orders.invoice_no;\n",
            ),
            (
                "20240104080000_invoice_numbers.down.sql",
                "ALTER TABLE orders DROP COLUMN invoice_no;\n-- The sequence went with its column.\nDROP SEQUENCE IF EXISTS invoice_numbers;\n",
            ),
            // A data migration whose down gives every row back.
            (
                "20240105150000_split_names.up.sql",
                "ALTER TABLE customers ADD COLUMN given_name text, ADD COLUMN family_name text;
UPDATE customers SET given_name = split_part(full_name, ' ', 1),
    family_name = substr(full_name, length(split_part(full_name, ' ', 1)) + 2);
ALTER TABLE customers ALTER COLUMN given_name SET NOT NULL, ALTER COLUMN family_name SET NOT NULL;
ALTER TABLE customers DROP COLUMN full_name;
",
            ),
            (
                "20240105150000_split_names.down.sql",
                "ALTER TABLE customers ADD COLUMN full_name text;
UPDATE customers SET full_name = given_name || ' ' || family_name;
ALTER TABLE customers ALTER COLUMN full_name SET NOT NULL;
ALTER TABLE customers DROP COLUMN given_name, DROP COLUMN family_name;
",
            ),
            // What must run outside a transaction at deploy time.
            (
                "20240106070000_placed_at_index.up.sql",
                "-- migrate:no-transaction\nCREATE INDEX CONCURRENTLY orders_placed_at_idx ON orders (placed_at);\n",
            ),
            (
                "20240106070000_placed_at_index.down.sql",
                "-- migrate:no-transaction\nDROP INDEX CONCURRENTLY orders_placed_at_idx;\n",
            ),
        ],
    );
    let verified = verify_files(&files).unwrap_or_else(|f| panic!("{f:#?}"));
    assert_eq!(verified.migrations, 6);
    assert_eq!(verified.irreversible, 0);
    assert_eq!(
        verified.notes,
        [
            "`20240106070000_placed_at_index.up.sql` line 2: run without `CONCURRENTLY`, inside \
             verification's transaction (the same index; only the locks taken differ)",
            "`20240106070000_placed_at_index.down.sql` line 2: run without `CONCURRENTLY`, inside \
             verification's transaction (the same index; only the locks taken differ)",
        ]
    );
}

#[test]
fn the_async_client_verifies_too() {
    let table = load(&shop());
    let db = Database::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let verified = runtime.block_on(async {
        let (mut client, connection) = tokio_postgres::connect(&db.url(), tokio_postgres::NoTls)
            .await
            .unwrap();
        let task = tokio::spawn(connection);
        let verified = verify(&table, &mut client).await;
        drop(client);
        let _ = task.await;
        verified
    });
    assert_eq!(verified.unwrap_or_else(|f| panic!("{f:#?}")).migrations, 2);
}

/// A third migration on the shop set.
fn third(up: &'static str, down: &'static str) -> Vec<(&'static str, &'static str)> {
    with(
        &shop(),
        &[
            ("20240103100000_change.up.sql", up),
            ("20240103100000_change.down.sql", down),
        ],
    )
}

#[test]
fn a_down_that_forgets_an_index() {
    assert_eq!(
        finding(&third(
            "CREATE INDEX orders_status_idx ON orders (status) WHERE status <> 'shipped';",
            "SELECT 1;"
        )),
        "`20240103100000_change.down.sql` does not undo `20240103100000_change.up.sql`: it leaves \
         index `orders_status_idx` on `orders` behind; make the down undo exactly what the up does"
    );
}

#[test]
fn a_down_that_forgets_a_column_default() {
    assert_eq!(
        finding(&third(
            "ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;",
            "-- forgot: ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'new';\nSELECT 1;"
        )),
        "`20240103100000_change.down.sql` does not undo `20240103100000_change.up.sql`: it changes \
         column `orders.status`: its default was `'new'::order_status` before 20240103100000 and is \
         none after the down; make the down undo exactly what the up does"
    );
}

#[test]
fn a_down_that_drops_a_check_it_did_not_add() {
    assert_eq!(
        finding(&third(
            "ALTER TABLE orders ADD CONSTRAINT orders_total_cap CHECK (total < 100000);",
            "ALTER TABLE orders DROP CONSTRAINT orders_total_cap;\nALTER TABLE orders DROP CONSTRAINT orders_total_check;"
        )),
        "`20240103100000_change.down.sql` does not undo `20240103100000_change.up.sql`: it drops \
         constraint `orders_total_check` on `orders` (`CHECK ((total >= (0)::numeric))`), which \
         existed before 20240103100000; make the down undo exactly what the up does"
    );
}

#[test]
fn a_down_that_forgets_a_trigger_and_its_function() {
    assert_eq!(
        finding(&third(
            "CREATE FUNCTION no_delete() RETURNS trigger LANGUAGE plpgsql AS $body$\nBEGIN\n  RAISE EXCEPTION 'orders are never deleted';\nEND;\n$body$;\nCREATE TRIGGER orders_no_delete BEFORE DELETE ON orders FOR EACH ROW EXECUTE FUNCTION no_delete();",
            "SELECT 1;"
        )),
        "`20240103100000_change.down.sql` does not undo `20240103100000_change.up.sql`: it leaves \
         function `no_delete()` behind; it leaves trigger `orders_no_delete` on `orders` behind; \
         make the down undo exactly what the up does"
    );
}

#[test]
fn a_down_that_keeps_an_enum_label() {
    assert_eq!(
        finding(&third(
            "ALTER TYPE order_status ADD VALUE 'refunded';",
            "-- PostgreSQL cannot drop an enum label\nSELECT 1;"
        )),
        "`20240103100000_change.down.sql` does not undo `20240103100000_change.up.sql`: it changes \
         enum type `order_status`: its labels were ('new', 'paid', 'shipped') before 20240103100000 \
         and are ('new', 'paid', 'shipped', 'refunded') after the down; make the down undo exactly \
         what the up does"
    );
}

#[test]
fn a_down_that_does_not_restore_a_view() {
    let message = finding(&third(
        "CREATE OR REPLACE VIEW order_totals AS\nSELECT customer_id, count(*) AS orders, sum(total) AS total, max(placed_at) AS last_order\nFROM orders GROUP BY customer_id;",
        "DROP VIEW order_totals;",
    ));
    assert!(
        message.starts_with(
            "`20240103100000_change.down.sql` does not undo `20240103100000_change.up.sql`: it \
             drops view `order_totals`, which existed before 20240103100000; make the down undo \
             exactly what the up does"
        ),
        "{message}"
    );
}

#[test]
fn a_view_restored_with_another_definition_shows_the_difference() {
    let message = finding(&third(
        "DROP VIEW order_totals;",
        "CREATE VIEW order_totals AS\nSELECT customer_id, count(*) AS orders, sum(total) AS total\nFROM orders WHERE status <> 'new' GROUP BY customer_id;",
    ));
    assert_eq!(
        message,
        "`20240103100000_change.down.sql` does not undo `20240103100000_change.up.sql`: it changes \
         view `order_totals`: line 5 of its definition was `GROUP BY orders.customer_id;` before \
         20240103100000 and is `WHERE orders.status <> 'new'::order_status` after the down; make \
         the down undo exactly what the up does"
    );
}

#[test]
fn a_down_that_loses_rows() {
    // Identity values are not rolled back: the seed's rows are 6 and 7 by then (verification
    // ran the seed's up three times, and made up a customer once).
    assert_eq!(
        finding(&third(
            "ALTER TABLE customers ADD COLUMN given_name text;\nUPDATE customers SET given_name = split_part(full_name, ' ', 1);\nALTER TABLE customers DROP COLUMN full_name;",
            "ALTER TABLE customers ADD COLUMN full_name text NOT NULL DEFAULT '';\nUPDATE customers SET full_name = given_name;\nALTER TABLE customers ALTER COLUMN full_name DROP DEFAULT;\nALTER TABLE customers DROP COLUMN given_name;"
        )),
        "`20240103100000_change.down.sql` does not undo `20240103100000_change.up.sql`: it changes \
         the rows of `customers`, which existed before 20240103100000: row (id = 6) changed: \
         full_name 'Ada Lovelace' → 'Ada', row (id = 7) changed: full_name 'Grace Brewster Hopper' \
         → 'Grace'; make the down undo exactly what the up does, or, if losing those rows is \
         intended, add `-- migrate:lossy-down <reason>` to it"
    );
}

#[test]
fn a_lossy_down_is_compared_without_rows() {
    verify_files(&third(
        "ALTER TABLE customers ADD COLUMN given_name text;\nUPDATE customers SET given_name = split_part(full_name, ' ', 1);\nALTER TABLE customers DROP COLUMN full_name;",
        "-- migrate:lossy-down only the given name is kept\nALTER TABLE customers ADD COLUMN full_name text NOT NULL DEFAULT '';\nUPDATE customers SET full_name = given_name;\nALTER TABLE customers ALTER COLUMN full_name DROP DEFAULT;\nALTER TABLE customers DROP COLUMN given_name;",
    ))
    .unwrap_or_else(|f| panic!("{f:#?}"));
}

#[test]
fn an_irreversible_migration_is_verified_up_only() {
    let verified = verify_files(&third(
        "DELETE FROM orders WHERE status = 'new';",
        "-- migrate:irreversible the deleted orders are gone",
    ))
    .unwrap_or_else(|f| panic!("{f:#?}"));
    assert_eq!((verified.migrations, verified.irreversible), (3, 1));
}

#[test]
fn a_down_that_fails_names_file_and_line() {
    assert_eq!(
        finding(&third(
            "CREATE TABLE coupons (code text PRIMARY KEY);",
            "-- remove the coupons\nDROP TABLE coupon;"
        )),
        "`20240103100000_change.down.sql` line 2: table \"coupon\" does not exist (in \
         `DROP TABLE coupon`)"
    );
}

#[test]
fn an_up_that_fails_names_file_line_and_column_and_stops() {
    let found = findings(&with(
        &third(
            "CREATE TABLE coupons (\n    code text PRIMARY KEY,\n    order_id bigint REFERENCES order (id)\n);",
            "DROP TABLE coupons;",
        ),
        &[
            ("20240104000000_later.up.sql", "SELECT 1;"),
            ("20240104000000_later.down.sql", "SELECT 1;"),
        ],
    ));
    assert_eq!(
        found,
        [
            "`20240103100000_change.up.sql` line 3, column 32: syntax error at or near \"order\" (in \
          `CREATE TABLE coupons (…`)"
        ]
    );
}

#[test]
fn an_up_that_fails_at_run_time_names_its_statement() {
    assert_eq!(
        finding(&third(
            "-- every order needs a reference\nALTER TABLE orders ADD COLUMN reference text;\nALTER TABLE orders ALTER COLUMN reference SET NOT NULL;",
            "ALTER TABLE orders DROP COLUMN reference;"
        )),
        "`20240103100000_change.up.sql` line 3: column \"reference\" of relation \"orders\" \
         contains null values (in `ALTER TABLE orders ALTER COLUMN reference SET NOT NULL`)"
    );
}

#[test]
fn an_up_that_fails_after_its_down_says_the_down_does_not_undo_it() {
    // A role is the cluster's, outside every catalogue verification compares.
    let found = finding(&third(
        "CREATE TABLE coupons (code text);\nCREATE ROLE migrate_verify_test_reporting NOLOGIN;\nGRANT SELECT ON coupons TO migrate_verify_test_reporting;",
        "REVOKE SELECT ON coupons FROM migrate_verify_test_reporting;\nDROP TABLE coupons;",
    ));
    assert!(
        found.starts_with(
            "`20240103100000_change.up.sql` line 2: role \"migrate_verify_test_reporting\" already \
             exists (in `CREATE ROLE migrate_verify_test_reporting NOLOGIN`)"
        ),
        "{found}"
    );
    assert!(
        found.ends_with(
            "when run again after its down, so `20240103100000_change.down.sql` does not fully undo it"
        ),
        "{found}"
    );
}

#[test]
fn every_failing_down_is_reported_at_once() {
    let found = findings(&with(
        &third("CREATE TABLE a (x int);", "SELECT 1;"),
        &[
            ("20240104000000_b.up.sql", "CREATE TABLE b (x int);"),
            ("20240104000000_b.down.sql", "DROP TABLE nothing_here;"),
        ],
    ));
    assert_eq!(
        found,
        [
            "`20240103100000_change.down.sql` does not undo `20240103100000_change.up.sql`: it \
             leaves table `a` behind; make the down undo exactly what the up does",
            "`20240104000000_b.down.sql` line 1: table \"nothing_here\" does not exist \
             (in `DROP TABLE nothing_here`)"
        ]
    );
}

/// The problems `check` reports for `files` as a PostgreSQL set: refused before any server
/// is involved, so verification never sees them.
fn problems(files: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (name, sql) in files {
        std::fs::write(dir.path().join(name), sql).expect("write a migration file");
    }
    match migrate_core::load_dir_for(dir.path(), migrate_core::Database::Postgres) {
        Ok(_) => panic!("the set was expected to be refused"),
        Err(problems) => problems.to_string(),
    }
}

#[test]
fn concurrently_without_no_transaction_is_refused_by_the_check() {
    let text = problems(&third(
        "CREATE INDEX CONCURRENTLY orders_placed_at_idx ON orders (placed_at);",
        "DROP INDEX orders_placed_at_idx;",
    ));
    assert!(
        text.contains("`20240103100000_change.up.sql` line 1"),
        "{text}"
    );
    assert!(text.contains("-- migrate:no-transaction"), "{text}");
}

#[test]
fn a_no_transaction_statement_verification_cannot_run_is_not_passed() {
    let found = finding(&third(
        "-- migrate:no-transaction\nVACUUM orders;\nCREATE DATABASE analytics;",
        "-- migrate:irreversible databases are dropped by hand",
    ));
    assert_eq!(
        found,
        "`20240103100000_change.up.sql` line 3: CREATE DATABASE cannot run inside a transaction \
         block (in `CREATE DATABASE analytics`); verification runs every migration inside one \
         transaction that it rolls back, so it cannot run this statement: this migration and the \
         ones after it are not verified"
    );
}

#[test]
fn transaction_control_is_refused_by_the_check_before_it_runs() {
    let text = problems(&third(
        "CREATE TABLE a (x int);\nCOMMIT;\nCREATE TABLE b (x int);",
        "DROP TABLE b;\nDROP TABLE a;",
    ));
    assert!(
        text.contains("`20240103100000_change.up.sql` line 2"),
        "{text}"
    );
    assert!(text.contains("COMMIT"), "{text}");
}

/// Everything `pg_dump` writes of a database: its catalogue and its rows.
fn dump(db: &Database) -> String {
    let bin = std::env::var("PG_BIN").ok().or_else(|| {
        let mut found: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .collect();
        found.sort();
        found.pop().map(|p| p.display().to_string())
    });
    let pg_dump = bin.map_or("pg_dump".into(), |b| format!("{b}/pg_dump"));
    let out = std::process::Command::new(&pg_dump)
        .arg("--no-owner")
        .arg(db.url())
        .output()
        .unwrap_or_else(|e| panic!("run {pg_dump}: {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // pg_dump 15.14 and later guard the script with a random key, different on each run.
    String::from_utf8(out.stdout)
        .expect("pg_dump writes UTF-8")
        .lines()
        .filter(|line| !line.starts_with("\\restrict") && !line.starts_with("\\unrestrict"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_database_verified_is_never_changed() {
    // A service's database: the first migration applied for real, with its version row and
    // users' rows; then a failing and a passing verification of the whole set.
    let files = with(
        &shop(),
        &[
            ("20240103100000_x.up.sql", "CREATE TABLE x (a int);"),
            ("20240103100000_x.down.sql", "SELECT 1;"),
        ],
    );
    let table = load(&files);
    let mut db = Database::new();
    db.client().batch_execute(table[0].up().sql()).unwrap();
    db.client()
        .batch_execute(
            "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
             INSERT INTO schema_migrations VALUES (20240101120000, false);
             INSERT INTO customers (email, full_name) VALUES ('real@example.com', 'Real User');
             INSERT INTO orders (customer_id, total) SELECT id, 99.99 FROM customers;",
        )
        .unwrap();
    let before = dump(&db);
    assert!(before.contains("real@example.com"), "{before}");
    // The set creates `customers` again, in verification's own schema: it starts from nothing.
    let found = verify_blocking(&table, db.client()).expect_err("the last down leaves `x`");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(dump(&db), before);
    verify_blocking(&table[..2], db.client()).unwrap_or_else(|f| panic!("{f:#?}"));
    assert_eq!(dump(&db), before);
    // The connection is left outside any transaction: what it does next is committed.
    db.client()
        .batch_execute("CREATE TABLE after_verification (a int)")
        .unwrap();
    let mut other = db
        .config
        .clone()
        .dbname(&db.name)
        .connect(postgres::NoTls)
        .unwrap();
    let seen: i64 = other
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE tablename = 'after_verification'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(seen, 1, "verification left a transaction open");
}

#[test]
fn every_down_back_to_nothing_must_leave_the_database_as_it_was() {
    // Each round trip passes (a sequence's current value is not compared), but the first
    // down keeps `t` once the second up has drawn from the sequence.
    let found = finding(&[
        (
            "000001_t.up.sql",
            "CREATE SEQUENCE s;\nCREATE TABLE t (id int);",
        ),
        (
            "000001_t.down.sql",
            "DO $$ BEGIN\n  IF (SELECT last_value FROM s) < 2 THEN DROP TABLE t; END IF;\nEND $$;\nDROP SEQUENCE s;",
        ),
        ("000002_draw.up.sql", "SELECT nextval('s'), nextval('s');"),
        ("000002_draw.down.sql", "SELECT 1;"),
    ]);
    assert_eq!(
        found,
        "running every down from 000002 back to nothing does not leave the database as it was \
         before the first up: it leaves table `t` behind; make each down remove what its up creates"
    );
}

/// Accounts with a text status, no rows: verification makes one up.
const ACCOUNTS: [(&str, &str); 2] = [
    (
        "000001_accounts.up.sql",
        "CREATE TABLE accounts (\n    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n    status text NOT NULL\n);",
    ),
    ("000001_accounts.down.sql", "DROP TABLE accounts;"),
];

#[test]
fn a_data_migration_is_checked_on_a_made_up_row_when_the_table_is_empty() {
    let found = finding(&with(
        &ACCOUNTS,
        &[
            (
                "000002_active.up.sql",
                "ALTER TABLE accounts ADD COLUMN active boolean NOT NULL DEFAULT false;\nUPDATE accounts SET active = (status = 'active');\nALTER TABLE accounts DROP COLUMN status;",
            ),
            (
                "000002_active.down.sql",
                "ALTER TABLE accounts ADD COLUMN status text NOT NULL DEFAULT 'inactive';\nUPDATE accounts SET status = 'active' WHERE active;\nALTER TABLE accounts ALTER COLUMN status DROP DEFAULT;\nALTER TABLE accounts DROP COLUMN active;",
            ),
        ],
    ));
    assert_eq!(
        found,
        "`000002_active.down.sql` does not undo `000002_active.up.sql`: it changes the rows of \
         `accounts`, which existed before 000002 (it was empty, so verification made up a row for \
         it from its columns' types): row (id = 1) changed: status 'a' → 'inactive'; make the \
         down undo exactly what the up does, or, if losing those rows is intended, add \
         `-- migrate:lossy-down <reason>` to it"
    );
}

#[test]
fn an_up_that_fails_on_a_made_up_row_is_verified_without_it_and_noted() {
    let verified = verify_files(&with(
        &ACCOUNTS,
        &[
            (
                "000002_plan.up.sql",
                "ALTER TABLE accounts ADD COLUMN plan text NOT NULL;",
            ),
            (
                "000002_plan.down.sql",
                "ALTER TABLE accounts DROP COLUMN plan;",
            ),
        ],
    ))
    .unwrap_or_else(|f| panic!("{f:#?}"));
    assert_eq!(
        verified.unfilled,
        [
            "`000002_plan.up.sql` failed on the rows verification made up for `accounts`, so it was \
          verified on the tables as they were: `000002_plan.up.sql` line 1: column \"plan\" of \
          relation \"accounts\" contains null values (in `ALTER TABLE accounts ADD COLUMN plan \
          text NOT NULL`)"
        ]
    );
}

#[test]
fn a_table_that_refuses_a_made_up_row_is_noted() {
    let verified = verify_files(&[
        (
            "000001_codes.up.sql",
            "CREATE TABLE codes (code text NOT NULL CHECK (length(code) = 6));",
        ),
        ("000001_codes.down.sql", "DROP TABLE codes;"),
        (
            "000002_index.up.sql",
            "CREATE INDEX codes_code ON codes (code);",
        ),
        ("000002_index.down.sql", "DROP INDEX codes_code;"),
    ])
    .unwrap_or_else(|f| panic!("{f:#?}"));
    assert_eq!(
        verified.unfilled,
        [
            "before `000002_index.up.sql`: `codes` was left empty: verification could not make up a \
          row for it: new row for relation \"codes\" violates check constraint \
          \"codes_code_check\" (Failing row contains (a).)"
        ]
    );
}

#[test]
fn a_label_used_in_the_transaction_that_added_it_is_explained() {
    let found = finding(&with(
        &shop(),
        &[
            (
                "20240103100000_refunded.up.sql",
                "-- migrate:no-transaction\nALTER TYPE order_status ADD VALUE 'refunded';",
            ),
            (
                "20240103100000_refunded.down.sql",
                "-- migrate:irreversible PostgreSQL cannot drop an enum label",
            ),
            (
                "20240104000000_refund.up.sql",
                "ALTER TABLE orders ADD COLUMN refunded_at timestamptz;\nUPDATE orders SET status = 'refunded' WHERE false;",
            ),
            (
                "20240104000000_refund.down.sql",
                "ALTER TABLE orders DROP COLUMN refunded_at;",
            ),
        ],
    ));
    assert_eq!(
        found,
        "`20240104000000_refund.up.sql` line 2, column 28: unsafe use of new value \"refunded\" of \
         enum type order_status; PostgreSQL's hint: New enum values must be committed before they \
         can be used. (in `UPDATE orders SET status = 'refunded' WHERE false`); verification runs \
         the whole set in one transaction, and PostgreSQL refuses a label in the transaction \
         that added it: a migration that uses a label an earlier one adds cannot be verified (at \
         deploy time, add the label in a `-- migrate:no-transaction` migration, so that it is \
         committed before it is used)"
    );
}

#[test]
fn an_object_in_a_schema_the_migration_names_is_compared_under_that_name() {
    assert_eq!(
        finding(&third(
            "CREATE TABLE public.audit_log (id bigint, note text);",
            "SELECT 1;"
        )),
        "`20240103100000_change.down.sql` does not undo `20240103100000_change.up.sql`: it leaves \
         table `public.audit_log` behind; make the down undo exactly what the up does"
    );
}

#[test]
fn a_column_added_back_at_the_end_is_a_difference_unless_the_down_is_lossy() {
    let up = "ALTER TABLE orders DROP COLUMN status;";
    let down = "ALTER TABLE orders ADD COLUMN status order_status NOT NULL DEFAULT 'new';";
    let message = finding(&third(up, down));
    assert_eq!(
        message,
        "`20240103100000_change.down.sql` does not undo `20240103100000_change.up.sql`: it changes \
         table `orders`: its columns were in the order (id, customer_id, status, total, placed_at) \
         before 20240103100000 and are (id, customer_id, total, placed_at, status) after the down \
         (`ADD COLUMN` appends, and `SELECT *` and `INSERT … VALUES` depend on the order; if the \
         new order is acceptable, add `-- migrate:lossy-down <reason>` to the down); it changes \
         the rows of `orders`, which existed before 20240103100000: row (id = 4) changed: status \
         'paid' → 'new'; make the down undo exactly what the up does, or, if losing those rows is \
         intended, add `-- migrate:lossy-down <reason>` to it"
    );
    let lossy = format!("-- migrate:lossy-down the statuses are reset to 'new'\n{down}");
    let files: Vec<(&str, &str)> = with(&shop(), &[("20240103100000_change.up.sql", up)])
        .into_iter()
        .chain([("20240103100000_change.down.sql", lossy.as_str())])
        .collect();
    verify_files(&files).unwrap_or_else(|f| panic!("{f:#?}"));
}

#[test]
fn a_foreign_key_restored_without_its_action_is_a_difference() {
    assert_eq!(
        finding(&third(
            "ALTER TABLE orders DROP CONSTRAINT orders_customer_id_fkey;",
            "ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey\n    FOREIGN KEY (customer_id) REFERENCES customers (id);"
        )),
        "`20240103100000_change.down.sql` does not undo `20240103100000_change.up.sql`: it changes \
         constraint `orders_customer_id_fkey` on `orders`: it was `FOREIGN KEY (customer_id) \
         REFERENCES customers(id) ON DELETE CASCADE` before 20240103100000 and is `FOREIGN KEY \
         (customer_id) REFERENCES customers(id)` after the down; make the down undo exactly what \
         the up does"
    );
}

#[test]
fn a_sql_standard_function_body_runs_whole() {
    let verified = verify_files(&third(
        "CREATE FUNCTION total_cents(o orders) RETURNS bigint LANGUAGE sql\nBEGIN ATOMIC\n  SELECT (o.total * 100)::bigint;\nEND;\nCREATE VIEW order_cents AS SELECT id, total_cents(orders) AS cents FROM orders;",
        "DROP VIEW order_cents;\nDROP FUNCTION total_cents(orders);",
    ))
    .unwrap_or_else(|f| panic!("{f:#?}"));
    assert_eq!(verified.migrations, 3);
}
