//! A migration set written for PostgreSQL (`tests/sets/postgres_shop`, which the PostgreSQL
//! run engine's tests apply too): `embed_migrations!(…, database = "postgres")` checks it by
//! PostgreSQL's rules, carries the declaration, and the SQLite operations refuse it before
//! touching the connection.

use migrate_runtime::rusqlite::Connection;
use migrate_runtime::{Database, Error, Migrations, Problem, embed_migrations};

static POSTGRES_SHOP: Migrations =
    embed_migrations!("tests/sets/postgres_shop", database = "postgres");

fn shop_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sets/postgres_shop")
}

#[test]
fn the_shop_set_passes_check_as_a_postgres_set_and_carries_its_database() {
    assert_eq!(POSTGRES_SHOP.database(), Database::Postgres);
    let read = Migrations::from_dir_for(shop_dir(), Database::Postgres)
        .unwrap_or_else(|problems| panic!("{problems}"));
    assert_eq!(POSTGRES_SHOP, read);
    assert_eq!(POSTGRES_SHOP.len(), 8);
    let index = POSTGRES_SHOP.get(7).expect("version 7");
    assert_eq!(index.name(), "orders_customer_index");
    assert!(index.up().no_transaction() && index.down().no_transaction());
    assert!(
        POSTGRES_SHOP
            .iter()
            .all(|m| !m.up().disables_foreign_keys() && !m.down().disables_foreign_keys())
    );
}

#[test]
fn sqlite_rules_refuse_the_same_files() {
    // Read as SQLite, the `$$` bodies are no strings: their `END IF;` and `END;` are statements
    // that would end the migration's transaction.
    let problems = Migrations::from_dir(shop_dir()).expect_err("SQLite's rules refuse the set");
    let found: Vec<(String, Option<usize>)> = problems
        .0
        .iter()
        .filter(|p| matches!(p, Problem::TransactionControl { keyword, .. } if keyword == "END"))
        .map(|p| (p.file(), p.line()))
        .collect();
    assert_eq!(
        found,
        [
            ("000004_products_updated_at.up.sql".to_owned(), Some(7)),
            ("000006_order_status_history.up.sql".to_owned(), Some(20)),
            ("000006_order_status_history.up.sql".to_owned(), Some(23)),
            (
                "000008_products_price_not_negative.up.sql".to_owned(),
                Some(6)
            ),
            (
                "000008_products_price_not_negative.up.sql".to_owned(),
                Some(7)
            ),
        ]
    );
}

#[test]
fn sqlite_operations_refuse_a_postgres_set_without_touching_the_connection() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("app.db");
    let mut conn = Connection::open(&path).expect("open");
    let refused = |result: Result<(), Error>, operation: &str| match result {
        Err(Error::WrongDatabase {
            set: Database::Postgres,
            connection: Database::Sqlite,
        }) => {}
        other => panic!("{operation}: {other:?}"),
    };
    refused(POSTGRES_SHOP.up(&mut conn).map(drop), "up");
    refused(POSTGRES_SHOP.up_by(&mut conn, 1).map(drop), "up_by");
    refused(POSTGRES_SHOP.to(&mut conn, 3).map(drop), "to");
    refused(POSTGRES_SHOP.down(&mut conn, 1).map(drop), "down");
    refused(POSTGRES_SHOP.force(&mut conn, 2), "force");
    refused(POSTGRES_SHOP.version(&conn).map(drop), "version");
    refused(POSTGRES_SHOP.status(&conn).map(drop), "status");
    let objects: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))
        .expect("count");
    assert_eq!(objects, 0, "nothing was created");
    drop(conn);
    assert_eq!(
        std::fs::metadata(&path).expect("the file").len(),
        0,
        "nothing was written to the database file"
    );
    let message = POSTGRES_SHOP
        .up(&mut Connection::open_in_memory().expect("open"))
        .expect_err("refused")
        .to_string();
    assert!(message.contains("`tokio-postgres`"), "{message}");
}
