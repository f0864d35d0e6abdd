//! An axum service on tokio: migrate before serving, on tokio's blocking pool.
//!
//! `MIGRATIONS.up` is blocking (SQLite I/O, and up to the busy timeout waiting for another
//! process's write lock), so it runs in `spawn_blocking`, and the listener opens only after it
//! succeeded: a failed migration stops the start-up instead of serving an old schema.
//! The example then asks itself for `/profiles` once and shuts down.

use std::sync::{Arc, Mutex};

use async_examples::{MIGRATIONS, database_path, profiles};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use rusqlite::Connection;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Db = Arc<Mutex<Connection>>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let path = database_path();

    // 1. Migrate, off the async worker threads, before anything is served.
    let conn = tokio::task::spawn_blocking(move || -> Result<Connection, BoxError> {
        let mut conn = Connection::open(&path)?;
        conn.pragma_update(None, "foreign_keys", true)?;
        let report = MIGRATIONS.up(&mut conn)?;
        println!("{path}: {report}");
        Ok(conn)
    })
    .await??;

    // 2. Serve.
    let app = Router::new()
        .route("/profiles", get(list_profiles))
        .with_state(Arc::new(Mutex::new(conn)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });

    // 3. One request, as a readiness probe would make, then stop.
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    stream
        .write_all(b"GET /profiles HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let status = response.lines().next().unwrap_or_default().to_owned();
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    println!("GET /profiles: {status}: {body}");
    let _ = stop.send(());
    server.await??;
    if status.contains(" 200 ") {
        Ok(())
    } else {
        Err(format!("unexpected response: {status}").into())
    }
}

/// Queries are blocking too: each runs on the blocking pool.
async fn list_profiles(State(db): State<Db>) -> Result<String, (StatusCode, String)> {
    let internal = |error: String| (StatusCode::INTERNAL_SERVER_ERROR, error);
    tokio::task::spawn_blocking(move || {
        let conn = db.lock().map_err(|error| error.to_string())?;
        profiles(&conn).map_err(|error| error.to_string())
    })
    .await
    .map_err(|error| internal(error.to_string()))?
    .map_err(internal)
}
