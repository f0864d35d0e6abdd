//! A service embedding 200 migrations: applies them to the file given.

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "size.db".to_owned());
    let mut conn = rusqlite::Connection::open(path).expect("open");
    let report = set_n200::embedded::migrations::runner()
        .run(&mut conn)
        .expect("up");
    println!("applied {}", report.applied_migrations().len());
}
