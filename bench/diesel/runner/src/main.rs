//! diesel_migrations: `conn.run_pending_migrations(MIGRATIONS)`, as its docs show.

#[path = "../../../common/harness.rs"]
mod harness;

use std::path::Path;

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::MigrationHarness;

struct Diesel;

impl harness::Tool for Diesel {
    type Conn = SqliteConnection;

    fn open(&mut self, path: Option<&Path>) -> SqliteConnection {
        let url = path.map_or(":memory:", |p| p.to_str().expect("utf-8 path"));
        SqliteConnection::establish(url).expect("open")
    }

    fn up(&mut self, conn: &mut SqliteConnection, n: usize) {
        match n {
            10 => conn.run_pending_migrations(set_n10::MIGRATIONS),
            50 => conn.run_pending_migrations(set_n50::MIGRATIONS),
            100 => conn.run_pending_migrations(set_n100::MIGRATIONS),
            200 => conn.run_pending_migrations(set_n200::MIGRATIONS),
            500 => conn.run_pending_migrations(set_n500::MIGRATIONS),
            1000 => conn.run_pending_migrations(set_n1000::MIGRATIONS),
            _ => unreachable!(),
        }
        .expect("up");
    }

    fn workload_tables(&mut self, conn: &mut SqliteConnection) -> i64 {
        diesel::select(sql::<BigInt>(
            "(SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name GLOB 't[0-9]*')",
        ))
        .get_result(conn)
        .expect("count")
    }

    fn sqlite_version(&mut self) -> String {
        let mut conn = self.open(None);
        diesel::select(sql::<Text>("sqlite_version()"))
            .get_result(&mut conn)
            .expect("version")
    }
}

fn main() {
    harness::main("diesel", Diesel);
}
