//! 200 migrations as plain `include_str!` lines, run in one transaction on the file given.

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "size.db".to_owned());
    let mut conn = rusqlite::Connection::open(path).expect("open");
    let tx = conn.transaction().expect("begin");
    for (_, up, _) in set_n200::MIGRATIONS {
        tx.execute_batch(up).expect("migration");
    }
    tx.commit().expect("commit");
    println!("applied {}", set_n200::MIGRATIONS.len());
}
