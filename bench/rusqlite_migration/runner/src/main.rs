//! rusqlite_migration: `MIGRATIONS.to_latest(&mut conn)`, with the set written as its README
//! shows (`M::up(include_str!(..)).down(include_str!(..))` in a const slice).

#[path = "../../../common/harness.rs"]
mod harness;

use std::path::Path;

use rusqlite::Connection;

struct RusqliteMigration;

impl harness::Tool for RusqliteMigration {
    type Conn = Connection;

    fn open(&mut self, path: Option<&Path>) -> Connection {
        match path {
            Some(path) => Connection::open(path),
            None => Connection::open_in_memory(),
        }
        .expect("open")
    }

    fn up(&mut self, conn: &mut Connection, n: usize) {
        match n {
            10 => set_n10::MIGRATIONS.to_latest(conn),
            50 => set_n50::MIGRATIONS.to_latest(conn),
            100 => set_n100::MIGRATIONS.to_latest(conn),
            200 => set_n200::MIGRATIONS.to_latest(conn),
            500 => set_n500::MIGRATIONS.to_latest(conn),
            1000 => set_n1000::MIGRATIONS.to_latest(conn),
            _ => unreachable!(),
        }
        .expect("up");
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
    harness::main("rusqlite_migration", RusqliteMigration);
}
