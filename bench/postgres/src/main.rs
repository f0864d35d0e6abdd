//! One tool's one measurement against a PostgreSQL server, printed as a line of JSON
//! (`bench/postgres.py` runs these interleaved and takes medians):
//!
//! ```text
//! bench-postgres URL TOOL apply N   a fresh database (created before the clock starts), one timed `up`
//! bench-postgres URL TOOL noop N ITERS   the set applied, then ITERS timed `up` calls on that connection
//! ```
//!
//! TOOL is `ours`, `sqlx`, `refinery` or `raw` (the limit: the same up scripts and golang-migrate's
//! version row in one transaction through the `postgres` client, no tool). URL names the server's
//! maintenance database; each measurement creates and drops a database of its own.

use std::time::Instant;

use migrate_runtime::Migrations;
use postgres::{Client, NoTls};

static OURS_10: Migrations = migrate_runtime::embed_migrations!("sets/golang/n10", database = "postgres");
static OURS_100: Migrations = migrate_runtime::embed_migrations!("sets/golang/n100", database = "postgres");
static OURS_500: Migrations = migrate_runtime::embed_migrations!("sets/golang/n500", database = "postgres");

static SQLX_10: sqlx::migrate::Migrator = sqlx::migrate!("sets/golang/n10");
static SQLX_100: sqlx::migrate::Migrator = sqlx::migrate!("sets/golang/n100");
static SQLX_500: sqlx::migrate::Migrator = sqlx::migrate!("sets/golang/n500");

mod refinery_10 {
    refinery::embed_migrations!("sets/refinery/n10");
}
mod refinery_100 {
    refinery::embed_migrations!("sets/refinery/n100");
}
mod refinery_500 {
    refinery::embed_migrations!("sets/refinery/n500");
}

fn ours(n: usize) -> &'static Migrations {
    match n {
        10 => &OURS_10,
        100 => &OURS_100,
        500 => &OURS_500,
        _ => panic!("no set of {n}"),
    }
}

fn sqlx_set(n: usize) -> &'static sqlx::migrate::Migrator {
    match n {
        10 => &SQLX_10,
        100 => &SQLX_100,
        500 => &SQLX_500,
        _ => panic!("no set of {n}"),
    }
}

fn refinery_runner(n: usize) -> refinery::Runner {
    match n {
        10 => refinery_10::migrations::runner(),
        100 => refinery_100::migrations::runner(),
        500 => refinery_500::migrations::runner(),
        _ => panic!("no set of {n}"),
    }
}

/// The up scripts of the set of `n`, for the raw limit.
fn up_scripts(n: usize) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("sets/golang/n{n}"));
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("the set's directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.to_string_lossy().ends_with(".up.sql"))
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read_to_string(p).expect("script")).collect()
}

/// A tool with what its users hold: a connection, and a call that brings it up to date.
enum Tool {
    Ours(Client, usize),
    Raw(Client, Vec<String>, usize),
    Sqlx(tokio::runtime::Runtime, sqlx::PgConnection, usize),
    Refinery(Client, usize),
}

impl Tool {
    fn connect(name: &str, url: &str, n: usize) -> Tool {
        match name {
            "ours" => Tool::Ours(Client::connect(url, NoTls).expect("connect"), n),
            "raw" => Tool::Raw(Client::connect(url, NoTls).expect("connect"), up_scripts(n), n),
            "refinery" => Tool::Refinery(Client::connect(url, NoTls).expect("connect"), n),
            "sqlx" => {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                let conn = rt
                    .block_on(<sqlx::PgConnection as sqlx::Connection>::connect(url))
                    .expect("connect");
                Tool::Sqlx(rt, conn, n)
            }
            other => panic!("unknown tool {other}"),
        }
    }

    fn up(&mut self) {
        match self {
            Tool::Ours(client, n) => {
                ours(*n).postgres().up(client).expect("up");
            }
            Tool::Raw(client, scripts, n) => raw_up(client, scripts, *n),
            Tool::Sqlx(rt, conn, n) => rt.block_on(sqlx_set(*n).run(conn)).expect("up"),
            Tool::Refinery(client, n) => {
                refinery_runner(*n).run(client).expect("up");
            }
        }
    }
}

/// golang-migrate's table read, then (when behind) every script and the version row in one
/// transaction: what any tool must do at least.
fn raw_up(client: &mut Client, scripts: &[String], n: usize) {
    let applied: Option<i64> = client
        .query_opt(
            "SELECT version FROM schema_migrations LIMIT 1",
            &[],
        )
        .ok()
        .flatten()
        .map(|row| row.get(0));
    if applied == Some(n as i64) {
        return;
    }
    let mut tx = client.transaction().expect("begin");
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)",
    )
    .expect("version table");
    for script in scripts {
        tx.batch_execute(script).expect("script");
    }
    tx.execute("TRUNCATE schema_migrations", &[]).expect("truncate");
    tx.execute(
        "INSERT INTO schema_migrations (version, dirty) VALUES ($1, false)",
        &[&(n as i64)],
    )
    .expect("version");
    tx.commit().expect("commit");
}

fn with_url_database(url: &str, db: &str) -> String {
    match url.rfind('/') {
        Some(i) => format!("{}/{db}", &url[..i]),
        None => panic!("the URL names no database: {url}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, tool, cmd, n, rest @ ..] = args.as_slice() else {
        panic!("usage: bench-postgres URL TOOL apply|noop N [ITERS]");
    };
    let n: usize = n.parse().expect("N");
    let mut admin = Client::connect(url, NoTls).expect("connect to the maintenance database");
    let db = format!("bench_{tool}_{}", std::process::id());
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {db}"))
        .expect("drop what a failed run left");
    admin
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .expect("create the database");
    let target = with_url_database(url, &db);
    let mut samples = Vec::new();
    {
        let mut t = Tool::connect(tool, &target, n);
        match cmd.as_str() {
            "apply" => {
                let start = Instant::now();
                t.up();
                samples.push(start.elapsed().as_nanos());
            }
            "noop" => {
                let iters: usize = rest.first().map_or(200, |s| s.parse().expect("ITERS"));
                t.up();
                for _ in 0..iters {
                    let start = Instant::now();
                    t.up();
                    samples.push(start.elapsed().as_nanos());
                }
            }
            other => panic!("unknown command {other}"),
        }
        // A check that the tool did the work: n workload tables.
        let mut check = Client::connect(&target, NoTls).expect("connect");
        let tables: i64 = check
            .query_one(
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename ~ '^t[0-9]+$'",
                &[],
            )
            .expect("count")
            .get(0);
        assert_eq!(tables, n as i64, "{tool} left {tables} workload tables, not {n}");
    }
    admin
        .batch_execute(&format!("DROP DATABASE {db} WITH (FORCE)"))
        .expect("drop the database");
    let list: Vec<String> = samples.iter().map(u128::to_string).collect();
    println!(
        "{{\"tool\":\"{tool}\",\"cmd\":\"{cmd}\",\"n\":{n},\"ns\":[{}]}}",
        list.join(",")
    );
}
