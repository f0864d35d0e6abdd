//! A service embedding 200 migrations: applies them to the file given.

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "size.db".to_owned());
    let mut conn = rusqlite::Connection::open(path).expect("open");
    set_n200::MIGRATIONS.to_latest(&mut conn).expect("up");
    println!("applied");
}
