//! The measuring loop every tool's runner shares (included with `#[path]`, since each tool
//! lives in its own Cargo project: peers link different `libsqlite3-sys` versions).
//!
//! ```text
//! runner version                 the SQLite version linked in
//! runner noop N ITERS            N applied on a file; ITERS timed `up` calls on that connection
//! runner noop-cold N ITERS       ITERS times: open the file, one `up` (the schema load included)
//! runner apply-file N REPS       REPS times: a fresh file, one timed `up` of N migrations
//! runner apply-memory N REPS     REPS times: a fresh in-memory database, one timed `up`
//! ```
//!
//! Each prints one line of JSON: `{"tool":…,"cmd":…,"n":…,"ns":[samples]}`; `run.py` takes
//! medians over interleaved runs.

use std::path::{Path, PathBuf};
use std::time::Instant;

/// The sizes every runner embeds, each as a set of its own (`sets/nN`).
pub const SIZES: [usize; 6] = [10, 50, 100, 200, 500, 1000];

/// What a runner implements for its tool.
pub trait Tool {
    /// The tool's connection type.
    type Conn;
    /// Opens a file database, or an in-memory one for `None`, as the tool's users do.
    fn open(&mut self, path: Option<&Path>) -> Self::Conn;
    /// Brings the database up to date with the embedded set of `n` migrations: the call a
    /// service makes at start-up.
    fn up(&mut self, conn: &mut Self::Conn, n: usize);
    /// The number of tables the workload created (`t1`, `t2`, …), as a check.
    fn workload_tables(&mut self, conn: &mut Self::Conn) -> i64;
    /// `sqlite_version()` of the linked SQLite.
    fn sqlite_version(&mut self) -> String;
}

fn scratch(tool: &str) -> PathBuf {
    let base = std::env::var_os("BENCH_TMP").map_or_else(std::env::temp_dir, PathBuf::from);
    let dir = base.join(format!("bench-{tool}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

fn remove_db(path: &Path) {
    for suffix in ["", "-journal", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// A database with the set of `n` applied by the tool itself, copied to `db`. The first run
/// applies it and keeps a copy in `BENCH_TMP`, so later rounds do not pay the set-up again.
fn applied<T: Tool>(tool: &mut T, name: &str, n: usize, db: &Path) {
    let cache = db
        .parent()
        .and_then(Path::parent)
        .expect("scratch directory")
        .join(format!("applied-{name}-{n}.db"));
    if !cache.exists() {
        let mut conn = tool.open(Some(db));
        tool.up(&mut conn, n);
        check(tool, &mut conn, n);
        drop(conn);
        let partial = cache.with_extension("partial");
        std::fs::copy(db, &partial).expect("keep the applied database");
        std::fs::rename(&partial, &cache).expect("keep the applied database");
    }
    remove_db(db);
    std::fs::copy(&cache, db).expect("copy the applied database");
}

fn check<T: Tool>(tool: &mut T, conn: &mut T::Conn, n: usize) {
    let tables = tool.workload_tables(conn);
    assert_eq!(
        tables, n as i64,
        "expected {n} workload tables after up, found {tables}"
    );
}

/// Parses the command line, runs the measurement and prints the samples.
#[allow(dead_code)]
pub fn main<T: Tool>(name: &str, tool: T) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    run(name, tool, &args);
}

/// Runs the measurement `args` asks for (`CMD N COUNT`) and prints the samples.
pub fn run<T: Tool>(name: &str, mut tool: T, args: &[String]) {
    let cmd = args.first().map_or("", String::as_str);
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let count: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(5);
    if cmd == "version" {
        println!("{}", tool.sqlite_version());
        return;
    }
    assert!(SIZES.contains(&n), "N must be one of {SIZES:?}");
    let dir = scratch(name);
    let db = dir.join("bench.db");
    let mut ns: Vec<u128> = Vec::with_capacity(count);
    match cmd {
        "noop" => {
            applied(&mut tool, name, n, &db);
            let mut conn = tool.open(Some(&db));
            check(&mut tool, &mut conn, n);
            tool.up(&mut conn, n); // warm: statement caches, the schema, the allocator
            for _ in 0..count {
                let started = Instant::now();
                tool.up(&mut conn, n);
                ns.push(started.elapsed().as_nanos());
            }
            check(&mut tool, &mut conn, n);
        }
        "noop-cold" => {
            applied(&mut tool, name, n, &db);
            for _ in 0..count {
                let started = Instant::now();
                let mut conn = tool.open(Some(&db));
                tool.up(&mut conn, n);
                ns.push(started.elapsed().as_nanos());
                drop(conn);
            }
            let mut conn = tool.open(Some(&db));
            check(&mut tool, &mut conn, n);
        }
        "apply-file" | "apply-memory" => {
            for _ in 0..count {
                remove_db(&db);
                let path = (cmd == "apply-file").then_some(db.as_path());
                let mut conn = tool.open(path);
                let started = Instant::now();
                tool.up(&mut conn, n);
                ns.push(started.elapsed().as_nanos());
                check(&mut tool, &mut conn, n);
                drop(conn);
            }
        }
        other => {
            panic!("unknown command `{other}`: version, noop, noop-cold, apply-file, apply-memory")
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let samples: Vec<String> = ns.iter().map(u128::to_string).collect();
    println!(
        "{{\"tool\":\"{name}\",\"cmd\":\"{cmd}\",\"n\":{n},\"ns\":[{}]}}",
        samples.join(",")
    );
}
