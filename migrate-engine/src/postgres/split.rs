//! A PostgreSQL script, statement by statement, with where each one starts: so a failure names
//! its line.
//!
//! PostgreSQL's lexical rules, as far as splitting needs them: `--` and nested `/* */` comments,
//! `'…'` strings (with `''`), `E'…'` strings (with backslash escapes), `"…"` identifiers and
//! `$tag$…$tag$` dollar quoting (function bodies), and, as psql does, SQL-standard bodies
//! (`CREATE FUNCTION … BEGIN ATOMIC …; END`), whose semicolons do not end the statement. When
//! core's scanner learns PostgreSQL's rules, this function becomes a call to it.

/// One statement of a script: its text (without the closing `;`) and the byte offset of its
/// first character of code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Statement<'a> {
    pub(crate) start: usize,
    pub(crate) text: &'a str,
}

/// The statements of `sql`, empty ones (only comments and white space) left out.
pub(crate) fn statements<'a>(sql: &'a str) -> Vec<Statement<'a>> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut code: Option<usize> = None;
    // The statement's first words, and how deep inside `BEGIN … END` of a routine's body.
    let mut first: Vec<String> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    let push = |from: Option<usize>, to: usize, out: &mut Vec<Statement<'a>>| {
        if let Some(from) = from {
            out.push(Statement {
                start: from,
                text: sql[from..to].trim_end(),
            });
        }
    };
    while i < bytes.len() {
        let b = bytes[i];
        let next = bytes.get(i + 1).copied();
        match b {
            b'-' if next == Some(b'-') => {
                i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n + 1);
                continue;
            }
            b'/' if next == Some(b'*') => {
                let mut depth = 0usize;
                while i < bytes.len() {
                    if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                continue;
            }
            b';' if depth == 0 => {
                push(code.take(), i, &mut out);
                first.clear();
                i += 1;
                continue;
            }
            _ if b.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            _ => {}
        }
        code.get_or_insert(i);
        i = match b {
            b'\'' => {
                let escapes = i > 0
                    && matches!(bytes[i - 1], b'e' | b'E')
                    && (i < 2 || !is_ident(bytes[i - 2]));
                quoted(bytes, i, b'\'', escapes)
            }
            b'"' => quoted(bytes, i, b'"', false),
            b'$' => match dollar_tag(sql, i) {
                Some(tag) => sql[i + tag.len()..]
                    .find(tag)
                    .map_or(bytes.len(), |n| i + tag.len() + n + tag.len()),
                None => i + 1,
            },
            _ if is_ident(b) => {
                let mut j = i;
                while j < bytes.len() && (is_ident(bytes[j]) || bytes[j] == b'$') {
                    j += 1;
                }
                let word = sql[i..j].to_ascii_uppercase();
                if is_routine(&first) {
                    match word.as_str() {
                        "BEGIN" => depth += 1,
                        "CASE" if depth > 0 => depth += 1,
                        "END" if depth > 0 => depth -= 1,
                        _ => {}
                    }
                }
                if first.len() < 4 {
                    first.push(word);
                }
                j
            }
            _ => i + 1,
        };
    }
    push(code, bytes.len(), &mut out);
    out
}

/// Whether a statement starting with `first` creates a function or procedure, whose
/// `BEGIN ATOMIC … END` body holds semicolons.
fn is_routine(first: &[String]) -> bool {
    let words: Vec<&str> = first.iter().map(String::as_str).collect();
    matches!(
        words.as_slice(),
        ["CREATE", "FUNCTION" | "PROCEDURE", ..]
            | ["CREATE", "OR", "REPLACE", "FUNCTION" | "PROCEDURE", ..]
    )
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// The end of a quoted token opened at `open` by `quote`: a doubled quote stays inside, and a
/// backslash escapes the next byte in an `E'…'` string.
fn quoted(bytes: &[u8], open: usize, quote: u8, escapes: bool) -> usize {
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if escapes => i += 2,
            b if b == quote && bytes.get(i + 1) == Some(&quote) => i += 2,
            b if b == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The dollar-quote tag opening at `at` (`$$` or `$name$`), if one does: a `$1` parameter is
/// not one.
fn dollar_tag(sql: &str, at: usize) -> Option<&str> {
    let rest = &sql.as_bytes()[at + 1..];
    let len = rest
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b >= 0x80)
        .count();
    if rest.get(len) != Some(&b'$') || rest.first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    Some(&sql[at..at + len + 2])
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
