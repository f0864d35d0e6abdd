//! A small SQL scanner: just enough of each database's lexical grammar to tell code from
//! comments and strings, split a script into statements the way the database's own tools do,
//! and find `PRAGMA foreign_keys = OFF`.
//!
//! The functions without a suffix follow SQLite; their `_in` twins take the [`Database`].
//!
//! SQLite: statement splitting follows the state machine of SQLite's `sqlite3_complete()`
//! (`complete.c`), so the `;` inside a `CREATE TRIGGER … BEGIN … END;` body does not end the
//! statement, and a `;` inside a string, quoted identifier or comment never does.
//!
//! PostgreSQL: dollar quoting (`$$…$$`, `$body$…$body$`; `$1` is a parameter), `E'…'` strings
//! with backslash escapes, `'…'` with `''`, `U&'…'`, `"…"` identifiers and nested `/* /* */ */`
//! comments. Statements split as `psql` splits them: never inside parentheses, nor inside the
//! `BEGIN ATOMIC … END` body of a `CREATE FUNCTION` or `CREATE PROCEDURE`.

use crate::database::Database;

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

/// Iterates over the tokens of `sql` by SQLite's rules. Never fails: an unterminated string or
/// comment runs to the end of the text, as SQLite would report it when it runs.
pub fn tokens(sql: &str) -> Tokens<'_> {
    tokens_in(sql, Database::Sqlite)
}

/// Iterates over the tokens of `sql` by `database`'s lexical rules. Never fails: an
/// unterminated string, quoted identifier, dollar quote or comment runs to the end of the text
/// (see [`unterminated_in`]).
///
/// # Example
/// ```
/// use migrate_core::{Database, sql::{TokenKind, tokens_in}};
/// let sql = "SELECT $body$ it's; $$ $body$, $1";
/// let kinds: Vec<TokenKind> = tokens_in(sql, Database::Postgres)
///     .filter(|t| t.is_code())
///     .map(|t| t.kind)
///     .collect();
/// assert_eq!(kinds, [TokenKind::Word, TokenKind::String, TokenKind::Punct, TokenKind::Word]);
/// ```
pub fn tokens_in(sql: &str, database: Database) -> Tokens<'_> {
    Tokens {
        sql,
        pos: 0,
        database,
    }
}

/// The iterator returned by [`tokens`] and [`tokens_in`].
#[derive(Clone, Debug)]
pub struct Tokens<'a> {
    sql: &'a str,
    pos: usize,
    database: Database,
}

impl Iterator for Tokens<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        let start = self.pos;
        let lexed = match self.database {
            Database::Sqlite => lex_sqlite(self.sql, start)?,
            Database::Postgres => lex_postgres(self.sql, start)?,
        };
        self.pos = lexed.end;
        Some(Token {
            kind: lexed.kind,
            start,
            end: lexed.end,
        })
    }
}

/// One token as the lexers see it: its kind, where it ends, and whether a string, quoted
/// identifier or comment was closed before the end of the text.
struct Lexed {
    kind: TokenKind,
    end: usize,
    closed: bool,
}

impl Lexed {
    fn new(kind: TokenKind, end: usize) -> Lexed {
        Lexed {
            kind,
            end,
            closed: true,
        }
    }
}

/// The end of white space starting at `start`.
fn space_end(bytes: &[u8], start: usize) -> usize {
    bytes[start..]
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c'))
        .map_or(bytes.len(), |i| start + i)
}

/// The end of a `--` comment starting at `start`: the end of its line (the newline excluded).
fn line_comment_end(sql: &str, start: usize) -> usize {
    sql[start..].find('\n').map_or(sql.len(), |i| start + i)
}

/// SQLite's token at `start`, if the text goes on.
fn lex_sqlite(sql: &str, start: usize) -> Option<Lexed> {
    let bytes = sql.as_bytes();
    let first = *bytes.get(start)?;
    let find_from = |from: usize, needle: &str| {
        sql[from..]
            .find(needle)
            .map_or(sql.len(), |i| from + i + needle.len())
    };
    let (kind, end) = match first {
        b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => (TokenKind::Space, space_end(bytes, start)),
        b'-' if bytes.get(start + 1) == Some(&b'-') => {
            (TokenKind::Comment, line_comment_end(sql, start))
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
        _ => (TokenKind::Punct, start + char_width(sql, start)),
    };
    Some(Lexed::new(kind, end))
}

/// The width in bytes of the character at `start`.
fn char_width(sql: &str, start: usize) -> usize {
    sql[start..].chars().next().map_or(1, char::len_utf8)
}

/// PostgreSQL's token at `start`, if the text goes on (the lexical rules of PostgreSQL's
/// `scan.l`, as far as telling code from strings and comments needs).
fn lex_postgres(sql: &str, start: usize) -> Option<Lexed> {
    let bytes = sql.as_bytes();
    let first = *bytes.get(start)?;
    let next = bytes.get(start + 1).copied();
    let string = |(end, closed): (usize, bool)| Lexed {
        kind: TokenKind::String,
        end,
        closed,
    };
    Some(match first {
        b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => {
            Lexed::new(TokenKind::Space, space_end(bytes, start))
        }
        b'-' if next == Some(b'-') => Lexed::new(TokenKind::Comment, line_comment_end(sql, start)),
        b'/' if next == Some(b'*') => {
            let (end, closed) = nested_comment_end(bytes, start);
            Lexed {
                kind: TokenKind::Comment,
                end,
                closed,
            }
        }
        b'\'' => string(closed_quoted_end(bytes, start, b'\'')),
        b'E' | b'e' if next == Some(b'\'') => string(escape_string_end(bytes, start + 1)),
        b'U' | b'u' if next == Some(b'&') && matches!(bytes.get(start + 2), Some(b'\'' | b'"')) => {
            let quote = bytes[start + 2];
            let (end, closed) = closed_quoted_end(bytes, start + 2, quote);
            let kind = if quote == b'"' {
                TokenKind::QuotedIdent
            } else {
                TokenKind::String
            };
            Lexed { kind, end, closed }
        }
        b'"' => {
            let (end, closed) = closed_quoted_end(bytes, start, b'"');
            Lexed {
                kind: TokenKind::QuotedIdent,
                end,
                closed,
            }
        }
        b'$' => match dollar_tag(bytes, start) {
            Some(tag_end) => {
                let tag = &sql[start..tag_end];
                string(
                    sql[tag_end..]
                        .find(tag)
                        .map_or((sql.len(), false), |i| (tag_end + i + tag.len(), true)),
                )
            }
            // `$1`: a parameter, a word as SQLite's `$name` is.
            None if next.is_some_and(|b| b.is_ascii_digit()) => {
                let end = bytes[start + 1..]
                    .iter()
                    .position(|b| !b.is_ascii_digit())
                    .map_or(bytes.len(), |i| start + 1 + i);
                Lexed::new(TokenKind::Word, end)
            }
            None => Lexed::new(TokenKind::Punct, start + 1),
        },
        b';' => Lexed::new(TokenKind::Semicolon, start + 1),
        // An identifier or keyword may hold `$` after its first character (`a$b`); a number
        // may not, so `1$$x$$` is a number and a dollar-quoted string.
        b if is_ident_start(b) || b.is_ascii_digit() => {
            let in_word = |b: u8| {
                is_ident_start(b) || b.is_ascii_digit() || (b == b'$' && is_ident_start(first))
            };
            let end = bytes[start..]
                .iter()
                .position(|b| !in_word(*b))
                .map_or(bytes.len(), |i| start + i);
            Lexed::new(TokenKind::Word, end)
        }
        _ => Lexed::new(TokenKind::Punct, start + char_width(sql, start)),
    })
}

/// A letter, `_` or any non-ASCII byte: what starts a PostgreSQL identifier or dollar-quote tag.
fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

/// The end of the opening delimiter of a dollar-quoted string at `start` (`$$` or `$tag$`, the
/// tag an identifier without `$`), if there is one there.
fn dollar_tag(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    if bytes.get(i).is_some_and(|b| is_ident_start(*b)) {
        while bytes
            .get(i)
            .is_some_and(|b| is_ident_start(*b) || b.is_ascii_digit())
        {
            i += 1;
        }
    }
    (bytes.get(i) == Some(&b'$')).then_some(i + 1)
}

/// The end of a `/* … */` comment at `start`, where comments nest as PostgreSQL's do, and
/// whether it was closed.
fn nested_comment_end(bytes: &[u8], start: usize) -> (usize, bool) {
    let mut depth = 0usize;
    let mut i = start;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return (i, true);
                }
            }
            _ => i += 1,
        }
    }
    (bytes.len(), false)
}

/// The end of an `E'…'` string whose quote is at `quote`: a backslash escapes the next
/// character, and `''` is a quote too. Whether it was closed.
fn escape_string_end(bytes: &[u8], quote: usize) -> (usize, bool) {
    let mut i = quote + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'\'' if bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b'\'' => return (i + 1, true),
            _ => i += 1,
        }
    }
    (bytes.len(), false)
}

/// [`quoted_end`], and whether the closing quote was found.
fn closed_quoted_end(bytes: &[u8], start: usize, quote: u8) -> (usize, bool) {
    let end = quoted_end(bytes, start, quote);
    let closed = end > start + 1 && bytes[end - 1] == quote && {
        // The quote just before the end closes the token unless it is the second of a doubled
        // pair that reached the end of the text: count the run of quotes that ends there.
        let run = bytes[start + 1..end]
            .iter()
            .rev()
            .take_while(|b| **b == quote)
            .count();
        run % 2 == 1
    };
    (end, closed)
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

/// Where a PostgreSQL script has a string, quoted identifier, dollar quote or comment that is
/// never closed: its offset and its opening (`'`, `E'`, `U&'`, `"`, `U&"`, `$body$`, `/*`).
/// PostgreSQL reads everything after it as part of it, and then refuses the script.
///
/// For SQLite, see [`unclosed_comment`] (SQLite ends an unclosed comment at the end of the
/// text without an error; an unclosed string is an error SQLite reports when it runs).
///
/// # Example
/// ```
/// use migrate_core::{Database, sql::unterminated_in};
/// let sql = "CREATE FUNCTION f() RETURNS int AS $body$\nSELECT 1;\n$$ LANGUAGE sql;";
/// assert_eq!(unterminated_in(sql, Database::Postgres), Some((35, "$body$".to_owned())));
/// assert_eq!(unterminated_in("SELECT E'it\\'s';", Database::Postgres), None);
/// ```
pub fn unterminated_in(sql: &str, database: Database) -> Option<(usize, String)> {
    let mut pos = 0;
    loop {
        let lexed = match database {
            Database::Sqlite => {
                return unclosed_comment(sql).map(|offset| (offset, "/*".to_owned()));
            }
            Database::Postgres => lex_postgres(sql, pos)?,
        };
        if !lexed.closed {
            let text = &sql[pos..lexed.end];
            let opening = match lexed.kind {
                TokenKind::Comment => "/*".to_owned(),
                _ if text.starts_with('$') => {
                    let tag_end = dollar_tag(sql.as_bytes(), pos).unwrap_or(pos + 1);
                    sql[pos..tag_end].to_owned()
                }
                _ => {
                    let quote = text.find(['\'', '"']).map_or(text.len(), |i| i + 1);
                    text[..quote].to_owned()
                }
            };
            return Some((pos, opening));
        }
        pos = lexed.end;
    }
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
    statements_in(sql, Database::Sqlite)
}

/// Splits a script into statements as `database`'s own tools do (SQLite's
/// `sqlite3_complete()`, PostgreSQL's `psql`); white space and comments after the last
/// statement are dropped.
///
/// # Example
/// ```
/// use migrate_core::{Database, sql::statements_in};
/// let sql = "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$\n\
///            BEGIN NEW.updated_at := now(); RETURN NEW; END;\n$$;\n\
///            CREATE TRIGGER t BEFORE UPDATE ON items FOR EACH ROW EXECUTE FUNCTION touch();";
/// let statements = statements_in(sql, Database::Postgres);
/// assert_eq!(statements.len(), 2);
/// assert!(statements[0].text.ends_with("$$;"));
/// ```
pub fn statements_in(sql: &str, database: Database) -> Vec<Statement<'_>> {
    let mut out = Vec::new();
    let mut splitter = Splitter::new(database);
    let mut text_start = 0;
    let mut code_start = None;
    for token in tokens_in(sql, database) {
        if code_start.is_none() && token.is_code() && token.kind != TokenKind::Semicolon {
            code_start = Some(token.start);
        }
        if splitter.ends_statement(sql, &token) {
            // A lone `;` (no code before it) is an empty statement: both databases skip it.
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

/// Where statements end, token by token.
enum Splitter {
    /// The state machine of SQLite's `complete.c`.
    Sqlite(State),
    /// What `psql` tracks.
    Postgres(Psql),
}

impl Splitter {
    fn new(database: Database) -> Splitter {
        match database {
            Database::Sqlite => Splitter::Sqlite(State::Start),
            Database::Postgres => Splitter::Postgres(Psql::default()),
        }
    }

    /// Whether `token` (a `;`) ends the statement.
    fn ends_statement(&mut self, sql: &str, token: &Token) -> bool {
        match self {
            Splitter::Sqlite(state) => {
                *state = state.next(classify(sql, token));
                *state == State::Start && token.kind == TokenKind::Semicolon
            }
            Splitter::Postgres(psql) => psql.ends_statement(sql, token),
        }
    }
}

/// How `psql` decides that a `;` ends a statement: not inside parentheses (`CREATE RULE … DO
/// (…; …)`), and not inside the `BEGIN ATOMIC … END` body of a routine, which it recognises by
/// the statement's first words (`CREATE [OR REPLACE] FUNCTION|PROCEDURE`) and counts by
/// `BEGIN`, `CASE` and `END` outside parentheses.
#[derive(Default)]
struct Psql {
    parens: usize,
    begins: usize,
    /// The statement's identifiers so far.
    words: usize,
    /// The statement's first four identifiers, as far as the routine header cares.
    header: [Header; 4],
}

#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum Header {
    #[default]
    Other,
    Create,
    Or,
    Replace,
    Routine,
}

impl Psql {
    fn ends_statement(&mut self, sql: &str, token: &Token) -> bool {
        let text = &sql[token.start..token.end];
        match token.kind {
            TokenKind::Semicolon if self.parens == 0 && self.begins == 0 => {
                *self = Psql::default();
                true
            }
            TokenKind::Punct if text == "(" => {
                self.parens += 1;
                false
            }
            TokenKind::Punct if text == ")" => {
                self.parens = self.parens.saturating_sub(1);
                false
            }
            TokenKind::Word if text.as_bytes().first().is_some_and(|b| is_ident_start(*b)) => {
                self.word(text);
                false
            }
            _ => false,
        }
    }

    fn word(&mut self, word: &str) {
        let is = |keyword: &str| word.eq_ignore_ascii_case(keyword);
        if let Some(slot) = self.header.get_mut(self.words) {
            *slot = if is("create") {
                Header::Create
            } else if is("or") {
                Header::Or
            } else if is("replace") {
                Header::Replace
            } else if is("function") || is("procedure") {
                Header::Routine
            } else {
                Header::Other
            };
        }
        self.words += 1;
        use Header as H;
        let routine = matches!(
            self.header,
            [H::Create, H::Routine, ..] | [H::Create, H::Or, H::Replace, H::Routine]
        );
        if !routine || self.parens > 0 {
            return;
        }
        if is("begin") {
            self.begins += 1;
        } else if is("case") && self.begins > 0 {
            // `CASE … END` inside a body also ends with `END`.
            self.begins += 1;
        } else if is("end") {
            self.begins = self.begins.saturating_sub(1);
        }
    }
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

/// The statements of a PostgreSQL script that cannot run inside the transaction a migration
/// runs in, with each one's code offset and what it is, uppercased: those that control the
/// transaction (`BEGIN`, `START TRANSACTION`, `COMMIT`, `END`, `ROLLBACK` but not `ROLLBACK
/// TO` a savepoint, `ABORT`), and those PostgreSQL refuses inside a transaction block
/// (`VACUUM`, `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX … CONCURRENTLY`,
/// `CREATE DATABASE`, `DROP DATABASE`, `CREATE TABLESPACE`, `DROP TABLESPACE`, `ALTER SYSTEM`).
/// For SQLite, see [`transaction_control`].
///
/// # Example
/// ```
/// use migrate_core::{Database, sql::transaction_control_in};
/// let sql = "DO $$ BEGIN PERFORM 1; END $$;\nCREATE UNIQUE INDEX CONCURRENTLY i ON t (x);";
/// let found = transaction_control_in(sql, Database::Postgres);
/// assert_eq!(found, [(31, "CREATE INDEX CONCURRENTLY".to_owned())]);
/// ```
pub fn transaction_control_in(sql: &str, database: Database) -> Vec<(usize, String)> {
    if database == Database::Sqlite {
        return transaction_control(sql);
    }
    statements_in(sql, database)
        .into_iter()
        .filter_map(|statement| {
            let words: Vec<String> = tokens_in(statement.text, database)
                .filter(Token::is_code)
                .take(8)
                .map(|t| statement.text[t.start..t.end].to_ascii_uppercase())
                .collect();
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            postgres_outside_transaction(&words).map(|what| (statement.start, what))
        })
        .collect()
}

/// What a PostgreSQL statement starting with `words` (uppercased) is, if it cannot run inside
/// the transaction a migration runs in.
fn postgres_outside_transaction(words: &[&str]) -> Option<String> {
    let found = match words {
        ["BEGIN" | "COMMIT" | "END" | "ABORT" | "VACUUM", ..] => words[0],
        ["START", "TRANSACTION", ..] => "START TRANSACTION",
        ["ROLLBACK"]
        | [
            "ROLLBACK",
            ";" | "WORK" | "TRANSACTION" | "AND" | "PREPARED",
            ..,
        ] => "ROLLBACK",
        ["CREATE" | "DROP", "DATABASE" | "TABLESPACE", ..] => {
            return Some(format!("{} {}", words[0], words[1]));
        }
        ["ALTER", "SYSTEM", ..] => "ALTER SYSTEM",
        ["CREATE", "INDEX", "CONCURRENTLY", ..]
        | ["CREATE", "UNIQUE", "INDEX", "CONCURRENTLY", ..] => "CREATE INDEX CONCURRENTLY",
        ["DROP", "INDEX", "CONCURRENTLY", ..] => "DROP INDEX CONCURRENTLY",
        ["REINDEX", rest @ ..] if rest.contains(&"CONCURRENTLY") => "REINDEX CONCURRENTLY",
        _ => return None,
    };
    Some(found.to_owned())
}

/// Whether the script holds any code by `database`'s lexical rules (anything but white space,
/// comments and `;`).
pub fn has_code_in(sql: &str, database: Database) -> bool {
    tokens_in(sql, database).any(|t| t.is_code() && t.kind != TokenKind::Semicolon)
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

    // PostgreSQL

    fn pg(sql: &str) -> Vec<&str> {
        statements_in(sql, Database::Postgres)
            .into_iter()
            .map(|s| s.text.trim())
            .collect()
    }

    /// Real scripts, each with the statements `psql` would send, one after another.
    #[test]
    fn splits_postgres_scripts_as_psql_does() {
        let table: &[(&str, &[&str])] = &[
            (
                "CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped', 'can''t; ship');\n\
                 ALTER TYPE order_status ADD VALUE 'refunded' AFTER 'shipped';",
                &[
                    "CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped', 'can''t; ship');",
                    "ALTER TYPE order_status ADD VALUE 'refunded' AFTER 'shipped';",
                ],
            ),
            (
                "CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger\n\
                 LANGUAGE plpgsql AS $$\n\
                 BEGIN\n    NEW.updated_at := now();\n    RETURN NEW;\nEND;\n$$;\n\
                 CREATE TRIGGER products_updated_at BEFORE UPDATE ON products\n\
                 FOR EACH ROW EXECUTE FUNCTION set_updated_at();",
                &[
                    "CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger\n\
                     LANGUAGE plpgsql AS $$\n\
                     BEGIN\n    NEW.updated_at := now();\n    RETURN NEW;\nEND;\n$$;",
                    "CREATE TRIGGER products_updated_at BEFORE UPDATE ON products\n\
                     FOR EACH ROW EXECUTE FUNCTION set_updated_at();",
                ],
            ),
            (
                // A tagged body holding `$$` and a string with `;`.
                "CREATE FUNCTION audit() RETURNS trigger AS $audit$\n\
                 DECLARE note text := 'changed; see $$';\n\
                 BEGIN\n  INSERT INTO audit_log VALUES (TG_TABLE_NAME, note);\n  RETURN NULL;\nEND\n\
                 $audit$ LANGUAGE plpgsql;\nSELECT 1;",
                &[
                    "CREATE FUNCTION audit() RETURNS trigger AS $audit$\n\
                     DECLARE note text := 'changed; see $$';\n\
                     BEGIN\n  INSERT INTO audit_log VALUES (TG_TABLE_NAME, note);\n  RETURN NULL;\nEND\n\
                     $audit$ LANGUAGE plpgsql;",
                    "SELECT 1;",
                ],
            ),
            (
                "DO $$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reader') THEN\n    \
                 CREATE ROLE reader;\n  END IF;\nEND\n$$;\nGRANT SELECT ON products TO reader;",
                &[
                    "DO $$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reader') THEN\n    \
                     CREATE ROLE reader;\n  END IF;\nEND\n$$;",
                    "GRANT SELECT ON products TO reader;",
                ],
            ),
            (
                // SQL-standard bodies: `;` inside BEGIN ATOMIC … END, CASE … END inside it.
                "CREATE FUNCTION total(o int) RETURNS numeric LANGUAGE sql\nBEGIN ATOMIC\n  \
                 SELECT CASE WHEN count(*) = 0 THEN 0 ELSE sum(price) END FROM lines WHERE order_id = o;\nEND;\n\
                 CREATE PROCEDURE p() BEGIN ATOMIC INSERT INTO t VALUES (1); INSERT INTO t VALUES (2); END;\nSELECT 2;",
                &[
                    "CREATE FUNCTION total(o int) RETURNS numeric LANGUAGE sql\nBEGIN ATOMIC\n  \
                     SELECT CASE WHEN count(*) = 0 THEN 0 ELSE sum(price) END FROM lines WHERE order_id = o;\nEND;",
                    "CREATE PROCEDURE p() BEGIN ATOMIC INSERT INTO t VALUES (1); INSERT INTO t VALUES (2); END;",
                    "SELECT 2;",
                ],
            ),
            (
                // A trigger has no body of its own on PostgreSQL: SQLite's BEGIN … END rule
                // must not swallow what follows.
                "CREATE TRIGGER t AFTER INSERT ON a FOR EACH ROW EXECUTE FUNCTION f();\nSELECT 'end';",
                &[
                    "CREATE TRIGGER t AFTER INSERT ON a FOR EACH ROW EXECUTE FUNCTION f();",
                    "SELECT 'end';",
                ],
            ),
            (
                "CREATE RULE r AS ON INSERT TO a DO ALSO (INSERT INTO b VALUES (1); INSERT INTO c VALUES (2));\nSELECT 3;",
                &[
                    "CREATE RULE r AS ON INSERT TO a DO ALSO (INSERT INTO b VALUES (1); INSERT INTO c VALUES (2));",
                    "SELECT 3;",
                ],
            ),
            (
                "-- migrate:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_by_customer\n    ON orders (customer_id);",
                &[
                    "-- migrate:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_by_customer\n    ON orders (customer_id);",
                ],
            ),
            (
                "SELECT E'it\\'s; \\\\', U&'d\\0061t;', \"a;\"\"b\", $1, x$y FROM t /* a /* nested; */ still; */;\nSELECT 4 -- x; y\n;",
                &[
                    "SELECT E'it\\'s; \\\\', U&'d\\0061t;', \"a;\"\"b\", $1, x$y FROM t /* a /* nested; */ still; */;",
                    "SELECT 4 -- x; y\n;",
                ],
            ),
            (
                // `[` is an array subscript on PostgreSQL, not a quote.
                "SELECT ARRAY['a', ']; b'][1];\nSELECT 5;",
                &["SELECT ARRAY['a', ']; b'][1];", "SELECT 5;"],
            ),
        ];
        for (sql, expected) in table {
            assert_eq!(pg(sql), *expected, "{sql}");
        }
    }

    #[test]
    fn sqlite_splits_the_same_scripts_by_its_own_rules() {
        // The `$$` body is no string to SQLite, so its `;` splits: the dialects differ.
        let sql = "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;";
        assert_eq!(texts(sql).len(), 2);
        assert_eq!(pg(sql).len(), 1);
    }

    #[test]
    fn lexes_postgres_strings_quotes_and_comments() {
        let kinds = |sql: &'static str| -> Vec<(TokenKind, &'static str)> {
            tokens_in(sql, Database::Postgres)
                .filter(Token::is_code)
                .map(|t| (t.kind, &sql[t.start..t.end]))
                .collect()
        };
        use TokenKind::*;
        assert_eq!(
            kinds(r#"$1 $$a$$ $q$b$q$ $x $_1$c$_1$ E'\'' e'''' U&'x' u&"y" 'a''b' "c""d""#),
            [
                (Word, "$1"),
                (String, "$$a$$"),
                (String, "$q$b$q$"),
                (Punct, "$"),
                (Word, "x"),
                (String, "$_1$c$_1$"),
                (String, r"E'\''"),
                (String, "e''''"),
                (String, "U&'x'"),
                (QuotedIdent, r#"u&"y""#),
                (String, "'a''b'"),
                (QuotedIdent, r#""c""d""#),
            ]
        );
        // `$` continues an identifier, and a tag holds no `$`.
        assert_eq!(kinds("a$$b"), [(Word, "a$$b")]);
        assert_eq!(kinds("1$$x$$"), [(Word, "1"), (String, "$$x$$")]);
        // Standard strings keep backslashes: `'\'` is a whole string.
        assert_eq!(kinds(r"'\' x"), [(String, r"'\'"), (Word, "x")]);
        // Comments nest; `--` inside a block comment is part of it.
        assert_eq!(kinds("/* a /* b */ -- c */ d"), [(Word, "d")]);
        assert_eq!(
            kinds("[x]`"),
            [(Punct, "["), (Word, "x"), (Punct, "]"), (Punct, "`")]
        );
    }

    #[test]
    fn finds_what_postgres_leaves_open() {
        let open = |sql: &str| unterminated_in(sql, Database::Postgres);
        assert_eq!(open("SELECT 1; SELECT 'abc"), Some((17, "'".into())));
        assert_eq!(open("SELECT 'it''"), Some((7, "'".into())));
        assert_eq!(open(r"SELECT E'it\';"), Some((7, "E'".into())));
        assert_eq!(open("SELECT U&'x"), Some((7, "U&'".into())));
        assert_eq!(open("SELECT \"col"), Some((7, "\"".into())));
        assert_eq!(open("DO $$ BEGIN END $"), Some((3, "$$".into())));
        assert_eq!(open("AS $fn$ x $$ y $fN$"), Some((3, "$fn$".into())));
        assert_eq!(open("/* a /* b */ SELECT 1;"), Some((0, "/*".into())));
        for closed in [
            r#"SELECT 'it''s', E'\\', E'\'', U&'x', "a""b", $$ ' $$, $t$ $$ $t$; /* /* */ */"#,
            "SELECT $1, $2 -- ' unclosed in a comment",
            "",
        ] {
            assert_eq!(open(closed), None, "{closed}");
        }
        // SQLite: only its unclosed comment, as before.
        assert_eq!(
            unterminated_in("SELECT 'x; /* y", Database::Sqlite),
            None,
            "the `/*` is inside SQLite's unclosed string"
        );
        assert_eq!(
            unterminated_in("SELECT 1; /* y", Database::Sqlite),
            Some((10, "/*".into()))
        );
    }

    #[test]
    fn finds_postgres_statements_that_cannot_run_in_a_transaction() {
        let sql = "BEGIN;\nSTART TRANSACTION ISOLATION LEVEL SERIALIZABLE;\nSAVEPOINT s;\n\
                   ROLLBACK TO SAVEPOINT s;\nROLLBACK;\nABORT;\nEND;\ncommit;\n\
                   DO $$ BEGIN COMMIT; END $$;\nCREATE UNIQUE INDEX CONCURRENTLY i ON t (x);\n\
                   CREATE INDEX j ON t (y);\nDROP INDEX CONCURRENTLY IF EXISTS i;\n\
                   REINDEX (VERBOSE) INDEX CONCURRENTLY j;\nVACUUM ANALYZE t;\n\
                   CREATE DATABASE shop;\nALTER SYSTEM SET work_mem = '64MB';\n\
                   SELECT 'COMMIT'; -- END";
        let found: Vec<(usize, String)> = transaction_control_in(sql, Database::Postgres)
            .into_iter()
            .map(|(offset, what)| (line_col(sql, offset).0, what))
            .collect();
        let expected = [
            (1, "BEGIN"),
            (2, "START TRANSACTION"),
            (5, "ROLLBACK"),
            (6, "ABORT"),
            (7, "END"),
            (8, "COMMIT"),
            (10, "CREATE INDEX CONCURRENTLY"),
            (12, "DROP INDEX CONCURRENTLY"),
            (13, "REINDEX CONCURRENTLY"),
            (14, "VACUUM"),
            (15, "CREATE DATABASE"),
            (16, "ALTER SYSTEM"),
        ];
        let expected: Vec<(usize, String)> = expected
            .iter()
            .map(|(l, w)| (*l, (*w).to_owned()))
            .collect();
        assert_eq!(found, expected);
    }

    #[test]
    fn postgres_code_is_code_outside_comments_only() {
        assert!(!has_code_in(
            "/* a /* b */ ; */ -- c\n;",
            Database::Postgres
        ));
        assert!(has_code_in("/* a /* b */ */ SELECT 1", Database::Postgres));
        // SQLite ends the comment at the first `*/`: what follows is code to it.
        assert!(has_code_in("/* a /* b */ ; */", Database::Sqlite));
    }
}
