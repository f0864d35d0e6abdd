//! What a database holds, for comparing two states semantically: the schema (tables with
//! their columns, keys and constraints, indexes, triggers, views) and the rows of tables.
//!
//! The schema is first compared as text (`sqlite_master`); objects whose text differs are
//! compared by meaning, by recreating each in a scratch database and reading it back through
//! SQLite's pragmas, so a table recreated with other formatting, quoting or `IF NOT EXISTS`
//! is the same table.

use std::collections::{BTreeMap, BTreeSet};

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

/// A copy of `sqlite_master`, kept up to date by re-reading only the objects that DDL touched
/// (and everything, when a row count says something else changed). Reading the whole schema
/// after every step would make verifying N migrations cost N² rows.
#[derive(Debug, Default)]
pub(crate) struct Mirror {
    /// What verification compares: user objects.
    pub(crate) entries: SchemaText,
    /// SQLite's internal objects and the engine's version and history tables, kept only so the
    /// row count adds up.
    hidden: SchemaText,
}

/// The previous value of an entry that a refresh changed (`None`: it did not exist).
pub(crate) type Change = ((String, String), Option<Entry>);

impl Mirror {
    /// Re-reads the objects named in `names` (object or table names, lowercase), or the whole
    /// schema when `full` is set or the row count shows a change the names do not explain.
    /// Returns the previous value of every entry that changed.
    pub(crate) fn refresh(
        &mut self,
        conn: &Connection,
        version_table: &str,
        names: &BTreeSet<String>,
        full: bool,
    ) -> rusqlite::Result<Vec<Change>> {
        let mut changes = Vec::new();
        if !full && !names.is_empty() {
            let placeholders = vec!["?"; names.len()].join(", ");
            let sql = format!(
                "SELECT type, name, tbl_name, sql FROM sqlite_master \
                 WHERE name COLLATE NOCASE IN ({placeholders}) \
                    OR tbl_name COLLATE NOCASE IN ({placeholders})"
            );
            let params: Vec<&String> = names.iter().chain(names.iter()).collect();
            let fresh = read(conn, &sql, rusqlite::params_from_iter(params))?;
            let stale = |e: &Entry| {
                names.contains(&e.name.to_ascii_lowercase())
                    || names.contains(&e.table.to_ascii_lowercase())
            };
            self.hidden.retain(|_, e| !stale(e));
            let gone: Vec<(String, String)> = self
                .entries
                .iter()
                .filter(|(_, e)| stale(e))
                .map(|(k, _)| k.clone())
                .collect();
            for key in gone {
                let old = self.entries.remove(&key);
                changes.push((key, old));
            }
            for entry in fresh {
                self.insert(entry, version_table, &mut changes);
            }
        }
        let total: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
        if full || usize::try_from(total).ok() != Some(self.entries.len() + self.hidden.len()) {
            let everything = read(
                conn,
                "SELECT type, name, tbl_name, sql FROM sqlite_master",
                [],
            )?;
            let old_entries = std::mem::take(&mut self.entries);
            self.hidden.clear();
            for entry in everything {
                self.insert(entry, version_table, &mut Vec::new());
            }
            for (key, old) in &old_entries {
                if self.entries.get(key) != Some(old) {
                    changes.push((key.clone(), Some(old.clone())));
                }
            }
            for key in self.entries.keys() {
                if !old_entries.contains_key(key) {
                    changes.push((key.clone(), None));
                }
            }
        }
        // Keep, per key, the oldest value: the one from before the refresh.
        let mut seen = BTreeSet::new();
        changes.retain(|(key, _)| seen.insert(key.clone()));
        changes.retain(|(key, old)| self.entries.get(key) != old.as_ref());
        Ok(changes)
    }

    fn insert(&mut self, entry: Entry, version_table: &str, changes: &mut Vec<Change>) {
        let table = entry.table.to_ascii_lowercase();
        let key = (entry.kind.clone(), entry.name.to_ascii_lowercase());
        let version_table = version_table.to_ascii_lowercase();
        let engine_table = table == version_table || table == format!("{version_table}_history");
        // SQLite's own objects: its tables and the automatic indexes of UNIQUE and PRIMARY KEY
        // constraints (part of their table's meaning).
        let internal =
            table.starts_with("sqlite_") || entry.name.to_ascii_lowercase().starts_with("sqlite_");
        if internal || engine_table {
            self.hidden.insert(key, entry);
        } else {
            if !changes.iter().any(|(k, _)| *k == key) {
                changes.push((key.clone(), None));
            }
            self.entries.insert(key, entry);
        }
    }
}

fn read(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<Vec<Entry>> {
    let mut statement = conn.prepare(sql)?;
    let rows = statement.query_map(params, |row| {
        Ok(Entry {
            kind: row.get(0)?,
            name: row.get(1)?,
            table: row.get(2)?,
            sql: row.get(3)?,
        })
    })?;
    rows.collect()
}

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

/// A table's rows, each rendered as SQL literals, with the primary-key columns (if any).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rows {
    pub(crate) columns: Vec<String>,
    pub(crate) key: Vec<usize>,
    pub(crate) rows: Vec<Vec<String>>,
}

impl Rows {
    /// The same rows with their columns in the order of `columns`, when the two have the same
    /// columns by name (in any order and case); `None` when they do not.
    pub(crate) fn aligned_to(&self, columns: &[String]) -> Option<Rows> {
        if self.columns == columns {
            return Some(self.clone());
        }
        if self.columns.len() != columns.len() {
            return None;
        }
        let order: Vec<usize> = columns
            .iter()
            .map(|c| self.columns.iter().position(|d| d.eq_ignore_ascii_case(c)))
            .collect::<Option<_>>()?;
        let mut rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| order.iter().map(|i| row[*i].clone()).collect())
            .collect();
        rows.sort();
        let key = self
            .key
            .iter()
            .filter_map(|k| order.iter().position(|i| i == k))
            .collect();
        Some(Rows {
            columns: columns.to_vec(),
            key,
            rows,
        })
    }
}

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
    let columns: Vec<String> = statement.column_names().map(str::to_owned).collect();
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
    let mut out = Vec::new();
    if before.columns != after.columns {
        return (vec![format!("the columns of `{table}` differ")], 1);
    }
    let key_of = |row: &Vec<String>| -> String {
        if before.key.is_empty() {
            format!("({})", row.join(", "))
        } else {
            let parts: Vec<String> = before
                .key
                .iter()
                .map(|i| format!("{} = {}", before.columns[*i], row[*i]))
                .collect();
            format!("({})", parts.join(", "))
        }
    };
    let index = |rows: &Rows| -> BTreeMap<String, Vec<Vec<String>>> {
        let mut map: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
        for row in &rows.rows {
            map.entry(key_of(row)).or_default().push(row.clone());
        }
        map
    };
    let (old, new) = (index(before), index(after));
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for key in keys {
        match (old.get(key), new.get(key)) {
            (Some(a), Some(b)) if a == b => {}
            (Some(a), Some(b)) if a.len() == 1 && b.len() == 1 => {
                let changes: Vec<String> = before
                    .columns
                    .iter()
                    .zip(a[0].iter().zip(&b[0]))
                    .filter(|(_, (x, y))| x != y)
                    .map(|(c, (x, y))| format!("{c} {x} → {y}"))
                    .collect();
                out.push(format!("row {key} changed: {}", changes.join(", ")));
            }
            (Some(_), None) => out.push(format!("row {key} is missing")),
            (None, Some(_)) => out.push(format!("row {key} was added")),
            _ => out.push(format!("rows {key} differ")),
        }
    }
    let total = out.len();
    out.truncate(limit);
    (out, total)
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
