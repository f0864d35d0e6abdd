//! A PostgreSQL script, statement by statement, with where each one starts: so a failure names
//! its line.
//!
//! PostgreSQL's lexical rules, as far as splitting needs them: `--` and nested `/* */` comments,
//! `'…'` strings (with `''`), `E'…'` strings (with backslash escapes), `"…"` identifiers and
//! `$tag$…$tag$` dollar quoting (function bodies), and, as psql does, SQL-standard bodies
//! (`CREATE FUNCTION … BEGIN ATOMIC …; END`), whose semicolons do not end the statement: core's
//! scanner, in the shape verification reports from.

/// One statement of a script: its text (without the closing `;`) and the byte offset of its
/// first character of code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Statement<'a> {
    pub(crate) start: usize,
    pub(crate) text: &'a str,
}

/// The statements of `sql`, empty ones (only comments and white space) left out: core's
/// PostgreSQL scanner (the one the compile-time checks use), each statement from its first
/// character of code to its end, without the closing `;`.
pub(crate) fn statements<'a>(sql: &'a str) -> Vec<Statement<'a>> {
    migrate_core::sql::statements_in(sql, migrate_core::Database::Postgres)
        .into_iter()
        .map(|statement| {
            let end = statement.text_start + statement.text.len();
            let text = sql[statement.start..end].trim_end();
            Statement {
                start: statement.start,
                text: text.strip_suffix(';').unwrap_or(text).trim_end(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        statements(sql).into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn splits_on_semicolons_outside_quotes_and_comments() {
        assert_eq!(
            texts(
                "-- a; comment\nCREATE TABLE t (a text DEFAULT ';');\n/* x; /* nested; */ y; */ INSERT INTO \"t;\" VALUES (E'\\';');\n;\n"
            ),
            [
                "CREATE TABLE t (a text DEFAULT ';')",
                "INSERT INTO \"t;\" VALUES (E'\\';')"
            ]
        );
    }

    #[test]
    fn keeps_dollar_quoted_bodies_whole() {
        let sql = "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  NEW.a := 'x;';\n  RETURN NEW;\nEND;\n$$;\nCREATE FUNCTION g(int) RETURNS int AS $body$ SELECT $1; $body$ LANGUAGE sql;";
        let found = statements(sql);
        assert_eq!(found.len(), 2);
        assert!(found[0].text.ends_with("END;\n$$"), "{:?}", found[0]);
        assert_eq!(found[1].start, sql.find("CREATE FUNCTION g").unwrap());
        assert!(found[1].text.ends_with("$body$ LANGUAGE sql"));
    }

    #[test]
    fn keeps_sql_standard_bodies_whole() {
        let body = "CREATE OR REPLACE FUNCTION grade(score int) RETURNS text LANGUAGE sql\nBEGIN ATOMIC\n  SELECT CASE WHEN score > 50 THEN 'pass' ELSE 'fail' END;\n  SELECT 'x';\nEND";
        let sql = format!("{body};\nCREATE TABLE after_it (a int);\nBEGIN;\nEND;");
        assert_eq!(
            texts(&sql),
            [body, "CREATE TABLE after_it (a int)", "BEGIN", "END"]
        );
    }

    #[test]
    fn a_word_ending_in_e_does_not_start_an_escape_string() {
        assert_eq!(
            texts("SELECT 'a\\'; SELECT 2;"),
            ["SELECT 'a\\'", "SELECT 2"]
        );
        assert_eq!(
            texts("SELECT some'\\'; SELECT 2;"),
            ["SELECT some'\\'", "SELECT 2"]
        );
    }
}
