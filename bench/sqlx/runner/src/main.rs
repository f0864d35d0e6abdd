//! sqlx: `sqlx::migrate!("migrations").run(&mut conn).await`, as its docs show, on a tokio
//! current-thread runtime. Connections use SQLite's defaults (rollback journal, synchronous
//! FULL), as every other tool here does.

#[path = "../../../common/harness.rs"]
mod harness;

use std::path::Path;
use std::str::FromStr;

use sqlx::ConnectOptions;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use tokio::runtime::Runtime;

fn migrator(n: usize) -> &'static Migrator {
    match n {
        10 => &set_n10::MIGRATOR,
        50 => &set_n50::MIGRATOR,
        100 => &set_n100::MIGRATOR,
        200 => &set_n200::MIGRATOR,
        500 => &set_n500::MIGRATOR,
        1000 => &set_n1000::MIGRATOR,
        _ => unreachable!(),
    }
}

struct Sqlx {
    rt: Runtime,
}

impl harness::Tool for Sqlx {
    type Conn = SqliteConnection;

    fn open(&mut self, path: Option<&Path>) -> SqliteConnection {
        let options = match path {
            Some(path) => SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true),
            None => SqliteConnectOptions::from_str("sqlite::memory:").expect("options"),
        }
        .journal_mode(SqliteJournalMode::Delete)
        .synchronous(SqliteSynchronous::Full);
        self.rt.block_on(options.connect()).expect("open")
    }

    fn up(&mut self, conn: &mut SqliteConnection, n: usize) {
        self.rt.block_on(migrator(n).run(conn)).expect("up");
    }

    fn workload_tables(&mut self, conn: &mut SqliteConnection) -> i64 {
        self.rt
            .block_on(
                sqlx::query_scalar::<_, i64>(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name GLOB 't[0-9]*'",
                )
                .fetch_one(conn),
            )
            .expect("count")
    }

    fn sqlite_version(&mut self) -> String {
        let mut conn = self.open(None);
        self.rt
            .block_on(
                sqlx::query_scalar::<_, String>("SELECT sqlite_version()").fetch_one(&mut conn),
            )
            .expect("version")
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    harness::main("sqlx", Sqlx { rt });
}
