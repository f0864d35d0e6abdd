//! Rows for empty tables, so that verification sees what a migration does to data even when
//! the migrations themselves insert none.
//!
//! Before a migration's round trip, every table that existed before it, that its up or down
//! names (or whose parent it names: a cascade reaches it) and that holds no row gets two rows
//! built from its schema: a value of the column's type for each column (dates for date and
//! time types and `…_at` names, 0 and 1 for booleans, `<column> <n>` for text), different in
//! each row; where a value breaks a CHECK, the text the CHECK names, or the column's default
//! or NULL; and, for a foreign key, a row of the parent (filled first when it is empty too). The rows are compared like seed rows
//! after the down, then deleted before the up runs again (and `sqlite_sequence` put back), so
//! nothing after the migration ever sees them.
//!
//! A table is left empty, and the reason noted, when no valid row can be built, when it is a
//! virtual table or `WITHOUT ROWID`, or when it has triggers (filling it would write
//! elsewhere).

use std::collections::{BTreeSet, HashMap};

use migrate_core::Migration;
use migrate_core::sql::{TokenKind, tokens};
use rusqlite::Connection;
use rusqlite::types::Value;

use crate::sqlite::mirror::Mirror;
use crate::sqlite::schema::Rows;

/// How many rows each empty table gets.
const ROWS: i64 = 2;

/// A table filled for one migration: what to delete afterwards.
#[derive(Clone, Debug)]
pub(crate) struct Filled {
    /// Lowercase table name.
    pub(crate) table: String,
    /// The table's `sqlite_sequence` value before (`Some(None)`: no entry), for AUTOINCREMENT.
    sequence: Option<Option<i64>>,
}

/// The empty tables a migration touches: named by its up or down, or children of those.
pub(crate) fn candidates(
    migration: &Migration,
    mirror: &Mirror,
    rows: &HashMap<String, Rows>,
    skip: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let mut named = BTreeSet::new();
    for sql in [migration.up().sql(), migration.down().sql()] {
        for token in tokens(sql) {
            let text = &sql[token.start..token.end];
            let name = match token.kind {
                TokenKind::Word => text.to_ascii_lowercase(),
                TokenKind::QuotedIdent => {
                    text[1..text.len().saturating_sub(1).max(1)].to_ascii_lowercase()
                }
                _ => continue,
            };
            if rows.contains_key(&name) {
                named.insert(name);
            }
        }
    }
    let mut out: BTreeSet<String> = named.clone();
    let mut queue: Vec<String> = named.into_iter().collect();
    while let Some(parent) = queue.pop() {
        for child in mirror.children(&parent) {
            if rows.contains_key(child) && out.insert(child.clone()) {
                queue.push(child.clone());
            }
        }
    }
    out.into_iter()
        .filter(|t| !skip(t) && rows.get(t).is_some_and(|r| r.rows.is_empty()))
        .collect()
}

/// Fills each of `tables` (parents first); returns what was filled and, for each table left
/// empty, why.
pub(crate) fn fill(
    conn: &Connection,
    mirror: &Mirror,
    tables: &[String],
) -> (Vec<Filled>, Vec<String>) {
    let mut filler = Filler {
        conn,
        mirror,
        filled: Vec::new(),
        notes: Vec::new(),
        visiting: BTreeSet::new(),
    };
    for table in tables {
        filler.ensure(table);
    }
    (filler.filled, filler.notes)
}

/// Empties the filled tables again, children first, and puts `sqlite_sequence` back. Each was
/// empty before it was filled, and is called only when it holds exactly the filled rows (the
/// down gave them back, or the up was rolled back), so emptying it is the exact undo, even
/// where a rebuild renumbered the rows.
pub(crate) fn empty_again(conn: &Connection, filled: &[Filled]) -> rusqlite::Result<()> {
    for table in filled.iter().rev() {
        conn.execute(&format!("DELETE FROM {}", quote(&table.table)), [])?;
        match table.sequence {
            Some(Some(seq)) => {
                conn.execute(
                    "UPDATE sqlite_sequence SET seq = ?1 WHERE name = ?2 COLLATE NOCASE",
                    rusqlite::params![seq, table.table],
                )?;
            }
            Some(None) => {
                conn.execute(
                    "DELETE FROM sqlite_sequence WHERE name = ?1 COLLATE NOCASE",
                    [&table.table],
                )?;
            }
            None => {}
        }
    }
    Ok(())
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

struct Column {
    name: String,
    declared: String,
    not_null: bool,
    has_default: bool,
    /// The rowid alias (`INTEGER PRIMARY KEY`): SQLite numbers it.
    rowid_alias: bool,
    generated: bool,
}

struct Filler<'a> {
    conn: &'a Connection,
    mirror: &'a Mirror,
    filled: Vec<Filled>,
    notes: Vec<String>,
    visiting: BTreeSet<String>,
}

impl Filler<'_> {
    /// Whether `table` holds rows (filling it if it is empty and can be filled).
    fn ensure(&mut self, table: &str) -> bool {
        if self.filled.iter().any(|f| f.table == table) {
            return true;
        }
        let quoted = quote(table);
        let has_rows = self
            .conn
            .query_row(
                &format!("SELECT EXISTS (SELECT 1 FROM {quoted})"),
                [],
                |r| r.get::<_, bool>(0),
            )
            .unwrap_or(false);
        if has_rows {
            return true;
        }
        if !self.visiting.insert(table.to_owned()) {
            return false;
        }
        let result = self.fill_table(table);
        self.visiting.remove(table);
        match result {
            Ok(filled) => {
                self.filled.push(filled);
                true
            }
            Err(reason) => {
                self.notes
                    .push(format!("`{table}` was left empty: {reason}"));
                false
            }
        }
    }

    fn fill_table(&mut self, table: &str) -> Result<Filled, String> {
        let entry = self
            .mirror
            .entries
            .get(&("table".to_owned(), table.to_owned()))
            .ok_or("it is not an ordinary table")?;
        let sql = crate::sqlite::schema::normalize(entry.sql.as_deref().unwrap_or_default());
        if sql.starts_with("CREATE VIRTUAL TABLE") {
            return Err("it is a virtual table".to_owned());
        }
        if sql.contains("WITHOUT ROWID") {
            return Err("it is a WITHOUT ROWID table".to_owned());
        }
        let triggered = self.mirror.objects_on(table).any(|e| e.kind == "trigger");
        if triggered {
            return Err("it has triggers, which rows written to it would fire".to_owned());
        }
        let columns = self.columns(table).map_err(|e| e.to_string())?;
        let references = self.references(table).map_err(|e| e.to_string())?;
        let sequence = self.sequence(table, &sql);
        let allowed = check_literals(entry.sql.as_deref().unwrap_or_default());
        for n in 1..=ROWS {
            let mut values: Vec<(String, Value)> = Vec::new();
            let mut fallbacks: Vec<String> = Vec::new();
            for column in &columns {
                if column.generated || column.rowid_alias {
                    continue;
                }
                let value = match references.iter().find(|(from, _, _)| *from == column.name) {
                    Some((_, parent, to)) => self.parent_value(table, parent, to.as_deref())?,
                    None => value_for(column, n),
                };
                if value == Value::Null && column.not_null {
                    return Err(format!("no value can be found for `{}`", column.name));
                }
                if column.has_default || !column.not_null {
                    fallbacks.push(column.name.clone());
                }
                values.push((column.name.clone(), value));
            }
            // The same row with, for each column a CHECK compares with text, that text.
            let checked: Vec<(String, Value)> = values
                .iter()
                .map(
                    |(name, value)| match allowed.get(&name.to_ascii_uppercase()) {
                        Some(text) if matches!(value, Value::Text(_)) => {
                            (name.clone(), Value::Text(text.clone()))
                        }
                        _ => (name.clone(), value.clone()),
                    },
                )
                .collect();
            self.insert(table, &[values, checked], &fallbacks)
                .map_err(|e| format!("SQLite refuses every row built for it ({e})"))?;
        }
        Ok(Filled {
            table: table.to_owned(),
            sequence,
        })
    }

    /// Inserts one row: each variant as built, then the last with the columns that have a
    /// default or accept NULL left to SQLite, one at a time, until the CHECKs accept it.
    fn insert(
        &self,
        table: &str,
        variants: &[Vec<(String, Value)>],
        fallbacks: &[String],
    ) -> rusqlite::Result<i64> {
        let (last, first) = variants.split_last().ok_or(rusqlite::Error::InvalidQuery)?;
        for values in first {
            if let Ok(rowid) = self.insert_with(table, values, fallbacks, false) {
                return Ok(rowid);
            }
        }
        self.insert_with(table, last, fallbacks, true)
    }

    fn insert_with(
        &self,
        table: &str,
        values: &[(String, Value)],
        fallbacks: &[String],
        fall_back: bool,
    ) -> rusqlite::Result<i64> {
        let mut omitted: Vec<&str> = Vec::new();
        let attempt = |omitted: &[&str]| -> rusqlite::Result<i64> {
            let kept: Vec<&(String, Value)> = values
                .iter()
                .filter(|(name, _)| !omitted.contains(&name.as_str()))
                .collect();
            let sql = if kept.is_empty() {
                format!("INSERT INTO {} DEFAULT VALUES", quote(table))
            } else {
                format!(
                    "INSERT INTO {} ({}) VALUES ({})",
                    quote(table),
                    kept.iter()
                        .map(|(n, _)| quote(n))
                        .collect::<Vec<_>>()
                        .join(", "),
                    vec!["?"; kept.len()].join(", ")
                )
            };
            self.conn.execute(
                &sql,
                rusqlite::params_from_iter(kept.iter().map(|(_, v)| v)),
            )?;
            Ok(self.conn.last_insert_rowid())
        };
        let mut result = attempt(&omitted);
        for column in fallbacks.iter().filter(|_| fall_back) {
            if result.is_ok() {
                break;
            }
            omitted.push(column);
            result = attempt(&omitted);
        }
        result
    }

    /// A value of the parent's key, from a parent row (the parent filled first if empty).
    fn parent_value(
        &mut self,
        table: &str,
        parent: &str,
        to: Option<&str>,
    ) -> Result<Value, String> {
        let parent_lower = parent.to_ascii_lowercase();
        if parent_lower == table || !self.ensure(&parent_lower) {
            return Ok(Value::Null);
        }
        let primary_key = || {
            self.conn
                .query_row(
                    "SELECT name FROM pragma_table_info(?1) WHERE pk = 1",
                    [parent],
                    |r| r.get::<_, String>(0),
                )
                .map_or_else(|_| "rowid".to_owned(), |name| quote(&name))
        };
        let column = to.map_or_else(primary_key, quote);
        self.conn
            .query_row(
                &format!(
                    "SELECT {column} FROM {} ORDER BY rowid LIMIT 1",
                    quote(parent)
                ),
                [],
                |r| r.get::<_, Value>(0),
            )
            .map_err(|e| format!("its parent `{parent}` cannot be read ({e})"))
    }

    fn columns(&self, table: &str) -> rusqlite::Result<Vec<Column>> {
        let mut statement = self
            .conn
            .prepare(&format!("PRAGMA table_xinfo({})", quote(table)))?;
        let rows: Vec<(String, String, bool, bool, i64, i64)> = statement
            .query_map([], |r| {
                Ok((
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get::<_, Option<String>>(4)?.is_some(),
                    r.get(5)?,
                    r.get(6)?,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let key_columns = rows.iter().filter(|r| r.4 > 0).count();
        Ok(rows
            .into_iter()
            .map(
                |(name, declared, not_null, has_default, pk, hidden)| Column {
                    rowid_alias: pk > 0
                        && key_columns == 1
                        && declared.eq_ignore_ascii_case("INTEGER"),
                    generated: hidden > 1,
                    name,
                    declared: declared.to_ascii_uppercase(),
                    not_null,
                    has_default,
                },
            )
            .collect())
    }

    /// (column, parent table, parent column) for each foreign-key column.
    fn references(&self, table: &str) -> rusqlite::Result<Vec<(String, String, Option<String>)>> {
        let mut statement = self
            .conn
            .prepare(&format!("PRAGMA foreign_key_list({})", quote(table)))?;
        statement
            .query_map([], |r| Ok((r.get(3)?, r.get(2)?, r.get(4)?)))?
            .collect()
    }

    /// The table's `sqlite_sequence` entry, for an AUTOINCREMENT table.
    fn sequence(&self, table: &str, normalized: &str) -> Option<Option<i64>> {
        if !normalized.contains("AUTOINCREMENT") {
            return None;
        }
        let seq = self
            .conn
            .query_row(
                "SELECT seq FROM sqlite_sequence WHERE name = ?1 COLLATE NOCASE",
                [table],
                |r| r.get::<_, i64>(0),
            )
            .ok();
        Some(seq)
    }
}

/// For each column (upper case) that a CHECK constraint compares with text, the first text
/// it names: `CHECK (status IN ('active', 'banned'))` gives `STATUS` → `active`.
fn check_literals(create_table: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for check in crate::sqlite::shape::checks(create_table) {
        let mut words = Vec::new();
        let mut literal = None;
        for token in tokens(&check) {
            let text = &check[token.start..token.end];
            match token.kind {
                TokenKind::Word => words.push(text.to_owned()),
                TokenKind::String if literal.is_none() => {
                    literal = Some(text[1..text.len().saturating_sub(1).max(1)].replace("''", "'"));
                }
                _ => {}
            }
        }
        if let Some(literal) = literal {
            for word in words {
                out.entry(word).or_insert_with(|| literal.clone());
            }
        }
    }
    out
}

/// Row `n`'s value for a column, by its declared type (SQLite's affinity rules, plus dates and
/// booleans, whose text SQLite does not check but migrations convert).
fn value_for(column: &Column, n: i64) -> Value {
    let declared = column.declared.as_str();
    let has = |part: &str| declared.contains(part);
    let name = column.name.to_ascii_lowercase();
    let textual = !has("INT") && !has("REAL") && !has("FLOA") && !has("DOUB") && !has("BLOB");
    // Text columns that hold dates, addresses or JSON by their name: migrations convert them.
    let dated = name.ends_with("_at") || name.contains("date") || name.contains("time");
    if textual && !has("BOOL") && dated {
        return Value::Text(format!("2024-01-0{n} 12:00:0{n}"));
    }
    if textual && name.contains("email") {
        return Value::Text(format!("user{n}@example.com"));
    }
    if textual && name.contains("json") {
        return Value::Text(format!("{{\"n\":{n}}}"));
    }
    if has("DATE") || has("TIME") {
        if has("TIME") {
            Value::Text(format!("2024-01-0{n} 12:00:0{n}"))
        } else {
            Value::Text(format!("2024-01-0{n}"))
        }
    } else if has("BOOL") {
        Value::Integer(n % 2)
    } else if has("INT") {
        Value::Integer(n)
    } else if has("CHAR") || has("CLOB") || has("TEXT") {
        Value::Text(format!("{} {n}", column.name))
    } else if has("BLOB") {
        Value::Blob(vec![u8::try_from(n).unwrap_or(0)])
    } else if has("REAL") || has("FLOA") || has("DOUB") {
        // Exactly representable, so no rounding can pass for a change.
        Value::Real(n as f64 + 0.5)
    } else if declared.is_empty() {
        Value::Text(format!("{} {n}", column.name))
    } else {
        Value::Integer(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(sql: &str) -> (Connection, Mirror) {
        let conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", true).unwrap();
        conn.execute_batch(sql).unwrap();
        let mut mirror = Mirror::default();
        mirror
            .refresh(&conn, "schema_migrations", &BTreeSet::new(), true)
            .unwrap();
        (conn, mirror)
    }

    fn dump(conn: &Connection, table: &str) -> Vec<String> {
        crate::sqlite::schema::rows(conn, table)
            .unwrap()
            .rows
            .into_iter()
            .map(|r| r.join(", "))
            .collect()
    }

    #[test]
    fn fills_parents_first_within_constraints_and_empties_again() {
        let (conn, mirror) = setup(
            "CREATE TABLE authors (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL UNIQUE, born DATE);\n\
             CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES authors (id), \
                status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'live')), score REAL, \
                published BOOLEAN NOT NULL DEFAULT 0, created_at DATETIME);",
        );
        let (filled, notes) = fill(&conn, &mirror, &["posts".to_owned()]);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(
            filled.iter().map(|f| f.table.as_str()).collect::<Vec<_>>(),
            ["authors", "posts"]
        );
        assert_eq!(
            dump(&conn, "authors"),
            [
                "1, 'user1@example.com', '2024-01-01'",
                "2, 'user2@example.com', '2024-01-02'"
            ]
        );
        assert_eq!(
            dump(&conn, "posts"),
            [
                "1, 1, 'draft', 1.5, 1, '2024-01-01 12:00:01'",
                "2, 1, 'draft', 2.5, 0, '2024-01-02 12:00:02'"
            ]
        );
        empty_again(&conn, &filled).unwrap();
        assert!(dump(&conn, "posts").is_empty() && dump(&conn, "authors").is_empty());
        // The next id is the one it would have been.
        conn.execute("INSERT INTO authors (email) VALUES ('a')", [])
            .unwrap();
        assert_eq!(conn.last_insert_rowid(), 1);
    }

    #[test]
    fn takes_the_text_a_check_constraint_names() {
        let (conn, mirror) = setup(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, status TEXT NOT NULL \
             CHECK (status IN ('active', 'banned')), settings TEXT CHECK (json_valid(settings)));",
        );
        let (filled, notes) = fill(&conn, &mirror, &["users".to_owned()]);
        assert!(notes.is_empty() && filled.len() == 1, "{notes:?}");
        assert_eq!(
            dump(&conn, "users"),
            ["1, 'active', NULL", "2, 'active', NULL"]
        );
    }

    #[test]
    fn leaves_a_table_empty_and_says_why_when_no_row_fits() {
        let (conn, mirror) = setup(
            "CREATE TABLE impossible (a INTEGER NOT NULL CHECK (a > 100 AND a < 50));\n\
             CREATE TABLE fts_source (body TEXT);\n\
             CREATE TABLE log (line TEXT);\n\
             CREATE TRIGGER t AFTER INSERT ON fts_source BEGIN INSERT INTO log VALUES (NEW.body); END;",
        );
        let (filled, notes) = fill(
            &conn,
            &mirror,
            &["impossible".to_owned(), "fts_source".to_owned()],
        );
        assert!(filled.is_empty());
        assert_eq!(
            notes,
            [
                "`impossible` was left empty: SQLite refuses every row built for it (CHECK constraint failed: a > 100 AND a < 50)",
                "`fts_source` was left empty: it has triggers, which rows written to it would fire"
            ]
        );
    }
}
