//! The physical limit: rusqlite running the same SQL directly, with the same version table as
//! ours (golang-migrate's `schema_migrations`) so the work is the same.
//!
//! `runner CMD N COUNT`: all pending migrations in one transaction (`raw`);
//! `runner per-migration CMD N COUNT`: one transaction per migration (`raw-per-migration`).

#[path = "../../../common/harness.rs"]
mod harness;

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

fn set(n: usize) -> &'static [(&'static str, &'static str, &'static str)] {
    match n {
        10 => set_n10::MIGRATIONS,
        50 => set_n50::MIGRATIONS,
        100 => set_n100::MIGRATIONS,
        200 => set_n200::MIGRATIONS,
        500 => set_n500::MIGRATIONS,
        1000 => set_n1000::MIGRATIONS,
        _ => unreachable!(),
    }
}

struct Raw {
    per_migration: bool,
}

/// One read of the version: `None` when the table does not exist yet or is empty.
fn read_version(conn: &Connection) -> Option<i64> {
    let mut statement = conn
        .prepare("SELECT version, dirty FROM \"schema_migrations\"")
        .ok()?;
    statement.query_row([], |row| row.get(0)).ok()
}

fn write_version(conn: &Connection, version: i64) {
    conn.execute("DELETE FROM \"schema_migrations\"", [])
        .expect("delete");
    conn.execute(
        "INSERT INTO \"schema_migrations\" (version, dirty) VALUES (?1, ?2)",
        (version, false),
    )
    .expect("insert");
}

const CREATE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (version uint64,dirty bool);\n\
                      CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON schema_migrations (version);";

impl harness::Tool for Raw {
    type Conn = Connection;

    fn open(&mut self, path: Option<&Path>) -> Connection {
        match path {
            Some(path) => Connection::open(path),
            None => Connection::open_in_memory(),
        }
        .expect("open")
    }

    fn up(&mut self, conn: &mut Connection, n: usize) {
        let current = read_version(conn).unwrap_or(0);
        let latest = n as i64;
        if current == latest {
            return;
        }
        let pending = &set(n)[current as usize..];
        if self.per_migration {
            conn.execute_batch(CREATE).expect("version table");
            for (i, (_, up, _)) in pending.iter().enumerate() {
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .expect("begin");
                tx.execute_batch(up).expect("migration");
                write_version(&tx, current + 1 + i as i64);
                tx.commit().expect("commit");
            }
        } else {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .expect("begin");
            tx.execute_batch(CREATE).expect("version table");
            for (_, up, _) in pending {
                tx.execute_batch(up).expect("migration");
            }
            write_version(&tx, latest);
            tx.commit().expect("commit");
        }
    }

    fn workload_tables(&mut self, conn: &mut Connection) -> i64 {
        conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name GLOB 't[0-9]*'",
            [],
            |row| row.get(0),
        )
        .expect("count")
    }

    fn sqlite_version(&mut self) -> String {
        rusqlite::version().to_owned()
    }
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("per-migration") {
        args.remove(0);
        harness::run(
            "raw-per-migration",
            Raw {
                per_migration: true,
            },
            &args,
        );
    } else {
        harness::run(
            "raw",
            Raw {
                per_migration: false,
            },
            &args,
        );
    }
}
