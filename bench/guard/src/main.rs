//! The program the CI guard (`bench/guard/guard.py`) runs under callgrind: one workload, done
//! either by our runtime or by the raw-rusqlite limit, inside `measure`, the only function whose
//! instructions are counted (`--toggle-collect`). Everything else (writing the migration files,
//! opening the database, applying the set before a no-op) happens outside it.
//!
//! ```text
//! guard noop   ours|raw N CALLS   N applied on a file; CALLS `up` calls (raw: reads of the version)
//! guard apply  ours|raw N         one `up` of N migrations on a fresh in-memory database
//! guard verify ours|raw N         ours: `verify` of the N migrations; raw: their SQL up, down, up
//! ```
//!
//! The workload is the benchmarks' (`bench/workload.py`): a table with five columns, an index
//! and three seed rows per migration. Prints the number of calls `measure` made, so the guard
//! can divide.

use std::path::{Path, PathBuf};

use migrate_runtime::Migrations;
use migrate_runtime::rusqlite::{Connection, TransactionBehavior};

fn up_sql(v: usize) -> String {
    format!(
        "CREATE TABLE t{v} (\n  id INTEGER PRIMARY KEY AUTOINCREMENT,\n  name TEXT NOT NULL,\n  \
         created_at DATETIME DEFAULT CURRENT_TIMESTAMP,\n  score REAL,\n  owner_id INTEGER\n);\n\
         CREATE INDEX idx_t{v}_name ON t{v} (name);\n\
         INSERT INTO t{v} (name, score) VALUES ('a', 1.5), ('b', 2.5), ('c', 3.5);\n"
    )
}

fn down_sql(v: usize) -> String {
    format!("DROP INDEX idx_t{v}_name;\nDROP TABLE t{v};\n")
}

/// A scratch directory with the set of `n` migrations in `migrations/`.
fn scratch(n: usize) -> PathBuf {
    let base = std::env::var_os("GUARD_TMP").map_or_else(std::env::temp_dir, PathBuf::from);
    let dir = base.join(format!("migrate-guard-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let migrations = dir.join("migrations");
    std::fs::create_dir_all(&migrations).expect("scratch directory");
    for v in 1..=n {
        let stem = format!("{v:06}_table_{v}");
        std::fs::write(migrations.join(format!("{stem}.up.sql")), up_sql(v)).expect("write up");
        std::fs::write(migrations.join(format!("{stem}.down.sql")), down_sql(v))
            .expect("write down");
    }
    dir
}

/// What `measure` does: everything it needs is built beforehand.
enum Job<'a> {
    NoopOurs(&'a Migrations, &'a mut Connection, usize),
    NoopRaw(&'a mut Connection, usize),
    ApplyOurs(&'a Migrations, &'a mut Connection),
    ApplyRaw(&'a [(String, String)], &'a mut Connection),
    VerifyOurs(&'a Migrations),
    VerifyRaw(&'a [(String, String)], &'a mut Connection),
}

const CREATE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (version uint64,dirty bool);\n\
                      CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON schema_migrations (version);";

/// One read of the version, as a service that kept its own version would do it.
fn read_version(conn: &Connection) -> i64 {
    let mut statement = conn
        .prepare("SELECT version, dirty FROM \"schema_migrations\"")
        .expect("prepare");
    statement.query_row([], |row| row.get(0)).expect("version")
}

/// The only counted function.
#[inline(never)]
fn measure(job: Job<'_>) {
    match job {
        Job::NoopOurs(set, conn, calls) => {
            for _ in 0..calls {
                set.up(conn).expect("up");
            }
        }
        Job::NoopRaw(conn, calls) => {
            for _ in 0..calls {
                std::hint::black_box(read_version(conn));
            }
        }
        Job::ApplyOurs(set, conn) => {
            set.up(conn).expect("up");
        }
        Job::ApplyRaw(sql, conn) => {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .expect("begin");
            tx.execute_batch(CREATE).expect("version table");
            for (up, _) in sql {
                tx.execute_batch(up).expect("migration");
            }
            tx.execute("DELETE FROM \"schema_migrations\"", [])
                .expect("delete");
            tx.execute(
                "INSERT INTO \"schema_migrations\" (version, dirty) VALUES (?1, ?2)",
                (sql.len() as i64, false),
            )
            .expect("insert");
            tx.commit().expect("commit");
        }
        Job::VerifyOurs(set) => {
            migrate_runtime::verify(set.as_slice()).expect("the workload verifies");
        }
        Job::VerifyRaw(sql, conn) => {
            // The least any verifier does: every up, every down, every up again.
            for (up, down) in sql {
                conn.execute_batch(up).expect("up");
                conn.execute_batch(down).expect("down");
                conn.execute_batch(up).expect("up again");
            }
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map_or("", String::as_str);
    let (workload, tool) = (arg(0), arg(1));
    let n: usize = arg(2).parse().expect("N: the number of migrations");
    let calls: usize = arg(3).parse().unwrap_or(1);
    let dir = scratch(n);
    let set = Migrations::from_dir(dir.join("migrations")).expect("the workload loads");
    let sql: Vec<(String, String)> = (1..=n).map(|v| (up_sql(v), down_sql(v))).collect();
    let mut memory = Connection::open_in_memory().expect("open");
    let db = dir.join("noop.db");
    match (workload, tool) {
        ("noop", _) => {
            let mut conn = open_applied(&set, &db);
            // Warm: the schema is loaded, caches and the allocator are primed.
            set.up(&mut conn).expect("up");
            read_version(&conn);
            if tool == "ours" {
                measure(Job::NoopOurs(&set, &mut conn, calls));
            } else {
                measure(Job::NoopRaw(&mut conn, calls));
            }
        }
        ("apply", "ours") => measure(Job::ApplyOurs(&set, &mut memory)),
        ("apply", _) => measure(Job::ApplyRaw(&sql, &mut memory)),
        ("verify", "ours") => measure(Job::VerifyOurs(&set)),
        ("verify", _) => measure(Job::VerifyRaw(&sql, &mut memory)),
        _ => panic!("usage: guard noop|apply|verify ours|raw N [CALLS]"),
    }
    if workload == "apply" {
        let tables: i64 = memory
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name GLOB 't[0-9]*'",
                [],
                |row| row.get(0),
            )
            .expect("count");
        assert_eq!(tables, n as i64, "the workload's tables after apply");
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("{}", if workload == "noop" { calls } else { 1 });
}

fn open_applied(set: &Migrations, db: &Path) -> Connection {
    let mut conn = Connection::open(db).expect("open");
    set.up(&mut conn).expect("apply the set before the no-op");
    conn
}
