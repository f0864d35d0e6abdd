//! Running a migration script on PostgreSQL, so that a failure names the line in the file.
//!
//! Inside the run's transaction a script is sent whole, as one simple query: PostgreSQL's
//! error position (a character offset into the text sent) gives the line. An error without a
//! position (a constraint violated, a division by zero) is located by rolling back to the
//! savepoint taken before the script and running its statements one at a time until one
//! fails again. A `-- migrate:no-transaction` script is always sent one statement at a time
//! (PostgreSQL runs a multi-statement query as one implicit transaction, in which
//! `CREATE INDEX CONCURRENTLY` is refused).

use migrate_core::sql::{Statement, excerpt, line_col};
use tokio_postgres::error::ErrorPosition;

use crate::error::postgres_message;
use crate::postgres::client::Client;

/// Where and why a script failed on PostgreSQL (the message with its detail and hint).
pub(crate) type ScriptFailure = crate::error::ScriptFailure<tokio_postgres::Error>;

/// What goes before the script in the text sent, so the script can be rolled back alone.
const BEFORE: &str = "SAVEPOINT migrate_step;\n";

/// Runs `sql` inside the caller's open transaction.
pub(crate) async fn run_in_transaction<C: Client>(
    client: &mut C,
    sql: &str,
) -> Result<(), ScriptFailure> {
    // The newline ends a line comment at the end of the file; `;` ends its last statement.
    let text = format!("{BEFORE}{sql}\n;RELEASE SAVEPOINT migrate_step");
    let Err(error) = client.batch(&text).await else {
        return Ok(());
    };
    let statements = statements(sql);
    if let Some(offset) = position(&error)
        .and_then(|p| p.checked_sub(BEFORE.chars().count()))
        .and_then(|chars| char_to_byte(sql, chars))
    {
        let statement = statements
            .iter()
            .find(|s| offset < s.text_start + s.text.len())
            .or(statements.last());
        return Err(failure(sql, statement, offset, true, error));
    }
    // No position: find the statement by running them again, one at a time.
    if client
        .batch("ROLLBACK TO SAVEPOINT migrate_step")
        .await
        .is_ok()
    {
        for statement in &statements {
            if let Err(again) = client.batch(statement.text).await {
                return Err(at_statement(sql, statement, again));
            }
        }
    }
    let first = statements.first();
    let offset = first.map_or(0, |s| s.start);
    Err(failure(sql, first, offset, false, error))
}

/// Runs the statements of `sql` one at a time (outside any transaction).
pub(crate) async fn run_one_at_a_time<C: Client>(
    client: &mut C,
    sql: &str,
) -> Result<(), ScriptFailure> {
    for statement in &statements(sql) {
        if let Err(error) = client.batch(statement.text).await {
            return Err(at_statement(sql, statement, error));
        }
    }
    Ok(())
}

/// A failure of `statement` run alone: its error position counts from the statement's text.
fn at_statement(
    sql: &str,
    statement: &Statement<'_>,
    error: tokio_postgres::Error,
) -> ScriptFailure {
    match position(&error).and_then(|chars| char_to_byte(statement.text, chars)) {
        Some(offset) => failure(
            sql,
            Some(statement),
            statement.text_start + offset,
            true,
            error,
        ),
        None => failure(sql, Some(statement), statement.start, false, error),
    }
}

fn failure(
    sql: &str,
    statement: Option<&Statement<'_>>,
    offset: usize,
    pointed: bool,
    source: tokio_postgres::Error,
) -> ScriptFailure {
    let (line, column) = line_col(sql, offset);
    ScriptFailure {
        line,
        column: pointed.then_some(column),
        statement: statement.map_or_else(String::new, |s| {
            excerpt(&sql[s.start..s.text_start + s.text.len()], 60)
        }),
        message: postgres_message(&source),
        source,
    }
}

/// The 0-based character index PostgreSQL's error points at in the text sent (its position
/// counts characters from 1), when it points into that text.
fn position(error: &tokio_postgres::Error) -> Option<usize> {
    match error.as_db_error()?.position()? {
        ErrorPosition::Original(p) => usize::try_from(*p).ok()?.checked_sub(1),
        ErrorPosition::Internal { .. } => None,
    }
}

/// The byte offset of the `chars`-th character of `text`, when it is inside `text`.
fn char_to_byte(text: &str, chars: usize) -> Option<usize> {
    text.char_indices().nth(chars).map(|(byte, _)| byte)
}

/// The statements of `sql` as psql splits them: core's PostgreSQL scanner, the one the
/// compile-time checks use.
pub(crate) fn statements(sql: &str) -> Vec<Statement<'_>> {
    migrate_core::sql::statements_in(sql, migrate_core::Database::Postgres)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        statements(sql)
            .iter()
            .map(|s| &sql[s.start..s.text_start + s.text.len()])
            .collect()
    }

    #[test]
    fn splits_on_semicolons_outside_strings_comments_and_bodies() {
        let sql = "CREATE TABLE a (x text DEFAULT ';');\n\
                   -- a comment; still a comment\n\
                   CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n\
                   /* outer /* inner; */ still; */ SELECT E'it\\'s;', \"we;ird\", $$x;y$$;\n\
                   CREATE RULE r AS ON INSERT TO a DO ALSO (NOTIFY a; NOTIFY b);\n\
                   SELECT $1 ; -- trailing";
        assert_eq!(
            texts(sql),
            [
                "CREATE TABLE a (x text DEFAULT ';');",
                "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;",
                "SELECT E'it\\'s;', \"we;ird\", $$x;y$$;",
                "CREATE RULE r AS ON INSERT TO a DO ALSO (NOTIFY a; NOTIFY b);",
                "SELECT $1 ;",
            ]
        );
    }

    #[test]
    fn an_sql_standard_function_body_is_one_statement() {
        let sql = "CREATE OR REPLACE FUNCTION grade(n int) RETURNS text LANGUAGE sql\n\
                   BEGIN ATOMIC\n  SELECT CASE WHEN n > 5 THEN 'high' ELSE 'low' END;\n  SELECT 'x';\nEND;\n\
                   CREATE TABLE begin_end (x int);";
        assert_eq!(
            texts(sql),
            [
                "CREATE OR REPLACE FUNCTION grade(n int) RETURNS text LANGUAGE sql\n\
                 BEGIN ATOMIC\n  SELECT CASE WHEN n > 5 THEN 'high' ELSE 'low' END;\n  SELECT 'x';\nEND;",
                "CREATE TABLE begin_end (x int);",
            ]
        );
        // Outside a routine, BEGIN is a statement of its own.
        assert_eq!(texts("BEGIN;\nSELECT 1;"), ["BEGIN;", "SELECT 1;"]);
    }

    #[test]
    fn a_last_statement_without_semicolon_counts_and_empty_ones_do_not() {
        assert_eq!(texts(";;\nSELECT 1;\n;SELECT 2"), ["SELECT 1;", "SELECT 2"]);
        assert!(statements("-- only a comment\n").is_empty());
    }

    #[test]
    fn positions_are_characters_not_bytes() {
        assert_eq!(char_to_byte("é;x", 2), Some(3));
        assert_eq!(char_to_byte("ab", 2), None);
    }
}
