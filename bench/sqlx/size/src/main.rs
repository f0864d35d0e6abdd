//! A service embedding 200 migrations: applies them to the file given.

use sqlx::ConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "size.db".to_owned());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut conn = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .connect()
            .await
            .expect("open");
        set_n200::MIGRATOR.run(&mut conn).await.expect("up");
    });
    println!("applied {}", set_n200::MIGRATOR.iter().count());
}
