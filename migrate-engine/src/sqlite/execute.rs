//! Running one migration script so that a failure can name its line.
//!
//! The script runs through one [`Batch`]: SQLite itself finds where each statement ends as it
//! prepares it (the same split `execute_batch` and golang-migrate's driver get), and each
//! statement is stepped until it is done. Nothing scans the script in Rust while it runs; only
//! when a statement fails is the script split with [`migrate_core::sql::statements`] (SQLite's
//! `sqlite3_complete()` rules) to name the failing statement's line and first words:
//!
//! - a syntax error: SQLite reports the offending token's offset within the text it was
//!   preparing, which is the rest of the script from where the previous statement ended, so
//!   its place in the file is known exactly, whatever the split;
//! - any other error: the failing statement is the one after the `ran` statements that
//!   completed (SQLite, like the splitter, skips empty statements, `;;`, and a tail of
//!   comments). When SQLite hands the statement's text back (it does for a statement that
//!   failed while running and has no parameters), it is compared with the split: if they
//!   ever disagreed, the statement is found by its own text, and if that text is not unique
//!   in the file, the error says that the line is where this tool's split puts it, which may
//!   not be the right one, rather than pointing at a wrong line with confidence.
//!
//! SQLite copies the text it is given into a NUL-terminated buffer at every prepare unless it
//! already ends with a NUL: the batch gets the script with a NUL appended, so a script of many
//! statements costs one copy, not one of its whole rest per statement.

use std::borrow::Cow;

use migrate_core::sql::{Statement, TokenKind, excerpt, line_col, statements, tokens};
use rusqlite::fallible_iterator::FallibleIterator;
use rusqlite::{Batch, Connection};

use crate::error::sqlite_message;

/// Where and why a script failed on SQLite.
pub(crate) type ScriptFailure = crate::error::ScriptFailure<rusqlite::Error>;

/// Runs every statement of `sql` on `conn`, in order, stopping at the first failure.
///
/// Statements end where SQLite's parser ends them, so trigger bodies stay whole; the error
/// names the failing statement's line (and, for a syntax error, the column of the offending
/// token).
pub(crate) fn run_script(conn: &Connection, sql: &str) -> Result<(), ScriptFailure> {
    if sql.contains('\0') {
        // SQLite stops reading at a NUL byte: statement by statement, as the split has them,
        // so that what follows the NUL's statement still runs as it always did (the checks
        // refuse such a script before it gets here).
        return run_split(conn, sql);
    }
    let mut text = String::with_capacity(sql.len() + 1);
    text.push_str(sql);
    text.push('\0');
    let mut batch = Batch::new(conn, &text);
    // Statements that ran to completion.
    let mut ran = 0;
    loop {
        let mut statement = match batch.next() {
            Ok(Some(statement)) => statement,
            Ok(None) => return Ok(()),
            Err(source) => return Err(locate(sql, text.len(), ran, source, None)),
        };
        if let Err(source) = step_to_completion(&mut statement) {
            // SQLite's own text of the statement, to check the split against (with
            // parameters, the expanded text is not the file's).
            let ran_text = if statement.parameter_count() == 0 {
                statement.expanded_sql()
            } else {
                None
            };
            return Err(locate(sql, text.len(), ran, source, ran_text));
        }
        ran += 1;
    }
}

/// Steps `statement` until it is done. `execute` would step it once: for one that returns
/// rows, that is one row's worth of work (`PRAGMA incremental_vacuum` frees one page per row),
/// and the rest would silently not run.
fn step_to_completion(statement: &mut rusqlite::Statement<'_>) -> rusqlite::Result<()> {
    let mut rows = statement.raw_query();
    while rows.next()?.is_some() {}
    Ok(())
}

/// The failure of the statement after the `ran` that completed, in `sql`, which ran as the
/// first `batch_len` bytes' batch (the script and its NUL): `source` is SQLite's error,
/// `ran_text` SQLite's text of the failing statement when it gave it back.
fn locate(
    sql: &str,
    batch_len: usize,
    ran: usize,
    source: rusqlite::Error,
    ran_text: Option<String>,
) -> ScriptFailure {
    let parsed = as_parsed(sql);
    let split = statements(&parsed);
    if let rusqlite::Error::SqlInputError {
        error,
        msg,
        sql: prepared,
        offset,
    } = &source
        && *offset >= 0
    {
        // SQLite was preparing the end of the batch's text, from where its previous statement
        // ended: the offending token's place in the file is exact, whatever the split.
        let at = (batch_len.saturating_sub(prepared.len()) + offset.unsigned_abs() as usize)
            .min(sql.len());
        let Some(statement) = split
            .iter()
            .rev()
            .find(|s| s.text_start <= at)
            .or(split.first())
        else {
            return failure(sql, (at, sql.len()), Some(at), source);
        };
        // The error as preparing the statement alone gives it (its text and the offset
        // within it), as before the batch ran the whole script.
        let relative = at.saturating_sub(statement.text_start);
        let source = rusqlite::Error::SqlInputError {
            error: *error,
            msg: msg.clone(),
            sql: statement.text.to_owned(),
            offset: i32::try_from(relative).unwrap_or(*offset),
        };
        return failure(sql, span(statement), Some(at), source);
    }
    let statement = split.get(ran);
    if let Some(text) = ran_text.filter(|text| !statement.is_some_and(|s| agrees(sql, s, text))) {
        // The split and SQLite disagree (not known to happen: the split follows
        // `sqlite3_complete()`): the statement SQLite ran, found by its own text.
        let code = code_of(&text);
        let mut found = sql.match_indices(code).map(|(i, _)| i);
        return match (found.next(), found.next()) {
            (Some(at), None) if !code.is_empty() => {
                failure(sql, (at, at + code.len()), None, source)
            }
            (Some(at), Some(_)) if !code.is_empty() => uncertain(
                sql,
                (at, at + code.len()),
                source,
                "SQLite divided this file into statements differently from this tool, and this \
                 statement appears more than once in it: the line given is the first",
            ),
            _ => uncertain(
                sql,
                statement.map_or((0, sql.len()), span),
                source,
                "SQLite divided this file into statements differently from this tool: the line \
                 given is where this tool's reading puts the failing statement",
            ),
        };
    }
    match statement {
        Some(statement) => failure(sql, span(statement), None, source),
        // More statements ran than the split finds.
        None => uncertain(
            sql,
            split.last().map_or((0, sql.len()), span),
            source,
            "SQLite divided this file into statements differently from this tool: the line given \
             is that of the last statement, which may not be the one that failed",
        ),
    }
}

/// `sql` with every byte order mark that starts a word turned into three spaces (the same
/// length, so every offset stays): SQLite's tokenizer reads such a mark as white space, while
/// `sqlite3_complete()`, which the split follows, reads it as part of a word. So a `;` followed
/// by a mark and `;` is an empty statement, as SQLite runs it, and a `CREATE TRIGGER` after a
/// mark keeps its body whole.
fn as_parsed(sql: &str) -> Cow<'_, str> {
    const BOM: char = '\u{feff}';
    if !sql.contains(BOM) {
        return Cow::Borrowed(sql);
    }
    let mut text = sql.to_owned();
    for token in tokens(sql).filter(|t| t.kind == TokenKind::Word) {
        let marks = sql[token.start..token.end]
            .chars()
            .take_while(|c| *c == BOM)
            .count();
        let end = token.start + marks * BOM.len_utf8();
        text.replace_range(token.start..end, &" ".repeat(end - token.start));
    }
    Cow::Owned(text)
}

/// A statement's code in the file: from its first word to its end.
fn span(statement: &Statement<'_>) -> (usize, usize) {
    (statement.start, statement.text_start + statement.text.len())
}

/// `text` without the white space, comments and empty statements (`;`) it starts with.
fn code_of(text: &str) -> &str {
    let start = tokens(&as_parsed(text))
        .find(|t| t.is_code() && t.kind != TokenKind::Semicolon)
        .map_or(text.len(), |t| t.start);
    &text[start..]
}

/// Whether SQLite's text of the statement it ran is `statement`'s code.
fn agrees(sql: &str, statement: &Statement<'_>, sqlite_text: &str) -> bool {
    let (start, end) = span(statement);
    code_of(sqlite_text) == &sql[start..end]
}

/// The failure of the statement whose code is `sql[start..end]`, pointed at `at` for a syntax
/// error.
fn failure(
    sql: &str,
    (start, end): (usize, usize),
    at: Option<usize>,
    source: rusqlite::Error,
) -> ScriptFailure {
    let (line, column) = line_col(sql, at.unwrap_or(start));
    ScriptFailure {
        line,
        column: at.map(|_| column),
        statement: excerpt(&sql[start..end], 60),
        message: sqlite_message(&source),
        source,
    }
}

/// [`failure`] at a place that SQLite's split of the script does not confirm: `note` says so.
fn uncertain(
    sql: &str,
    span: (usize, usize),
    source: rusqlite::Error,
    note: &str,
) -> ScriptFailure {
    let mut failure = failure(sql, span, None, source);
    failure.message = format!("{} ({note})", failure.message);
    failure
}

/// Runs the statements of `sql` one by one as the split finds them: each is prepared on its
/// own, so a statement SQLite would stop reading early (at a NUL byte) ends there and the
/// next one still runs.
fn run_split(conn: &Connection, sql: &str) -> Result<(), ScriptFailure> {
    for statement in statements(sql) {
        if let Err(source) = run_statement(conn, statement.text) {
            // A syntax error carries the offending token's offset within what was prepared.
            let at = match &source {
                rusqlite::Error::SqlInputError { offset, .. } if *offset >= 0 => {
                    Some(statement.text_start + offset.unsigned_abs() as usize)
                }
                _ => None,
            };
            return Err(failure(sql, span(&statement), at, source));
        }
    }
    Ok(())
}

/// Runs the statement(s) of `text`, each stepped until it is done.
fn run_statement(conn: &Connection, text: &str) -> rusqlite::Result<()> {
    let mut batch = Batch::new(conn, text);
    while let Some(mut statement) = batch.next()? {
        step_to_completion(&mut statement)?;
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

    /// What a failure shows: line, column, excerpt, message and the source's text.
    fn shown(f: &ScriptFailure) -> (usize, Option<usize>, String, String, String) {
        (
            f.line,
            f.column,
            f.statement.clone(),
            f.message.clone(),
            f.source.to_string(),
        )
    }

    /// The failure of `sql` on a fresh database, as the batch reports it; asserts that running
    /// it statement by statement as the split has them (the way every script ran before the
    /// batch) reports exactly the same.
    fn fail_both(sql: &str) -> ScriptFailure {
        let batch = fail(sql);
        let conn = Connection::open_in_memory().unwrap();
        let split =
            run_split(&conn, sql).expect_err("the script should fail statement by statement");
        assert_eq!(shown(&batch), shown(&split), "{sql:?}");
        batch
    }

    const TABLES: &str = "CREATE TABLE a (x INTEGER UNIQUE CHECK (x < 100));\n\
                          CREATE TABLE log (what TEXT NOT NULL);\n";

    #[test]
    fn empty_statements_before_the_failing_one_do_not_shift_it() {
        // SQLite reads `;;` as part of the next statement's text; the split skips them.
        let f = fail_both("CREATE TABLE a (x);;\n;\nCREATE TABLE a (y);");
        assert_eq!((f.line, f.column), (3, Some(14)));
        assert_eq!(f.message, "table a already exists");
        let f = fail_both("CREATE TABLE a (x);\n;; ;\nSELEC 1;\nSELECT 2;");
        assert_eq!(
            (f.line, f.column, f.statement.as_str()),
            (3, Some(1), "SELEC 1;")
        );
        let f = fail_both(";;\n;INSERT INTO missing VALUES (1);");
        assert_eq!((f.line, f.column), (2, None));
    }

    #[test]
    fn a_comment_only_tail_is_not_a_statement() {
        let f =
            fail_both("CREATE TABLE a (x);\nINSERT INTO b VALUES (1);\n-- the end\n/* really */\n");
        assert_eq!(
            (f.line, f.statement.as_str()),
            (2, "INSERT INTO b VALUES (1);")
        );
        let f = fail_both("CREATE TABLE a (x);\nSELECT (1\n-- never closed\n");
        assert_eq!(f.line, 2);
        assert!(f.message.contains("incomplete input"), "{}", f.message);
    }

    #[test]
    fn a_bom_and_crlf_count_as_the_file_has_them() {
        // The embedded table strips a leading BOM; a script handed over with one keeps it,
        // and SQLite reads it as part of a word.
        let f = fail_both("\u{feff}CREATE TABLE a (x);\nCREATE TABLE a (x);");
        assert_eq!((f.line, f.column), (2, Some(14)));
        // A mark further on is white space to SQLite, not a statement.
        let f = fail("CREATE TABLE a (x);\u{feff};\nINSERT INTO missing VALUES (1);");
        assert_eq!(
            (f.line, f.statement.as_str()),
            (2, "INSERT INTO missing VALUES (1);")
        );
        let f = fail(
            "CREATE TABLE a (x);\n\u{feff}CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; SELECT 2; \
             END;\n\u{feff}\nINSERT INTO missing VALUES (1);",
        );
        assert_eq!(
            (f.line, f.statement.as_str()),
            (4, "INSERT INTO missing VALUES (1);")
        );
        let f = fail_both("CREATE TABLE a (x);\r\n\r\nCREATE TABL b (y);\r\nSELECT 1;\r\n");
        assert_eq!((f.line, f.column), (3, Some(8)));
        let f = fail_both("CREATE TABLE a (x);\r\n-- x\r\nINSERT INTO b VALUES (1);\r\n");
        assert_eq!((f.line, f.column), (3, None));
    }

    #[test]
    fn a_syntax_error_in_the_fifth_statement() {
        let sql = format!(
            "{TABLES}INSERT INTO a VALUES (1);\nINSERT INTO log VALUES ('one; two');\n\
             /* ; */ INSERT INTO a VALUES (2) WHERE;\nINSERT INTO a VALUES (3);"
        );
        let f = fail_both(&sql);
        assert_eq!((f.line, f.column), (5, Some(34)));
        assert_eq!(f.statement, "INSERT INTO a VALUES (2) WHERE;");
        assert_eq!(f.message, "near \"WHERE\": syntax error");
    }

    #[test]
    fn a_constraint_in_a_later_statement() {
        let sql = format!(
            "{TABLES}INSERT INTO a VALUES (1);\n\nINSERT INTO log VALUES ('a;b');\n\
             INSERT INTO a\n  VALUES (1);\nINSERT INTO a VALUES (5);"
        );
        let f = fail_both(&sql);
        assert_eq!((f.line, f.column), (6, None));
        assert_eq!(f.statement, "INSERT INTO a…");
        assert_eq!(f.message, "UNIQUE constraint failed: a.x");
    }

    #[test]
    fn errors_around_trigger_bodies() {
        let trigger = "CREATE TRIGGER t AFTER INSERT ON log BEGIN\n  \
                       INSERT INTO a VALUES (CASE WHEN new.what = 'big' THEN 500 ELSE 1 END);\n  \
                       UPDATE a SET x = x + 1;\nEND;\n";
        // An error inside the body, when it fires: the statement that fired it.
        let f = fail_both(&format!(
            "{TABLES}{trigger}INSERT INTO log VALUES ('small');\nINSERT INTO log VALUES ('big');"
        ));
        assert_eq!((f.line, f.column), (8, None));
        assert_eq!(f.statement, "INSERT INTO log VALUES ('big');");
        assert_eq!(f.message, "CHECK constraint failed: x < 100");
        // After the body (its `;` and `CASE … END` included), the count goes on.
        let f = fail_both(&format!("{TABLES}{trigger}DELETE FROM nowhere;"));
        assert_eq!((f.line, f.column), (7, None));
        // A syntax error inside the body points into it.
        let f = fail_both(&format!(
            "{TABLES}CREATE TRIGGER t AFTER INSERT ON log BEGIN\n  SELECT 1;\n  UPDAT a SET x = 1;\nEND;"
        ));
        assert_eq!((f.line, f.column), (5, Some(3)));
        assert_eq!(f.statement, "CREATE TRIGGER t AFTER INSERT ON log BEGIN…");
    }

    #[test]
    fn columns_count_characters() {
        let f = fail_both("SELECT 'é';\nSELECT 'ü', «x» FROM WHERE;");
        assert_eq!((f.line, f.column), (2, Some(22)));
    }

    #[test]
    fn a_statement_with_a_parameter_is_found_by_the_count() {
        // SQLite's text of it is expanded (`NULL` for `?`), so it cannot be compared.
        let f = fail_both(
            "CREATE TABLE a (x NOT NULL);\nINSERT INTO a VALUES (1);\nINSERT INTO a VALUES (?);",
        );
        assert_eq!((f.line, f.column), (3, None));
        assert_eq!(f.message, "NOT NULL constraint failed: a.x");
    }

    #[test]
    fn many_statements_each_at_its_line() {
        let mut sql = String::from("CREATE TABLE a (x INTEGER PRIMARY KEY);\n");
        for i in 1..=2000 {
            sql.push_str(&format!("INSERT INTO a VALUES ({i});\n"));
        }
        sql.push_str("INSERT INTO a VALUES (1234);\n");
        let f = fail_both(&sql);
        assert_eq!((f.line, f.column), (2002, None));
        assert_eq!(f.statement, "INSERT INTO a VALUES (1234);");
    }

    #[test]
    fn a_disagreement_with_sqlite_finds_the_statement_by_its_text() {
        // Simulated: the split is told one statement fewer ran than did.
        let sql =
            "CREATE TABLE a (x UNIQUE);\nINSERT INTO a VALUES (1);\n\nINSERT INTO a VALUES (1) ;";
        let error = || {
            rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(19),
                Some("UNIQUE constraint failed: a.x".to_owned()),
            )
        };
        let f = locate(
            sql,
            sql.len() + 1,
            1,
            error(),
            Some("\n\nINSERT INTO a VALUES (1) ;".to_owned()),
        );
        assert_eq!((f.line, f.column), (4, None));
        assert_eq!(f.statement, "INSERT INTO a VALUES (1) ;");
        assert_eq!(f.message, "UNIQUE constraint failed: a.x");
        // The same text twice: the place cannot be told, and the message says so.
        let sql =
            "CREATE TABLE a (x UNIQUE);\nINSERT INTO a VALUES (1);\nINSERT INTO a VALUES (1);";
        let f = locate(
            sql,
            sql.len() + 1,
            0,
            error(),
            Some("\nINSERT INTO a VALUES (1);".to_owned()),
        );
        assert_eq!(
            (f.line, f.statement.as_str()),
            (2, "INSERT INTO a VALUES (1);")
        );
        assert_eq!(
            f.message,
            "UNIQUE constraint failed: a.x (SQLite divided this file into statements differently \
             from this tool, and this statement appears more than once in it: the line given is \
             the first)"
        );
        // More statements ran than the split has.
        let f = locate(sql, sql.len() + 1, 7, error(), None);
        assert_eq!(f.line, 3);
        assert_eq!(
            f.message,
            "UNIQUE constraint failed: a.x (SQLite divided this file into statements differently \
             from this tool: the line given is that of the last statement, which may not be the \
             one that failed)"
        );
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
