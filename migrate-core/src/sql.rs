//! A small SQL scanner: just enough of SQLite's lexical grammar to tell code from comments
//! and strings, split a script into statements the way SQLite itself does, and find
//! `PRAGMA foreign_keys = OFF`.
//!
//! Statement splitting follows the state machine of SQLite's `sqlite3_complete()`
//! (`complete.c`), so the `;` inside a `CREATE TRIGGER … BEGIN … END;` body does not end the
//! statement, and a `;` inside a string, quoted identifier or comment never does.

/// What a token is, as far as this scanner cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// Spaces, tabs, newlines.
    Space,
    /// `-- …` up to the end of the line, or `/* … */`.
    Comment,
    /// A bare word: keyword, identifier or number.
    Word,
    /// `'…'`: a string literal.
    String,
    /// `"…"`, `` `…` `` or `[…]`: a quoted identifier.
    QuotedIdent,
    /// `;`.
    Semicolon,
    /// Any other single character (operators, parentheses, commas).
    Punct,
}

/// A token: its kind and its byte range in the scanned text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    /// What the token is.
    pub kind: TokenKind,
    /// Byte offset of its first character.
    pub start: usize,
    /// Byte offset just past its last character.
    pub end: usize,
}

impl Token {
    /// Whether the token is code (neither white space nor a comment).
    pub fn is_code(&self) -> bool {
        !matches!(self.kind, TokenKind::Space | TokenKind::Comment)
    }
}

/// Iterates over the tokens of `sql`. Never fails: an unterminated string or comment runs
/// to the end of the text, as SQLite would report it when it runs.
pub fn tokens(sql: &str) -> Tokens<'_> {
    Tokens { sql, pos: 0 }
}

/// The iterator returned by [`tokens`].
#[derive(Clone, Debug)]
pub struct Tokens<'a> {
    sql: &'a str,
    pos: usize,
}

impl Iterator for Tokens<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        let bytes = self.sql.as_bytes();
        let start = self.pos;
        let first = *bytes.get(start)?;
        let find_from = |from: usize, needle: &str| {
            self.sql[from..]
                .find(needle)
                .map_or(self.sql.len(), |i| from + i + needle.len())
        };
        let (kind, end) = match first {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => {
                let end = bytes[start..]
                    .iter()
                    .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c'))
                    .map_or(bytes.len(), |i| start + i);
                (TokenKind::Space, end)
            }
            b'-' if bytes.get(start + 1) == Some(&b'-') => {
                let end = self.sql[start..]
                    .find('\n')
                    .map_or(self.sql.len(), |i| start + i);
                (TokenKind::Comment, end)
            }
            b'/' if bytes.get(start + 1) == Some(&b'*') => {
                (TokenKind::Comment, find_from(start + 2, "*/"))
            }
            b'\'' => (TokenKind::String, quoted_end(bytes, start, b'\'')),
            b'"' => (TokenKind::QuotedIdent, quoted_end(bytes, start, b'"')),
            b'`' => (TokenKind::QuotedIdent, quoted_end(bytes, start, b'`')),
            b'[' => (TokenKind::QuotedIdent, find_from(start + 1, "]")),
            b';' => (TokenKind::Semicolon, start + 1),
            b if is_word_byte(b) => {
                let end = bytes[start..]
                    .iter()
                    .position(|b| !is_word_byte(*b))
                    .map_or(bytes.len(), |i| start + i);
                (TokenKind::Word, end)
            }
            _ => {
                let width = self.sql[start..].chars().next().map_or(1, char::len_utf8);
                (TokenKind::Punct, start + width)
            }
        };
        self.pos = end;
        Some(Token { kind, start, end })
    }
}

/// Letters, digits, `_`, `$` and every non-ASCII byte, as SQLite's identifier characters.
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// End of a quoted token opened at `start`; a doubled quote character escapes itself.
fn quoted_end(bytes: &[u8], start: usize, quote: u8) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

/// One statement of a script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Statement<'a> {
    /// Byte offset in the script where the statement's code starts (after leading white space
    /// and comments): the place to report errors at.
    pub start: usize,
    /// Byte offset in the script where `text` starts.
    pub text_start: usize,
    /// The statement's text, from the end of the previous statement up to and including its
    /// terminating `;` (if any); it may begin with white space and comments.
    pub text: &'a str,
}

/// Splits a script into statements as SQLite's `sqlite3_complete()` does; white space and
/// comments after the last statement are dropped.
///
/// # Example
/// ```
/// let sql = "CREATE TABLE t (x);\nCREATE TRIGGER g AFTER INSERT ON t BEGIN SELECT 1; END;";
/// let statements = migrate_core::sql::statements(sql);
/// assert_eq!(statements.len(), 2);
/// assert!(statements[1].text.ends_with("END;"));
/// ```
pub fn statements(sql: &str) -> Vec<Statement<'_>> {
    let mut out = Vec::new();
    let mut state = State::Start;
    let mut text_start = 0;
    let mut code_start = None;
    for token in tokens(sql) {
        let class = classify(sql, &token);
        if code_start.is_none() && token.is_code() && token.kind != TokenKind::Semicolon {
            code_start = Some(token.start);
        }
        state = state.next(class);
        if state == State::Start && token.kind == TokenKind::Semicolon {
            // A lone `;` (no code before it) is an empty statement: SQLite skips it.
            if let Some(start) = code_start.take() {
                out.push(Statement {
                    start,
                    text_start,
                    text: &sql[text_start..token.end],
                });
            }
            text_start = token.end;
        }
    }
    if let Some(start) = code_start {
        out.push(Statement {
            start,
            text_start,
            text: &sql[text_start..],
        });
    }
    out
}

/// The token classes of `complete.c`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Semi,
    Ws,
    Other,
    Explain,
    Create,
    Temp,
    Trigger,
    End,
}

/// The states of `complete.c`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Start,
    Normal,
    Explain,
    Create,
    Trigger,
    Semi,
    End,
}

impl State {
    fn next(self, class: Class) -> State {
        use Class as C;
        use State as S;
        match (self, class) {
            (S::Start | S::Normal | S::Explain | S::Create | S::End, C::Semi) => S::Start,
            (S::Trigger | S::Semi, C::Semi) => S::Semi,
            (s, C::Ws) => s,
            (S::Start, C::Explain) => S::Explain,
            (S::Start | S::Explain, C::Create) => S::Create,
            (S::Start | S::Normal, _) => S::Normal,
            (S::Explain, C::Other) => S::Explain,
            (S::Explain, _) => S::Normal,
            (S::Create, C::Temp) => S::Create,
            (S::Create, C::Trigger) => S::Trigger,
            (S::Create, _) => S::Normal,
            (S::Semi, C::End) => S::End,
            (S::Trigger | S::Semi | S::End, _) => S::Trigger,
        }
    }
}

fn classify(sql: &str, token: &Token) -> Class {
    match token.kind {
        TokenKind::Space | TokenKind::Comment => Class::Ws,
        TokenKind::Semicolon => Class::Semi,
        TokenKind::Word => {
            let word = &sql[token.start..token.end];
            if word.eq_ignore_ascii_case("create") {
                Class::Create
            } else if word.eq_ignore_ascii_case("temp") || word.eq_ignore_ascii_case("temporary") {
                Class::Temp
            } else if word.eq_ignore_ascii_case("trigger") {
                Class::Trigger
            } else if word.eq_ignore_ascii_case("end") {
                Class::End
            } else if word.eq_ignore_ascii_case("explain") {
                Class::Explain
            } else {
                Class::Other
            }
        }
        _ => Class::Other,
    }
}

/// The statements of a script that cannot run inside the transaction a migration runs in:
/// `BEGIN`, `COMMIT`, `END`, `ROLLBACK` (but not `ROLLBACK TO` a savepoint) and `VACUUM`.
/// Returns each one's code offset and its keyword, uppercased.
pub fn transaction_control(sql: &str) -> Vec<(usize, String)> {
    statements(sql)
        .into_iter()
        .filter_map(|statement| {
            let mut words = tokens(statement.text)
                .filter(Token::is_code)
                .map(|t| &statement.text[t.start..t.end]);
            let first = words.next()?.to_ascii_uppercase();
            let controls = match first.as_str() {
                "BEGIN" | "COMMIT" | "END" | "VACUUM" => true,
                "ROLLBACK" => !words.any(|w| w.eq_ignore_ascii_case("to")),
                _ => false,
            };
            controls.then_some((statement.start, first))
        })
        .collect()
}

/// The offset of a `/* …` comment that is never closed, if the script has one: SQLite ends
/// such a comment at the end of the text, so nothing after it runs.
pub fn unclosed_comment(sql: &str) -> Option<usize> {
    tokens(sql)
        .find(|t| {
            let text = &sql[t.start..t.end];
            t.kind == TokenKind::Comment
                && text.starts_with("/*")
                && (text.len() < 4 || !text.ends_with("*/"))
        })
        .map(|t| t.start)
}

/// Whether the script holds any code at all (anything but white space, comments and `;`).
pub fn has_code(sql: &str) -> bool {
    tokens(sql).any(|t| t.is_code() && t.kind != TokenKind::Semicolon)
}

/// Whether the script contains `PRAGMA foreign_keys = OFF` (or `= 0`, `= false`, `= no`,
/// `(off)`, with an optional `main.` schema) outside strings and comments.
///
/// Such a migration rebuilds tables the way SQLite's ALTER TABLE documentation describes;
/// the pragma is a no-op inside a transaction, so the runtime turns enforcement off around
/// the transaction instead.
pub fn disables_foreign_keys(sql: &str) -> bool {
    statements(sql).iter().any(|s| is_foreign_keys_off(s.text))
}

fn is_foreign_keys_off(statement: &str) -> bool {
    let words: Vec<&str> = tokens(statement)
        .filter(Token::is_code)
        .map(|t| unquote(&statement[t.start..t.end]))
        .collect();
    let rest = match words.as_slice() {
        [pragma, schema, ".", rest @ ..]
            if pragma.eq_ignore_ascii_case("pragma")
                && !schema.eq_ignore_ascii_case("foreign_keys") =>
        {
            rest
        }
        [pragma, rest @ ..] if pragma.eq_ignore_ascii_case("pragma") => rest,
        _ => return false,
    };
    let value = match rest {
        [name, "=", value, ..] | [name, "(", value, ..]
            if name.eq_ignore_ascii_case("foreign_keys") =>
        {
            value
        }
        _ => return false,
    };
    ["off", "0", "false", "no"]
        .iter()
        .any(|off| value.eq_ignore_ascii_case(off))
}

/// Strips one level of SQL quoting from a token, if it has any.
fn unquote(token: &str) -> &str {
    let bytes = token.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(b'\''), Some(b'\''))
        | (Some(b'"'), Some(b'"'))
        | (Some(b'`'), Some(b'`'))
        | (Some(b'['), Some(b']'))
            if token.len() >= 2 =>
        {
            &token[1..token.len() - 1]
        }
        _ => token,
    }
}

/// The 1-based line and column (in characters) of a byte offset in `text`; an offset past the
/// end or inside a character counts as the character it falls in.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.bytes().filter(|b| *b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// The first line of a statement's code, shortened to at most `max` characters, for error
/// messages: `CREATE TABLE posts (…`.
pub fn excerpt(statement: &str, max: usize) -> String {
    let code = statement.trim_start();
    let line = code.lines().next().unwrap_or("").trim_end();
    let mut out: String = line.chars().take(max).collect();
    if line.chars().count() > max || code.lines().nth(1).is_some_and(|l| !l.trim().is_empty()) {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        statements(sql).into_iter().map(|s| s.text.trim()).collect()
    }

    #[test]
    fn splits_on_semicolons() {
        assert_eq!(
            texts("CREATE TABLE a (x);\nCREATE TABLE b (y);"),
            ["CREATE TABLE a (x);", "CREATE TABLE b (y);"]
        );
    }

    #[test]
    fn keeps_a_last_statement_without_semicolon() {
        assert_eq!(texts("SELECT 1; SELECT 2"), ["SELECT 1;", "SELECT 2"]);
    }

    #[test]
    fn ignores_semicolons_in_strings_identifiers_and_comments() {
        let sql = "INSERT INTO t VALUES ('a;b', \"c;d\", [e;f], `g;h`); -- x; y\n/* ; */ SELECT 'it''s;';";
        assert_eq!(texts(sql).len(), 2);
    }

    #[test]
    fn keeps_trigger_bodies_whole() {
        let sql = "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE b SET n = n + 1;\n  SELECT CASE WHEN 1 THEN 2 END;\nEND;\nSELECT 3;";
        let got = texts(sql);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].ends_with("END;"));
        let temp = "create temp trigger t after insert on a begin select 1; end; select 2;";
        assert_eq!(texts(temp).len(), 2);
    }

    #[test]
    fn skips_empty_statements_and_trailing_comments() {
        assert_eq!(texts(";;SELECT 1;; -- done\n"), ["SELECT 1;"]);
        assert!(statements("-- nothing\n/* here */").is_empty());
    }

    #[test]
    fn statement_start_skips_leading_comments() {
        let sql = "SELECT 1;\n-- about t\nCREATE TABLE t (x);";
        let s = &statements(sql)[1];
        assert_eq!(&sql[s.start..s.start + 6], "CREATE");
        assert_eq!(line_col(sql, s.start), (3, 1));
    }

    #[test]
    fn detects_code() {
        assert!(!has_code("  -- only a comment\n/* and another */ ;\n"));
        assert!(has_code("-- a\nSELECT 1"));
    }

    #[test]
    fn detects_foreign_keys_off() {
        for sql in [
            "PRAGMA foreign_keys = OFF;",
            "pragma foreign_keys=off",
            "PRAGMA main.foreign_keys = 0;",
            "PRAGMA \"foreign_keys\" = 'false';",
            "PRAGMA foreign_keys(no);",
            "CREATE TABLE a (x);\nPRAGMA foreign_keys = OFF;",
        ] {
            assert!(disables_foreign_keys(sql), "{sql}");
        }
        for sql in [
            "PRAGMA foreign_keys = ON;",
            "-- PRAGMA foreign_keys = OFF;",
            "/* PRAGMA foreign_keys = OFF; */",
            "SELECT 'PRAGMA foreign_keys = OFF;'",
            "PRAGMA foreign_key_check;",
        ] {
            assert!(!disables_foreign_keys(sql), "{sql}");
        }
    }

    #[test]
    fn finds_unclosed_comments() {
        assert_eq!(unclosed_comment("SELECT 1; /* open\nSELECT 2;"), Some(10));
        assert_eq!(unclosed_comment("/*/ SELECT 1;"), Some(0));
        assert_eq!(unclosed_comment("/**/ SELECT 1; /* closed */"), None);
        assert_eq!(unclosed_comment("SELECT '/*'; -- /*\nSELECT \"/*\";"), None);
    }

    #[test]
    fn finds_transaction_control() {
        let sql = "BEGIN;\nCREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END;\nROLLBACK TO sp;\ncommit;\nVACUUM;";
        let found: Vec<String> = transaction_control(sql)
            .into_iter()
            .map(|(_, k)| k)
            .collect();
        assert_eq!(found, ["BEGIN", "COMMIT", "VACUUM"]);
        assert!(transaction_control("SELECT 'COMMIT'; -- END").is_empty());
    }

    #[test]
    fn line_col_counts_characters() {
        let text = "ab\ncdé f";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 3), (2, 1));
        assert_eq!(line_col(text, text.find('f').unwrap()), (2, 5));
        let inside_e_acute = text.find('é').unwrap() + 1;
        assert_eq!(line_col(text, inside_e_acute), (2, 3));
        assert_eq!(line_col(text, 1000), (2, 6));
    }

    #[test]
    fn crlf_counts_as_one_line_break() {
        let text = "a;\r\nb;\r\nc;";
        let s = &statements(text)[2];
        assert_eq!(line_col(text, s.start), (3, 1));
    }

    #[test]
    fn excerpt_shortens() {
        assert_eq!(
            excerpt("  CREATE TABLE t (\n x\n);", 40),
            "CREATE TABLE t (…"
        );
        assert_eq!(excerpt("SELECT 1;", 40), "SELECT 1;");
        assert_eq!(excerpt("SELECT 123456", 6), "SELECT…");
    }
}
