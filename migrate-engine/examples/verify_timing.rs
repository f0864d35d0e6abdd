//! Times `load_dir` + `verify` on N generated realistic migrations (a table with a handful of
//! columns, an index and a few seed rows each): `cargo run --release -p migrate-engine
//! --example verify_timing -- 1000`. For scale, it also times applying the same set once
//! (`up` on a fresh in-memory database): verification runs every migration's up, down and up
//! again, and SQLite's own cost per `CREATE` or `DROP` grows with the schema (its schema table
//! has no index by name), verified or not.

use std::time::Instant;

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    let dir = std::env::temp_dir().join(format!("migrate-verify-timing-{n}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    for v in 1..=n {
        let up = format!(
            "CREATE TABLE t{v} (\n  id INTEGER PRIMARY KEY AUTOINCREMENT,\n  name TEXT NOT NULL,\n  \
             created_at DATETIME DEFAULT CURRENT_TIMESTAMP,\n  score REAL,\n  owner_id INTEGER\n);\n\
             CREATE INDEX idx_t{v}_name ON t{v} (name);\n\
             INSERT INTO t{v} (name, score) VALUES ('a', 1.5), ('b', 2.5), ('c', 3.5);\n"
        );
        let down = format!("DROP INDEX idx_t{v}_name;\nDROP TABLE t{v};\n");
        std::fs::write(dir.join(format!("{v:06}_table_{v}.up.sql")), up).expect("write");
        std::fs::write(dir.join(format!("{v:06}_table_{v}.down.sql")), down).expect("write");
    }
    let started = Instant::now();
    let table = migrate_core::load_dir(&dir).expect("valid set");
    let loaded = started.elapsed();
    migrate_engine::verify(&table).expect("verifies");
    let verified = started.elapsed() - loaded;
    let mut conn = rusqlite::Connection::open_in_memory().expect("in-memory database");
    let applying = Instant::now();
    migrate_engine::run(
        &table,
        &migrate_engine::Options::default(),
        &mut conn,
        migrate_engine::Target::Latest,
    )
    .expect("applies");
    println!(
        "{n} migrations: load+check {loaded:?}, verify {verified:?}, apply once {:?}",
        applying.elapsed()
    );
}
