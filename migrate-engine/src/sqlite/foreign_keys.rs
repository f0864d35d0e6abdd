//! Malformed foreign keys: a `REFERENCES` clause SQLite accepts in `CREATE TABLE` but that
//! makes every later write to the child (or the parent) fail with "foreign key mismatch" (or
//! "no such table") once foreign keys are enforced.
//!
//! Checked after each migration's up and after its down, on what that script touched: the
//! tables it created, changed or dropped (and whose indexes it created or dropped), and the
//! tables whose foreign keys point at those. So the blame falls on the script that made the
//! foreign key malformed, whether it created the child or broke the parent later, and the cost
//! stays proportional to what each migration touches: an index from parent to children is
//! kept up to date from the same touched tables.

use std::fmt;

use rusqlite::{Connection, OptionalExtension};

use crate::sorted::{Names, SortedMap};

/// One foreign key that cannot work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Malformed {
    /// The child table.
    pub(crate) child: String,
    /// Its columns, in order.
    pub(crate) from: Vec<String>,
    /// The parent table, as written in `REFERENCES`.
    pub(crate) parent: String,
    /// The parent columns as written, or `None` for `REFERENCES parent` alone.
    pub(crate) to: Option<Vec<String>>,
    /// Why it cannot work.
    pub(crate) reason: String,
    /// What to do about it.
    pub(crate) fix: String,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let to = match &self.to {
            Some(columns) => format!("({})", columns.join(", ")),
            None => String::new(),
        };
        if self.from.is_empty() {
            write!(f, "one of the foreign keys of `{}`", self.child)?;
        } else {
            write!(
                f,
                "`{}({}) REFERENCES {}{to}`",
                self.child,
                self.from.join(", "),
                self.parent
            )?;
        }
        write!(
            f,
            ", because {}; SQLite accepts it, then fails every write to `{}` while foreign keys \
             are enforced: {}",
            self.reason, self.child, self.fix
        )
    }
}

/// One `REFERENCES` clause of a child table.
#[derive(Clone, Debug)]
struct Reference {
    parent: String,
    from: Vec<String>,
    to: Option<Vec<String>>,
}

/// Which tables' foreign keys point at which parents, for the tables seen so far.
#[derive(Debug, Default)]
pub(crate) struct Index {
    /// Parent (lowercase) → its children (lowercase).
    children: SortedMap<String, Names>,
    /// Child (lowercase) → the parents its foreign keys name (lowercase).
    parents: SortedMap<String, Names>,
}

impl Index {
    /// Brings the index up to date for the `touched` tables (lowercase names) and returns the
    /// malformed foreign keys among them and among the tables that reference them.
    pub(crate) fn check(
        &mut self,
        conn: &Connection,
        touched: &Names,
    ) -> rusqlite::Result<Vec<Malformed>> {
        let mut references: SortedMap<String, Vec<Reference>> = SortedMap::default();
        for table in touched {
            if let Some(old) = self.parents.remove(table) {
                for parent in old {
                    if let Some(children) = self.children.get_mut(&parent) {
                        children.remove(table);
                    }
                }
            }
            let list = foreign_keys(conn, table)?;
            if list.is_empty() {
                continue;
            }
            let parents: Names = list.iter().map(|r| r.parent.to_ascii_lowercase()).collect();
            for parent in &parents {
                self.children
                    .entry_or_default(parent.clone())
                    .insert(table.clone());
            }
            self.parents.insert(table.clone(), parents);
            references.insert(table.clone(), list);
        }
        for table in touched {
            for child in self.children.get(table).into_iter().flatten() {
                if !references.contains_key(child) {
                    references.insert(child.clone(), foreign_keys(conn, child)?);
                }
            }
        }
        let mut out = Vec::new();
        for (child, list) in references.iter() {
            let before = out.len();
            for reference in list {
                if let Some(malformed) = diagnose(conn, child, reference)? {
                    out.push(malformed);
                }
            }
            if out.len() == before {
                // What the rules above do not cover (collations, for one): SQLite decides.
                if let Some(message) = mismatch(conn, child)? {
                    out.push(reported(child, list, &message));
                }
            }
        }
        Ok(out)
    }
}

/// What `child`'s foreign keys that cannot work are, once SQLite has reported `message`
/// ("foreign key mismatch …") for it: the rules of [`Index::check`], or else SQLite's own words.
/// For the runtime, which meets the mismatch with enforcement off (where [`mismatch`] cannot
/// reproduce it).
pub(crate) fn explain_mismatch(
    conn: &Connection,
    child: &str,
    message: &str,
) -> rusqlite::Result<Vec<Malformed>> {
    let child = child.to_ascii_lowercase();
    let found = Index::default().check(conn, &Names::from_iter([child.clone()]))?;
    if !found.is_empty() {
        return Ok(found);
    }
    Ok(vec![reported(
        &child,
        &foreign_keys(conn, &child)?,
        message,
    )])
}

/// A foreign key of `child` that SQLite reports as `message`, when the rules do not say which:
/// the only one `child` has, or "one of" them.
fn reported(child: &str, list: &[Reference], message: &str) -> Malformed {
    // Which of several foreign keys it is, SQLite does not say.
    let first = list.first().filter(|_| list.len() == 1);
    Malformed {
        child: child.to_owned(),
        from: first.map(|r| r.from.clone()).unwrap_or_default(),
        parent: first.map(|r| r.parent.clone()).unwrap_or_default(),
        to: first.and_then(|r| r.to.clone()),
        reason: format!("SQLite reports \"{message}\""),
        fix: "make the referenced columns, with their collations, exactly the PRIMARY KEY or a \
              UNIQUE index of the parent"
            .to_owned(),
    }
}

/// The foreign keys of `table` in the main schema (none if it is not a table).
fn foreign_keys(conn: &Connection, table: &str) -> rusqlite::Result<Vec<Reference>> {
    if !is_table(conn, table)? {
        return Ok(Vec::new());
    }
    let mut statement = conn.prepare(
        "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1, 'main') \
         ORDER BY id, seq",
    )?;
    let rows = statement.query_map([table], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, Option<String>>(3)?,
        ))
    })?;
    let mut out: Vec<(i64, Reference)> = Vec::new();
    for row in rows {
        let (id, parent, from, to) = row?;
        match out.last_mut() {
            Some((last, reference)) if *last == id => {
                reference.from.push(from);
                if let (Some(columns), Some(to)) = (&mut reference.to, to) {
                    columns.push(to);
                }
            }
            _ => out.push((
                id,
                Reference {
                    parent,
                    from: vec![from],
                    to: to.map(|t| vec![t]),
                },
            )),
        }
    }
    Ok(out.into_iter().map(|(_, r)| r).collect())
}

/// `table`, `view`, … for a name in the main schema. A table is found by one lookup in
/// SQLite's schema hash (case-insensitive, as the scan); only another name is looked for by
/// scanning `sqlite_master`, which has no index by name, so that checking each step's foreign
/// keys does not cost the size of the schema (verification checks after every step).
fn kind(conn: &Connection, name: &str) -> rusqlite::Result<Option<String>> {
    if is_table(conn, name)? {
        return Ok(Some("table".to_owned()));
    }
    conn.prepare(
        "SELECT type FROM main.sqlite_master WHERE name = ?1 COLLATE NOCASE \
         AND type IN ('table', 'view')",
    )?
    .query_row([name], |row| row.get(0))
    .optional()
}

/// Whether `name` is a table (or a virtual table) of the main schema, as this connection's
/// schema has it: the check runs inside the transaction or on the connection that just ran the
/// step, where that schema is current.
fn is_table(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.table_exists(Some("main"), name)
}

/// Whether a foreign key of `child` can work, by the rules of SQLite's foreign-key
/// documentation: the parent exists and is a table, and the parent key is its PRIMARY KEY or
/// carries a UNIQUE constraint or index, with as many columns as the child key.
fn diagnose(
    conn: &Connection,
    child: &str,
    reference: &Reference,
) -> rusqlite::Result<Option<Malformed>> {
    let parent = &reference.parent;
    let malformed = |reason: String, fix: String| Malformed {
        child: child.to_owned(),
        from: reference.from.clone(),
        parent: parent.clone(),
        to: reference.to.clone(),
        reason,
        fix,
    };
    match kind(conn, parent)?.as_deref() {
        None => {
            return Ok(Some(malformed(
                format!("table `{parent}` does not exist (\"no such table: main.{parent}\")"),
                format!(
                    "create `{parent}` in this migration or an earlier one, or correct the name \
                     after REFERENCES"
                ),
            )));
        }
        Some("view") => {
            return Ok(Some(malformed(
                format!("`{parent}` is a view, and a foreign key must reference a table"),
                "reference the table the view reads from".to_owned(),
            )));
        }
        _ => {}
    }
    let primary_key = primary_key(conn, parent)?;
    let key_text = |columns: &[String]| format!("`{parent}({})`", columns.join(", "));
    let Some(to) = &reference.to else {
        if primary_key.is_empty() {
            return Ok(Some(malformed(
                format!(
                    "`REFERENCES {parent}` without columns means its PRIMARY KEY, and `{parent}` \
                     has none"
                ),
                format!(
                    "name a PRIMARY KEY or UNIQUE column of `{parent}` after REFERENCES, or give \
                     `{parent}` a PRIMARY KEY"
                ),
            )));
        }
        if primary_key.len() != reference.from.len() {
            return Ok(Some(malformed(
                format!(
                    "the PRIMARY KEY of `{parent}` has {} column(s) and the foreign key {}",
                    primary_key.len(),
                    reference.from.len()
                ),
                format!(
                    "give the foreign key as many columns as {}",
                    key_text(&primary_key)
                ),
            )));
        }
        return Ok(None);
    };
    let wanted: Names = to.iter().map(|c| c.to_ascii_lowercase()).collect();
    let same = |columns: &[String]| {
        columns.len() == to.len()
            && columns
                .iter()
                .map(|c| c.to_ascii_lowercase())
                .collect::<Names>()
                == wanted
    };
    if same(&primary_key) || unique_indexes(conn, parent)?.iter().any(|c| same(c)) {
        return Ok(None);
    }
    let columns = columns(conn, parent)?;
    let missing: Vec<&String> = to
        .iter()
        .filter(|c| !columns.iter().any(|d| d.eq_ignore_ascii_case(c)))
        .collect();
    let reference_key = if primary_key.is_empty() {
        String::new()
    } else {
        format!("reference the primary key {}, or ", key_text(&primary_key))
    };
    let (reason, fix) = if missing
        .iter()
        .any(|c| ["rowid", "oid", "_rowid_"].contains(&c.to_ascii_lowercase().as_str()))
    {
        (
            format!(
                "a foreign key cannot reference the rowid, only declared columns, and `{parent}` \
                 declares no column `{}`",
                missing[0]
            ),
            if primary_key.is_empty() {
                format!(
                    "declare the key of `{parent}` as a column (`id INTEGER PRIMARY KEY` is the \
                     rowid under a name) and reference it"
                )
            } else {
                format!("reference the primary key {}", key_text(&primary_key))
            },
        )
    } else if !missing.is_empty() {
        (
            format!("`{parent}` has no column `{}`", missing[0]),
            format!("{reference_key}correct the column name after REFERENCES {parent}"),
        )
    } else {
        (
            format!(
                "{} is neither the PRIMARY KEY of `{parent}` nor covered by a UNIQUE constraint \
                 or unique index",
                key_text(to)
            ),
            format!(
                "{reference_key}add `CREATE UNIQUE INDEX … ON {parent} ({})` if those values are \
                 unique",
                to.join(", ")
            ),
        )
    };
    Ok(Some(malformed(reason, fix)))
}

/// The PRIMARY KEY columns of `table`, in key order (empty: none declared).
fn primary_key(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    texts(
        conn,
        "SELECT name FROM pragma_table_info(?1, 'main') WHERE pk > 0 ORDER BY pk",
        table,
    )?
    .into_iter()
    .map(required)
    .collect()
}

/// The declared columns of `table`.
fn columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    texts(
        conn,
        "SELECT name FROM pragma_table_info(?1, 'main')",
        table,
    )?
    .into_iter()
    .map(required)
    .collect()
}

/// The key columns of each UNIQUE, non-partial index of `table` (constraints included).
fn unique_indexes(conn: &Connection, table: &str) -> rusqlite::Result<Vec<Vec<String>>> {
    let names = texts(
        conn,
        "SELECT name FROM pragma_index_list(?1, 'main') WHERE \"unique\" = 1 AND partial = 0",
        table,
    )?;
    let mut out = Vec::new();
    for name in names {
        let columns = texts(
            conn,
            "SELECT name FROM pragma_index_info(?1, 'main') ORDER BY seqno",
            &required(name)?,
        )?;
        // An index on an expression cannot be a parent key.
        if let Some(columns) = columns.into_iter().collect::<Option<Vec<String>>>() {
            out.push(columns);
        }
    }
    Ok(out)
}

/// The first column of each row `sql` returns for the one parameter `name` (NULL: `None`):
/// one function for every list the rules read, not a row-reading closure instantiated for
/// each (`bench/*/size`).
#[inline(never)]
fn texts(conn: &Connection, sql: &str, name: &str) -> rusqlite::Result<Vec<Option<String>>> {
    let mut statement = conn.prepare(sql)?;
    let mut rows = statement.query([name])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(row.get(0)?);
    }
    Ok(out)
}

/// A text read as `String` would be: NULL is an error.
fn required(text: Option<String>) -> rusqlite::Result<String> {
    text.ok_or(rusqlite::Error::InvalidColumnType(
        0,
        "name".to_owned(),
        rusqlite::types::Type::Null,
    ))
}

/// SQLite's own verdict on the foreign keys of `child`: preparing (never running) an insert
/// makes it look up every parent key, failing with "foreign key mismatch" if one is wrong.
fn mismatch(conn: &Connection, child: &str) -> rusqlite::Result<Option<String>> {
    let quoted = format!("\"{}\"", child.replace('"', "\"\""));
    match conn.prepare(&format!("INSERT INTO main.{quoted} DEFAULT VALUES")) {
        Ok(_) => Ok(None),
        Err(error) => {
            let message = crate::error::sqlite_message(&error);
            Ok(message
                .starts_with("foreign key mismatch")
                .then_some(message))
        }
    }
}
