//! refinery: `embedded::migrations::runner().run(&mut conn)`, as its README shows.

#[path = "../../../common/harness.rs"]
mod harness;

use std::path::Path;

use rusqlite::Connection;

fn runner(n: usize) -> refinery::Runner {
    match n {
        10 => set_n10::embedded::migrations::runner(),
        50 => set_n50::embedded::migrations::runner(),
        100 => set_n100::embedded::migrations::runner(),
        200 => set_n200::embedded::migrations::runner(),
        500 => set_n500::embedded::migrations::runner(),
        1000 => set_n1000::embedded::migrations::runner(),
        _ => unreachable!(),
    }
}

struct Refinery;

impl harness::Tool for Refinery {
    type Conn = Connection;

    fn open(&mut self, path: Option<&Path>) -> Connection {
        match path {
            Some(path) => Connection::open(path),
            None => Connection::open_in_memory(),
        }
        .expect("open")
    }

    fn up(&mut self, conn: &mut Connection, n: usize) {
        runner(n).run(conn).expect("up");
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
    harness::main("refinery", Refinery);
}
