//! What a database holds, for comparing two states semantically: the schema (tables with
//! their columns, keys and constraints, indexes, triggers, views) and the rows of tables.
//!
//! The schema is first compared as text (`sqlite_master`); objects whose text differs are
//! compared by meaning, by recreating each in a scratch database and reading it back through
//! SQLite's pragmas, so a table recreated with other formatting, quoting or `IF NOT EXISTS`
//! is the same table.

use std::collections::BTreeMap;

use migrate_core::sql::{TokenKind, tokens};
use rusqlite::Connection;
use rusqlite::types::ValueRef;

/// One schema object as `sqlite_master` records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) kind: String,
    pub(crate) name: String,
    pub(crate) table: String,
    pub(crate) sql: Option<String>,
}

/// The schema as text, keyed by (kind, lowercase name), without SQLite's internal objects and
/// the version table.
pub(crate) type SchemaText = BTreeMap<(String, String), Entry>;

/// SQL normalised for comparison: no white space or comments, identifiers unquoted and
/// uppercased, string literals kept, `IF NOT EXISTS` dropped.
pub(crate) fn normalize(sql: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    for token in tokens(sql) {
        let text = &sql[token.start..token.end];
        match token.kind {
            TokenKind::Space | TokenKind::Comment => {}
            TokenKind::QuotedIdent => {
                words.push(text[1..text.len().saturating_sub(1).max(1)].to_ascii_uppercase())
            }
            TokenKind::String => words.push(text.to_owned()),
            _ => words.push(text.to_ascii_uppercase()),
        }
        if words.len() >= 3 && words[words.len() - 3..] == ["IF", "NOT", "EXISTS"] {
            words.truncate(words.len() - 3);
        }
    }
    let mut out = String::new();
    for (i, word) in words.iter().enumerate() {
        // Operators the scanner splits (`>=`, `<>`, `||`) stay whole.
        let operator = |w: &str| matches!(w, "<" | ">" | "=" | "!" | "|");
        let joined = i > 0 && operator(word) && operator(&words[i - 1]);
        let glue = i > 0
            && !joined
            && !matches!(word.as_str(), "," | ")" | ";" | ".")
            && !matches!(words[i - 1].as_str(), "(" | ".");
        if glue {
            out.push(' ');
        }
        out.push_str(word);
    }
    out.trim_end_matches(';').trim_end().to_owned()
}

pub(crate) use crate::rows::Rows;

/// Reads every row of a table.
pub(crate) fn rows(conn: &Connection, table: &str) -> rusqlite::Result<Rows> {
    let quoted = format!("\"{}\"", table.replace('"', "\"\""));
    let mut key: Vec<(i64, usize)> = Vec::new();
    let mut info = conn.prepare(&format!("PRAGMA table_info({quoted})"))?;
    let mut info_rows = info.query([])?;
    let mut index = 0;
    while let Some(row) = info_rows.next()? {
        let primary_key: i64 = row.get(5)?;
        if primary_key > 0 {
            key.push((primary_key, index));
        }
        index += 1;
    }
    key.sort_unstable();
    let mut statement = conn.prepare(&format!("SELECT * FROM {quoted}"))?;
    // By index, not `column_names()`: that returns a `Vec` before rusqlite 0.41 and an iterator
    // after, and the engine supports both.
    let columns = (0..statement.column_count())
        .map(|i| statement.column_name(i).map(str::to_owned))
        .collect::<rusqlite::Result<Vec<String>>>()?;
    let count = columns.len();
    let mut out = Vec::new();
    let mut result = statement.query([])?;
    while let Some(row) = result.next()? {
        let mut values = Vec::with_capacity(count);
        for i in 0..count {
            values.push(literal(row.get_ref(i)?));
        }
        out.push(values);
    }
    out.sort();
    Ok(Rows {
        columns,
        key: key.into_iter().map(|(_, i)| i).collect(),
        rows: out,
    })
}

fn literal(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Null => "NULL".to_owned(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(r) => format!("{r:?}"),
        ValueRef::Text(t) => format!("'{}'", String::from_utf8_lossy(t).replace('\'', "''")),
        ValueRef::Blob(b) => format!(
            "x'{}'",
            b.iter().map(|x| format!("{x:02x}")).collect::<String>()
        ),
    }
}

/// Up to `limit` plain-words differences between a table's rows before and after.
pub(crate) fn row_differences(
    table: &str,
    before: &Rows,
    after: &Rows,
    limit: usize,
) -> (Vec<String>, usize) {
    if before.columns != after.columns {
        return (vec![format!("the columns of `{table}` differ")], 1);
    }
    crate::rows::differences(before, after, limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_formatting_quoting_and_if_not_exists() {
        assert_eq!(
            normalize("CREATE INDEX IF NOT EXISTS \"idx\"\n  ON \"t\" (\"a\", b) WHERE x = 'A b';"),
            normalize("create index idx on t(a,b) where X='A b'")
        );
        assert_ne!(normalize("SELECT 'a'"), normalize("SELECT 'A'"));
    }

    #[test]
    fn row_differences_are_shown_by_key() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a'), (2, 'b');").unwrap();
        let before = rows(&conn, "t").unwrap();
        conn.execute_batch("UPDATE t SET v = NULL WHERE id = 1; DELETE FROM t WHERE id = 2; INSERT INTO t VALUES (3, 'c');").unwrap();
        let after = rows(&conn, "t").unwrap();
        let (diffs, total) = row_differences("t", &before, &after, 5);
        assert_eq!(total, 3);
        assert_eq!(
            diffs,
            [
                "row (id = 1) changed: v 'a' → NULL",
                "row (id = 2) is missing",
                "row (id = 3) was added"
            ]
        );
    }
}
