//! The three calls the PostgreSQL side makes, over either client: `tokio_postgres::Client`
//! (async, also what deadpool-postgres and bb8 hand out) and `postgres::Client` (blocking).
//!
//! The engine's PostgreSQL code is written once, as `async fn`s generic over [`Client`]. For the
//! blocking client every call completes before it returns, so [`block_on`] drives such a future
//! to its end in one poll, without a runtime of its own.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

/// A query's parameters, as both clients take them.
pub(crate) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

mod sealed {
    pub trait Sealed {}
}

/// A PostgreSQL connection the engine can run on: implemented for `tokio_postgres::Client` and,
/// with feature `postgres`, `postgres::Client`. Sealed: the engine relies on each call being
/// one round trip on one session (the session holds the advisory lock and the transaction).
#[allow(async_fn_in_trait)] // Only the engine calls these, on the two concrete clients.
pub trait Client: sealed::Sealed {
    /// Runs `sql` with the simple query protocol: several statements, no parameters.
    #[doc(hidden)]
    async fn batch(&mut self, sql: &str) -> Result<(), tokio_postgres::Error>;
    /// Runs one statement and returns its rows.
    #[doc(hidden)]
    async fn query(
        &mut self,
        sql: &str,
        params: Params<'_>,
    ) -> Result<Vec<Row>, tokio_postgres::Error>;
    /// Runs one statement and returns how many rows it changed.
    #[doc(hidden)]
    async fn execute(
        &mut self,
        sql: &str,
        params: Params<'_>,
    ) -> Result<u64, tokio_postgres::Error>;
    /// Runs `sql` with the simple query protocol and returns its rows as text: one round trip,
    /// where `query` takes two (it prepares the statement first). For the start-up reads.
    #[doc(hidden)]
    async fn text_rows(&mut self, sql: &str) -> Result<TextRows, tokio_postgres::Error>;
}

/// Rows as the simple query protocol returns them: each column's text, or `None` for NULL.
pub type TextRows = Vec<Vec<Option<String>>>;

/// The rows among the messages of a simple query.
fn text_rows(messages: Vec<tokio_postgres::SimpleQueryMessage>) -> TextRows {
    messages
        .into_iter()
        .filter_map(|message| match message {
            tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_owned))
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

impl sealed::Sealed for tokio_postgres::Client {}

impl Client for tokio_postgres::Client {
    async fn batch(&mut self, sql: &str) -> Result<(), tokio_postgres::Error> {
        self.batch_execute(sql).await
    }

    async fn query(
        &mut self,
        sql: &str,
        params: Params<'_>,
    ) -> Result<Vec<Row>, tokio_postgres::Error> {
        tokio_postgres::Client::query(self, sql, params).await
    }

    async fn execute(
        &mut self,
        sql: &str,
        params: Params<'_>,
    ) -> Result<u64, tokio_postgres::Error> {
        tokio_postgres::Client::execute(self, sql, params).await
    }

    async fn text_rows(&mut self, sql: &str) -> Result<TextRows, tokio_postgres::Error> {
        self.simple_query(sql).await.map(text_rows)
    }
}

#[cfg(feature = "postgres")]
impl sealed::Sealed for postgres::Client {}

#[cfg(feature = "postgres")]
impl Client for postgres::Client {
    async fn batch(&mut self, sql: &str) -> Result<(), tokio_postgres::Error> {
        self.batch_execute(sql)
    }

    async fn query(
        &mut self,
        sql: &str,
        params: Params<'_>,
    ) -> Result<Vec<Row>, tokio_postgres::Error> {
        postgres::Client::query(self, sql, params)
    }

    async fn execute(
        &mut self,
        sql: &str,
        params: Params<'_>,
    ) -> Result<u64, tokio_postgres::Error> {
        postgres::Client::execute(self, sql, params)
    }

    async fn text_rows(&mut self, sql: &str) -> Result<TextRows, tokio_postgres::Error> {
        self.simple_query(sql).map(text_rows)
    }
}

/// Drives `future` to its end on this thread. Meant for futures whose every await is a call on
/// the blocking `postgres::Client` (ready at once); anything else it polls until ready, yielding
/// the thread between polls.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))] // Used by the blocking entries.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::yield_now();
    }
}

#[cfg(test)]
mod tests {
    use super::block_on;

    #[test]
    fn block_on_returns_what_a_ready_future_returns() {
        assert_eq!(block_on(async { 7 }), 7);
    }

    #[test]
    fn block_on_polls_again_until_ready() {
        let mut polls = 0;
        let future = std::future::poll_fn(|_| {
            polls += 1;
            if polls < 3 {
                std::task::Poll::Pending
            } else {
                std::task::Poll::Ready(polls)
            }
        });
        assert_eq!(block_on(future), 3);
    }
}
