//! A table's meaning, read back from SQLite rather than from its text: the table is created
//! alone in a scratch database and described through SQLite's pragmas, so a table recreated
//! with other formatting, quoting, constraint placement or `IF NOT EXISTS` is the same table.
//!
//! What SQLite's pragmas do not give is read as follows:
//! - a column's collation: from an index on every column in the scratch database (an index
//!   column takes its column's collation, and `PRAGMA index_xinfo` names it);
//! - CHECK constraints: from the text, each expression normalised; a column constraint and a
//!   table constraint with the same expression are the same (SQLite treats them alike);
//! - defaults: two defaults whose text differs are compared by the value SQLite stores for
//!   them, both evaluated in one statement in a column of each declared type, so `FALSE` and
//!   `0`, `'x'` and `"x"`, `+1` and `1`, `(0)` and `0` are the same default, and
//!   `CURRENT_TIMESTAMP` equals `(datetime('now'))` (one statement sees one "now").

use std::collections::{BTreeMap, BTreeSet};

use migrate_core::sql::{TokenKind, tokens};
use rusqlite::Connection;

use crate::sqlite::schema::normalize;

/// One column as SQLite understands it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Column {
    pub(crate) name: String,
    /// The declared type, upper case, white space collapsed.
    pub(crate) declared: String,
    pub(crate) not_null: bool,
    /// The default expression as written (`None`: no default, which stores NULL).
    pub(crate) default: Option<String>,
    /// Position within the primary key (0: not part of it).
    pub(crate) primary_key: i64,
    /// `PRAGMA table_xinfo`'s `hidden`: 2 and 3 are generated columns.
    pub(crate) hidden: i64,
    /// The collation, upper case (`BINARY` unless declared; empty when it cannot be read).
    pub(crate) collation: String,
}

impl Column {
    /// The column's definition as a user reads it: `TEXT NOT NULL DEFAULT 0 COLLATE NOCASE`.
    pub(crate) fn describe(&self) -> String {
        let mut out = self.declared.clone();
        if self.not_null {
            out.push_str(" NOT NULL");
        }
        if let Some(default) = &self.default {
            out.push_str(&format!(" DEFAULT {}", normalize(default)));
        }
        if !self.collation.is_empty() && self.collation != "BINARY" {
            out.push_str(&format!(" COLLATE {}", self.collation));
        }
        if self.primary_key > 0 {
            out.push_str(&format!(" PRIMARY KEY ({})", self.primary_key));
        }
        if self.hidden > 1 {
            out.push_str(" GENERATED");
        }
        out.trim().to_owned()
    }

    /// Whether `self` and `other` define the same column (the name aside): same type,
    /// constraints and collation, and defaults that store the same value.
    pub(crate) fn same_definition(&self, other: &Column) -> bool {
        self.declared == other.declared
            && self.not_null == other.not_null
            && self.primary_key == other.primary_key
            && self.hidden == other.hidden
            && self.collation == other.collation
            && same_default(self, other)
    }
}

/// A table's meaning: its columns in order, foreign keys, unique constraints, CHECK
/// constraints and options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TableShape {
    pub(crate) columns: Vec<Column>,
    pub(crate) foreign_keys: BTreeSet<String>,
    /// `PRIMARY KEY (a)` and `UNIQUE (a, b)` constraints, by the columns of their indexes.
    pub(crate) unique: BTreeSet<String>,
    /// `CHECK (…)` constraints, normalised, sorted (one entry per constraint).
    pub(crate) checks: Vec<String>,
    pub(crate) options: String,
}

/// Reads a table's shape by creating it, alone, in a scratch database.
pub(crate) fn table_shape(create_table: &str) -> rusqlite::Result<TableShape> {
    // Sandboxed like the verifier's own database: the text may have been rewritten through
    // `PRAGMA writable_schema`, and must not reach the file system from here either.
    let scratch = crate::sqlite::sandbox::scratch()?;
    scratch.execute_batch(create_table)?;
    let name: String = scratch.query_row(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        [],
        |r| r.get(0),
    )?;
    let quoted = quote(&name);
    let mut columns = Vec::new();
    let mut statement = scratch.prepare(&format!("PRAGMA table_xinfo({quoted})"))?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let declared: String = row.get(2)?;
        columns.push(Column {
            name: row.get(1)?,
            declared: declared
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_ascii_uppercase(),
            not_null: row.get(3)?,
            default: row.get(4)?,
            primary_key: row.get(5)?,
            hidden: row.get(6)?,
            collation: String::new(),
        });
    }
    drop(rows);
    drop(statement);
    read_collations(&scratch, &quoted, &mut columns);
    let foreign_keys = foreign_keys(&scratch, &quoted)?;
    let unique = unique_constraints(&scratch, &quoted)?;
    let (without_rowid, strict): (bool, bool) = scratch.query_row(
        &format!("SELECT wr, strict FROM pragma_table_list({quoted}) WHERE schema = 'main'"),
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let autoincrement = normalize(create_table).contains("AUTOINCREMENT");
    let options = [
        (without_rowid, "WITHOUT ROWID"),
        (strict, "STRICT"),
        (autoincrement, "AUTOINCREMENT"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, name)| *name)
    .collect::<Vec<_>>()
    .join(", ");
    Ok(TableShape {
        columns,
        foreign_keys,
        unique,
        checks: checks(create_table),
        options,
    })
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Each column's collation, read from an index on every column (a virtual table cannot be
/// indexed: its collations stay unknown, and equal).
fn read_collations(scratch: &Connection, table: &str, columns: &mut [Column]) {
    let indexable: Vec<String> = columns
        .iter()
        .filter(|c| c.hidden != 1)
        .map(|c| quote(&c.name))
        .collect();
    if indexable.is_empty() {
        return;
    }
    let created = scratch.execute_batch(&format!(
        "CREATE INDEX \"migrate probe\" ON {table} ({})",
        indexable.join(", ")
    ));
    if created.is_err() {
        return;
    }
    let read = || -> rusqlite::Result<BTreeMap<String, String>> {
        let mut statement = scratch.prepare("PRAGMA index_xinfo(\"migrate probe\")")?;
        let rows = statement.query_map([], |r| {
            Ok((
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, bool>(5)?,
            ))
        })?;
        let mut out = BTreeMap::new();
        for row in rows {
            if let (Some(column), Some(collation), true) = row? {
                out.insert(column, collation.to_ascii_uppercase());
            }
        }
        Ok(out)
    };
    if let Ok(collations) = read() {
        for column in columns.iter_mut() {
            if let Some(collation) = collations.get(&column.name) {
                column.collation.clone_from(collation);
            }
        }
    }
}

fn foreign_keys(scratch: &Connection, table: &str) -> rusqlite::Result<BTreeSet<String>> {
    let mut foreign_keys: BTreeMap<i64, (String, Vec<String>, Vec<String>, String)> =
        BTreeMap::new();
    let mut statement = scratch.prepare(&format!("PRAGMA foreign_key_list({table})"))?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let parent: String = row.get(2)?;
        let from: String = row.get(3)?;
        let to: Option<String> = row.get(4)?;
        let on_update: String = row.get(5)?;
        let on_delete: String = row.get(6)?;
        let entry = foreign_keys.entry(id).or_insert_with(|| {
            (
                parent,
                Vec::new(),
                Vec::new(),
                format!("ON UPDATE {on_update} ON DELETE {on_delete}"),
            )
        });
        entry.1.push(from);
        entry.2.push(to.unwrap_or_default());
    }
    Ok(foreign_keys
        .into_values()
        .map(|(parent, from, to, actions)| {
            format!(
                "({}) REFERENCES {parent} ({}) {actions}",
                from.join(", "),
                to.join(", ")
            )
        })
        .collect())
}

fn unique_constraints(scratch: &Connection, table: &str) -> rusqlite::Result<BTreeSet<String>> {
    let mut unique = BTreeSet::new();
    let mut statement = scratch.prepare(&format!("PRAGMA index_list({table})"))?;
    let indexes: Vec<(String, String)> = statement
        .query_map([], |r| Ok((r.get(1)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (index, origin) in indexes {
        if origin == "c" {
            continue;
        }
        let mut info = scratch.prepare(&format!("PRAGMA index_info({})", quote(&index)))?;
        let columns: Vec<String> = info
            .query_map([], |r| r.get::<_, Option<String>>(2))?
            .map(|c| c.map(Option::unwrap_or_default))
            .collect::<rusqlite::Result<_>>()?;
        let kind = if origin == "pk" {
            "PRIMARY KEY"
        } else {
            "UNIQUE"
        };
        unique.insert(format!("{kind} ({})", columns.join(", ")));
    }
    Ok(unique)
}

/// The CHECK constraints of a `CREATE TABLE`, column and table constraints alike, each as
/// `CHECK (<normalised expression>)`, sorted.
pub(crate) fn checks(create_table: &str) -> Vec<String> {
    let code: Vec<(TokenKind, usize, usize)> = tokens(create_table)
        .filter(|t| t.is_code())
        .map(|t| (t.kind, t.start, t.end))
        .collect();
    let text = |i: usize| &create_table[code[i].1..code[i].2];
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < code.len() {
        let is_check = code[i].0 == TokenKind::Word && text(i).eq_ignore_ascii_case("check");
        if !(is_check && text(i + 1) == "(") {
            i += 1;
            continue;
        }
        let mut depth = 0usize;
        let mut j = i + 1;
        while j < code.len() {
            match text(j) {
                "(" => depth += 1,
                ")" => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            j += 1;
        }
        let start = code.get(i + 2).map_or(create_table.len(), |t| t.1);
        let end = code.get(j).map_or(create_table.len(), |t| t.1).max(start);
        out.push(format!("CHECK ({})", normalize(&create_table[start..end])));
        i = j + 1;
    }
    out.sort();
    out
}

/// Whether two columns' defaults store the same value: the same text (normalised), or, where
/// SQLite can evaluate both, the same value and type in a column of each declared type.
pub(crate) fn same_default(a: &Column, b: &Column) -> bool {
    let text = |c: &Column| {
        c.default
            .as_deref()
            .map_or_else(|| "NULL".to_owned(), normalize)
    };
    text(a) == text(b) || evaluate_pair(a, b).unwrap_or(false)
}

/// Both defaults evaluated in one `INSERT`, as SQLite stores them (a non-constant default
/// such as `random()` gives two different values, so it is equal only to the same text).
/// SQLite reports an expression default without its parentheses and a bare-word default
/// without quotes, so each is tried as written and in parentheses.
fn evaluate_pair(a: &Column, b: &Column) -> rusqlite::Result<bool> {
    let conn = Connection::open_in_memory()?;
    let column = |name: &str, c: &Column, parenthesized: bool| {
        let default = c.default.as_deref().unwrap_or("NULL");
        if parenthesized {
            format!("{name} {} DEFAULT ({default})", c.declared)
        } else {
            format!("{name} {} DEFAULT {default}", c.declared)
        }
    };
    let mut last = None;
    for (pa, pb) in [(false, false), (true, true), (false, true), (true, false)] {
        let evaluated = conn
            .execute_batch(&format!(
                "DROP TABLE IF EXISTS probe;\nCREATE TABLE probe ({}, {}, x);\n\
                 INSERT INTO probe (x) VALUES (1);",
                column("a", a, pa),
                column("b", b, pb)
            ))
            .and_then(|()| {
                conn.query_row("SELECT quote(a) IS quote(b) FROM probe", [], |r| r.get(0))
            });
        match evaluated {
            Ok(same) => return Ok(same),
            Err(error) => last = Some(error),
        }
    }
    Err(last.unwrap_or(rusqlite::Error::InvalidQuery))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(sql: &str, name: &str) -> Column {
        table_shape(sql)
            .unwrap()
            .columns
            .into_iter()
            .find(|c| c.name == name)
            .unwrap()
    }

    fn same(a: &str, b: &str) -> bool {
        let a = column(&format!("CREATE TABLE t (c {a})"), "c");
        let b = column(&format!("CREATE TABLE t (c {b})"), "c");
        a.same_definition(&b)
    }

    #[test]
    fn recreated_tables_with_other_formatting_have_the_same_shape() {
        let a = table_shape("CREATE TABLE IF NOT EXISTS \"t\" (\"id\" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, \"p\" INTEGER REFERENCES parent (id) ON DELETE CASCADE, name text unique CHECK (length(name) > 0))").unwrap();
        let b = table_shape("create table t (\n id integer not null primary key autoincrement,\n p integer,\n name TEXT,\n unique (name),\n foreign key (p) references parent(id) on delete cascade,\n check (length(\"name\")>0)\n)").unwrap();
        assert_eq!(a, b);
        let c = table_shape(
            "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, p INTEGER, name TEXT)",
        )
        .unwrap();
        assert_ne!(a, c);
    }

    #[test]
    fn defaults_that_store_the_same_value_are_the_same() {
        assert!(same(
            "BOOLEAN NOT NULL DEFAULT FALSE",
            "BOOLEAN NOT NULL DEFAULT 0"
        ));
        assert!(same("BOOLEAN DEFAULT TRUE", "BOOLEAN DEFAULT 1"));
        assert!(same("TEXT DEFAULT 'x'", "TEXT DEFAULT \"x\""));
        assert!(same("INTEGER DEFAULT +1", "INTEGER DEFAULT 1"));
        assert!(same("INTEGER DEFAULT (0)", "INTEGER DEFAULT 0"));
        assert!(same("INTEGER DEFAULT '1'", "INTEGER DEFAULT 1"));
        assert!(same("TEXT DEFAULT NULL", "TEXT"));
        assert!(same(
            "DATETIME DEFAULT current_timestamp",
            "DATETIME DEFAULT CURRENT_TIMESTAMP"
        ));
        assert!(same(
            "DATETIME DEFAULT CURRENT_TIMESTAMP",
            "DATETIME DEFAULT (datetime('now'))"
        ));
    }

    #[test]
    fn defaults_that_store_other_values_differ() {
        assert!(!same("INTEGER DEFAULT 0", "INTEGER DEFAULT 1"));
        assert!(!same("BOOLEAN DEFAULT FALSE", "BOOLEAN DEFAULT TRUE"));
        assert!(!same("TEXT DEFAULT 'x'", "TEXT DEFAULT 'X'"));
        // Without a type, the text '1' and the integer 1 are stored differently.
        assert!(!same("DEFAULT '1'", "DEFAULT 1"));
        assert!(!same("REAL DEFAULT 1.5", "REAL DEFAULT 1"));
        assert!(!same("TEXT DEFAULT ''", "TEXT"));
        assert!(!same(
            "DATETIME DEFAULT CURRENT_TIMESTAMP",
            "DATETIME DEFAULT CURRENT_DATE"
        ));
        // Not constant: never equal to another expression.
        assert!(!same("INTEGER DEFAULT (random())", "INTEGER DEFAULT 0"));
        assert!(same(
            "INTEGER DEFAULT (random())",
            "INTEGER DEFAULT (RANDOM())"
        ));
    }

    #[test]
    fn collations_are_read_and_compared() {
        assert_eq!(
            column("CREATE TABLE t (c TEXT COLLATE nocase)", "c").collation,
            "NOCASE"
        );
        assert_eq!(column("CREATE TABLE t (c TEXT)", "c").collation, "BINARY");
        assert!(!same("TEXT COLLATE NOCASE", "TEXT"));
        assert!(same("TEXT COLLATE NOCASE", "TEXT COLLATE nocase"));
        assert_eq!(
            column("CREATE TABLE t (c TEXT COLLATE NOCASE NOT NULL)", "c").describe(),
            "TEXT NOT NULL COLLATE NOCASE"
        );
    }

    #[test]
    fn check_constraints_are_read_wherever_they_are_written() {
        assert_eq!(
            checks(
                "CREATE TABLE t (a INTEGER CHECK (a > 0), b TEXT, CONSTRAINT ok CHECK (b IN ('x', 'y')), \"check\" INTEGER)"
            ),
            ["CHECK (A > 0)", "CHECK (B IN ('x', 'y'))"]
        );
        assert_eq!(
            checks("CREATE TABLE t (a INTEGER, b TEXT, CHECK(a>0))"),
            checks("CREATE TABLE t (a INTEGER check ( \"a\" > 0 ), b TEXT)")
        );
        assert_ne!(
            checks("CREATE TABLE t (a INTEGER CHECK (a > 0))"),
            checks("CREATE TABLE t (a INTEGER CHECK (a >= 0))")
        );
        assert!(checks("CREATE TABLE t (a INTEGER, \"check\" TEXT)").is_empty());
    }
}
