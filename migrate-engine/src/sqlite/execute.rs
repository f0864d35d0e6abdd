//! Running one migration script, statement by statement, so a failure can name the line.

use migrate_core::sql::{excerpt, line_col, statements};
use rusqlite::fallible_iterator::FallibleIterator;
use rusqlite::{Batch, Connection};

use crate::error::sqlite_message;

/// Where and why a script failed on SQLite.
pub(crate) type ScriptFailure = crate::error::ScriptFailure<rusqlite::Error>;

/// Runs every statement of `sql` on `conn`, in order, stopping at the first failure.
///
/// Statements are split as SQLite's `sqlite3_complete()` splits them (see
/// [`migrate_core::sql::statements`]), so trigger bodies stay whole.
pub(crate) fn run_script(conn: &Connection, sql: &str) -> Result<(), ScriptFailure> {
    for statement in statements(sql) {
        if let Err(source) = run_statement(conn, statement.text) {
            // A syntax error carries the offending token's offset within what was prepared.
            let (offset, pointed) = match &source {
                rusqlite::Error::SqlInputError { offset, .. } if *offset >= 0 => {
                    (statement.text_start + offset.unsigned_abs() as usize, true)
                }
                _ => (statement.start, false),
            };
            let (line, column) = line_col(sql, offset);
            return Err(ScriptFailure {
                line,
                column: pointed.then_some(column),
                statement: excerpt(
                    &sql[statement.start..statement.text_start + statement.text.len()],
                    60,
                ),
                message: sqlite_message(&source),
                source,
            });
        }
    }
    Ok(())
}

/// Runs the statement(s) of `text`, each stepped until it is done. `execute_batch` steps a
/// statement once: for one that returns rows, that is one row's worth of work
/// (`PRAGMA incremental_vacuum` frees one page per row), and the rest would silently not run.
fn run_statement(conn: &Connection, text: &str) -> rusqlite::Result<()> {
    let mut batch = Batch::new(conn, text);
    while let Some(mut statement) = batch.next()? {
        let mut rows = statement.raw_query();
        while rows.next()?.is_some() {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail(sql: &str) -> ScriptFailure {
        let conn = Connection::open_in_memory().unwrap();
        run_script(&conn, sql).expect_err("the script should fail")
    }

    #[test]
    fn syntax_errors_point_at_line_and_column() {
        let f = fail("CREATE TABLE a (x);\n\n-- next\nCREATE TABL b (y);");
        assert_eq!((f.line, f.column), (4, Some(8)));
        assert_eq!(f.statement, "CREATE TABL b (y);");
        assert!(f.message.contains("syntax error"), "{}", f.message);
    }

    #[test]
    fn runtime_errors_point_at_the_statement() {
        let f = fail("CREATE TABLE a (x);\nINSERT INTO missing VALUES (1);");
        assert_eq!((f.line, f.column), (2, None));
        assert_eq!(f.message, "no such table: missing");
    }

    #[test]
    fn statements_that_return_rows_run_to_completion() {
        // `PRAGMA incremental_vacuum` frees one page per result row: stepped once, it would
        // free one page and report success.
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "PRAGMA auto_vacuum = INCREMENTAL;\nCREATE TABLE t (body BLOB);\n\
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50)\n\
             INSERT INTO t SELECT randomblob(4000) FROM n;\nDELETE FROM t;",
        )
        .unwrap();
        let free = |conn: &Connection| -> i64 {
            conn.query_row("PRAGMA freelist_count", [], |r| r.get(0))
                .unwrap()
        };
        assert!(free(&conn) > 10);
        run_script(
            &conn,
            "PRAGMA incremental_vacuum;\nSELECT 1 UNION ALL SELECT 2;",
        )
        .unwrap();
        assert_eq!(free(&conn), 0);
    }

    #[test]
    fn runs_triggers_and_strings_with_semicolons() {
        let conn = Connection::open_in_memory().unwrap();
        let sql = "CREATE TABLE a (x TEXT);\nCREATE TABLE n (c INTEGER);\nINSERT INTO n VALUES (0);\n\
                   CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE n SET c = c + 1; END;\n\
                   INSERT INTO a VALUES ('x;y');";
        run_script(&conn, sql).unwrap();
        let c: i64 = conn.query_row("SELECT c FROM n", [], |r| r.get(0)).unwrap();
        assert_eq!(c, 1);
    }
}
