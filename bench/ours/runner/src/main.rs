//! `migrate-runtime`: `MIGRATIONS.up(&mut conn)`, as the README shows.

#[path = "../../../common/harness.rs"]
mod harness;

use std::path::Path;

use migrate_runtime::Migrations;
use migrate_runtime::rusqlite::Connection;

fn set(n: usize) -> &'static Migrations {
    match n {
        10 => &set_n10::MIGRATIONS,
        50 => &set_n50::MIGRATIONS,
        100 => &set_n100::MIGRATIONS,
        200 => &set_n200::MIGRATIONS,
        500 => &set_n500::MIGRATIONS,
        1000 => &set_n1000::MIGRATIONS,
        _ => unreachable!(),
    }
}

struct Ours;

impl harness::Tool for Ours {
    type Conn = Connection;

    fn open(&mut self, path: Option<&Path>) -> Connection {
        match path {
            Some(path) => Connection::open(path),
            None => Connection::open_in_memory(),
        }
        .expect("open")
    }

    fn up(&mut self, conn: &mut Connection, n: usize) {
        set(n).up(conn).expect("up");
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
        migrate_runtime::rusqlite::version().to_owned()
    }
}

fn main() {
    harness::main("ours", Ours);
}
