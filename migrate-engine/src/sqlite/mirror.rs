//! A copy of `sqlite_master` that costs, per refresh, the rows that changed, not the size of
//! the schema.
//!
//! `sqlite_master` has no index but its rowid, so a query by name scans it, and verifying N
//! migrations that way reads N² rows. The mirror keeps each row by rowid, with indexes by
//! object and table name, and after a step re-reads only:
//! - the rows of the objects the step's DDL named (the authorizer reports every `CREATE` and
//!   `DROP`, and a dropped table takes its indexes and triggers, found by table name), by
//!   rowid;
//! - the rows above the highest rowid the step cannot have touched: SQLite gives a new row
//!   the largest rowid plus one, so a new object lands above every row that was not dropped.
//!
//! A row count and the largest rowid, both cheap, check the result; anything they do not
//! explain (or an `ALTER TABLE`, which may rewrite other objects) means a full read.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use migrate_core::sql::{TokenKind, tokens};
use rusqlite::{Connection, StatementStatus};

use crate::sqlite::schema::{Entry, SchemaText};

thread_local! {
    /// SQLite virtual-machine steps spent on this thread's mirror reads: the deterministic
    /// measure of their cost, which a test holds constant per migration.
    static STEPS: Cell<u64> = const { Cell::new(0) };
}

/// The SQLite virtual-machine steps the mirrors of this thread have spent so far.
#[cfg(test)]
pub(crate) fn steps_on_this_thread() -> u64 {
    STEPS.with(Cell::get)
}

fn count_steps(statement: &rusqlite::Statement<'_>) {
    let steps = u64::try_from(statement.get_status(StatementStatus::VmStep)).unwrap_or(0);
    STEPS.with(|s| s.set(s.get() + steps));
}

/// The previous value of an entry that a refresh changed (`None`: it did not exist).
pub(crate) type Change = ((String, String), Option<Entry>);

/// One row of `sqlite_master`.
#[derive(Clone, Debug)]
struct Slot {
    key: (String, String),
    entry: Entry,
    /// SQLite's own objects and the engine's tables: kept so that the count adds up, never
    /// compared.
    hidden: bool,
}

/// The schema as the verifier last read it.
#[derive(Debug, Default)]
pub(crate) struct Mirror {
    /// What verification compares: user objects, keyed by (kind, lowercase name).
    pub(crate) entries: SchemaText,
    rows: BTreeMap<i64, Slot>,
    by_name: HashMap<String, BTreeSet<i64>>,
    by_table: HashMap<String, BTreeSet<i64>>,
    /// For each table (lowercase), the tables whose foreign keys reference it.
    children: HashMap<String, BTreeSet<String>>,
    /// Rows of `sqlite_master` read so far: what makes a refresh cheap or not.
    pub(crate) rows_read: u64,
}

impl Mirror {
    /// Re-reads the objects named in `names` (object or table names, lowercase) and any new
    /// object, or the whole schema when `full` is set or the check shows a change the names
    /// do not explain. Returns the previous value of every entry that changed.
    pub(crate) fn refresh(
        &mut self,
        conn: &Connection,
        version_table: &str,
        names: &BTreeSet<String>,
        full: bool,
    ) -> rusqlite::Result<Vec<Change>> {
        let mut old: BTreeMap<(String, String), Option<Entry>> = BTreeMap::new();
        // The count and the largest rowid check the result; without `full`, the same statement
        // reads the new rows and the stale ones: one statement to compile, not three.
        let (count, max) = if full {
            (0, None)
        } else {
            let mut stale: BTreeSet<i64> = BTreeSet::new();
            for name in names {
                for index in [&self.by_name, &self.by_table] {
                    if let Some(rowids) = index.get(name) {
                        stale.extend(rowids);
                    }
                }
            }
            let floor = self
                .rows
                .keys()
                .rev()
                .find(|rowid| !stale.contains(rowid))
                .copied()
                .unwrap_or(0);
            let below: Vec<String> = stale
                .iter()
                .filter(|r| **r <= floor)
                .map(ToString::to_string)
                .collect();
            let mut sql = format!(
                "SELECT NULL, (SELECT count(*) FROM sqlite_master), \
                 (SELECT max(rowid) FROM sqlite_master), NULL, NULL \
                 UNION ALL SELECT rowid, type, name, tbl_name, sql FROM sqlite_master \
                 WHERE rowid > {floor}"
            );
            if !below.is_empty() {
                sql.push_str(&format!(
                    " UNION ALL SELECT rowid, type, name, tbl_name, sql FROM sqlite_master \
                     WHERE rowid IN ({})",
                    below.join(", ")
                ));
            }
            let mut statement = conn.prepare(&sql)?;
            let mut check = (0, None);
            let mut fresh = Vec::new();
            let mut rows = statement.query([])?;
            while let Some(row) = rows.next()? {
                match row.get::<_, Option<i64>>(0)? {
                    None => check = (row.get(1)?, row.get(2)?),
                    Some(rowid) => fresh.push((rowid, entry(row)?)),
                }
            }
            drop(rows);
            count_steps(&statement);
            self.rows_read += fresh.len() as u64;
            for rowid in &stale {
                self.remove(*rowid, &mut old);
            }
            for (rowid, entry) in fresh {
                self.remove(rowid, &mut old);
                self.insert(rowid, entry, version_table, &mut old);
            }
            check
        };
        let consistent = usize::try_from(count).ok() == Some(self.rows.len())
            && max == self.rows.keys().next_back().copied();
        if full || !consistent {
            let everything = self.read(conn, "", [])?;
            let rowids: Vec<i64> = self.rows.keys().copied().collect();
            for rowid in rowids {
                self.remove(rowid, &mut old);
            }
            for (rowid, entry) in everything {
                self.insert(rowid, entry, version_table, &mut old);
            }
        }
        Ok(old
            .into_iter()
            .filter(|(key, old)| self.entries.get(key) != old.as_ref())
            .collect())
    }

    /// The objects (the table itself, its indexes and triggers) whose table is `table`
    /// (lowercase): a lookup, not a scan.
    pub(crate) fn objects_on(&self, table: &str) -> impl Iterator<Item = &Entry> {
        self.by_table
            .get(table)
            .into_iter()
            .flatten()
            .filter_map(|rowid| self.rows.get(rowid))
            .map(|slot| &slot.entry)
    }

    /// The tables whose foreign keys reference `table` (lowercase), directly.
    pub(crate) fn children(&self, table: &str) -> impl Iterator<Item = &String> {
        self.children.get(table).into_iter().flatten()
    }

    fn read(
        &mut self,
        conn: &Connection,
        filter: &str,
        params: impl rusqlite::Params,
    ) -> rusqlite::Result<Vec<(i64, Entry)>> {
        let mut statement = conn.prepare(&format!(
            "SELECT rowid, type, name, tbl_name, sql FROM sqlite_master {filter}"
        ))?;
        let rows = statement.query_map(params, |row| Ok((row.get(0)?, entry(row)?)))?;
        let rows: Vec<(i64, Entry)> = rows.collect::<rusqlite::Result<_>>()?;
        count_steps(&statement);
        self.rows_read += rows.len() as u64;
        Ok(rows)
    }

    /// Forgets a row, recording the value its entry had before this refresh.
    fn remove(&mut self, rowid: i64, old: &mut BTreeMap<(String, String), Option<Entry>>) {
        let Some(slot) = self.rows.remove(&rowid) else {
            return;
        };
        unindex(&mut self.by_name, &slot.entry.name, rowid);
        unindex(&mut self.by_table, &slot.entry.table, rowid);
        if slot.hidden {
            return;
        }
        let previous = self.entries.remove(&slot.key);
        old.entry(slot.key.clone()).or_insert(previous);
        if slot.entry.kind == "table" {
            for parent in references(&slot.entry) {
                if let Some(children) = self.children.get_mut(&parent) {
                    children.remove(&slot.key.1);
                    if children.is_empty() {
                        self.children.remove(&parent);
                    }
                }
            }
        }
    }

    fn insert(
        &mut self,
        rowid: i64,
        entry: Entry,
        version_table: &str,
        old: &mut BTreeMap<(String, String), Option<Entry>>,
    ) {
        let name = entry.name.to_ascii_lowercase();
        let table = entry.table.to_ascii_lowercase();
        let key = (entry.kind.clone(), name.clone());
        let version_table = version_table.to_ascii_lowercase();
        let engine_table = table == version_table || table == format!("{version_table}_history");
        // SQLite's own objects: its tables and the automatic indexes of UNIQUE and PRIMARY KEY
        // constraints (part of their table's meaning).
        let hidden = table.starts_with("sqlite_") || name.starts_with("sqlite_") || engine_table;
        self.by_name.entry(name).or_default().insert(rowid);
        self.by_table.entry(table).or_default().insert(rowid);
        if !hidden {
            if !old.contains_key(&key) {
                old.insert(key.clone(), self.entries.get(&key).cloned());
            }
            self.entries.insert(key.clone(), entry.clone());
            if entry.kind == "table" {
                for parent in references(&entry) {
                    self.children
                        .entry(parent)
                        .or_default()
                        .insert(key.1.clone());
                }
            }
        }
        self.rows.insert(rowid, Slot { key, entry, hidden });
    }
}

fn unindex(index: &mut HashMap<String, BTreeSet<i64>>, name: &str, rowid: i64) {
    let name = name.to_ascii_lowercase();
    if let Some(rowids) = index.get_mut(&name) {
        rowids.remove(&rowid);
        if rowids.is_empty() {
            index.remove(&name);
        }
    }
}

/// The entry in columns 1 to 4 (`type, name, tbl_name, sql`) of a row of `sqlite_master`.
fn entry(row: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        kind: row.get(1)?,
        name: row.get(2)?,
        table: row.get(3)?,
        sql: row.get(4)?,
    })
}

/// The tables (lowercase) a `CREATE TABLE`'s foreign keys reference.
fn references(entry: &Entry) -> BTreeSet<String> {
    let Some(sql) = entry.sql.as_deref() else {
        return BTreeSet::new();
    };
    // Most tables have no foreign key: a search for the keyword costs a fraction of a scan.
    const KEYWORD: &[u8] = b"references";
    if !sql
        .as_bytes()
        .windows(KEYWORD.len())
        .any(|window| window.eq_ignore_ascii_case(KEYWORD))
    {
        return BTreeSet::new();
    }
    let code: Vec<(TokenKind, &str)> = tokens(sql)
        .filter(|t| t.is_code())
        .map(|t| (t.kind, &sql[t.start..t.end]))
        .collect();
    code.windows(2)
        .filter(|pair| pair[0].0 == TokenKind::Word && pair[0].1.eq_ignore_ascii_case("references"))
        .filter_map(|pair| match pair[1].0 {
            TokenKind::Word => Some(pair[1].1.to_ascii_lowercase()),
            TokenKind::QuotedIdent => Some(
                pair[1].1[1..pair[1].1.len().saturating_sub(1).max(1)]
                    .replace("\"\"", "\"")
                    .to_ascii_lowercase(),
            ),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mirror_of(conn: &Connection) -> Mirror {
        let mut mirror = Mirror::default();
        mirror
            .refresh(conn, "schema_migrations", &BTreeSet::new(), true)
            .unwrap();
        mirror
    }

    fn names(changes: &[Change]) -> Vec<String> {
        changes.iter().map(|((_, name), _)| name.clone()).collect()
    }

    #[test]
    fn a_refresh_reads_only_what_changed_and_matches_a_full_read() {
        let conn = Connection::open_in_memory().unwrap();
        for i in 0..50 {
            conn.execute_batch(&format!(
                "CREATE TABLE t{i} (id INTEGER PRIMARY KEY, name TEXT UNIQUE);\nCREATE INDEX i{i} ON t{i} (name);"
            ))
            .unwrap();
        }
        let mut mirror = mirror_of(&conn);
        let before = mirror.rows_read;
        // Drop one table in the middle and one at the top, then create two.
        conn.execute_batch("DROP TABLE t10; DROP TABLE t49; CREATE TABLE n1 (x); CREATE TABLE n2 (y REFERENCES t3 (id));")
            .unwrap();
        let names_touched: BTreeSet<String> = ["t10", "t49", "n1", "n2"].map(str::to_owned).into();
        let changes = mirror
            .refresh(&conn, "schema_migrations", &names_touched, false)
            .unwrap();
        assert_eq!(names(&changes), ["i10", "i49", "n1", "n2", "t10", "t49"]);
        assert!(
            mirror.rows_read - before <= 4,
            "{}",
            mirror.rows_read - before
        );
        assert_eq!(mirror.entries, mirror_of(&conn).entries);
        assert_eq!(mirror.children("t3").collect::<Vec<_>>(), ["n2"]);
        // A change the names do not explain is still found, by a full read.
        conn.execute_batch("CREATE TABLE unseen (z);").unwrap();
        conn.execute_batch("DROP TABLE n1;").unwrap();
        let changes = mirror
            .refresh(&conn, "schema_migrations", &BTreeSet::new(), false)
            .unwrap();
        assert_eq!(names(&changes), ["n1", "unseen"]);
        assert_eq!(mirror.entries, mirror_of(&conn).entries);
    }

    /// Verifies `n` migrations shaped like real ones (a table with an index and seed rows, and
    /// every fifth migration a data change to an older table) and returns the SQLite steps the
    /// mirror spent.
    fn mirror_steps_verifying(n: u64) -> u64 {
        let dir = tempfile::tempdir().unwrap();
        for v in 1..=n {
            let mut up = format!(
                "CREATE TABLE t{v} (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, \
                 parent_id INTEGER REFERENCES t1 (id) ON DELETE CASCADE);\n\
                 CREATE INDEX idx_t{v}_name ON t{v} (name);\n\
                 INSERT INTO t{v} (name) VALUES ('a'), ('b');\n"
            );
            let mut down = format!("DROP INDEX idx_t{v}_name;\nDROP TABLE t{v};\n");
            if v % 5 == 0 {
                up.push_str(&format!("UPDATE t{} SET name = 'c' WHERE id = 1;\n", v / 2));
                down.push_str(&format!("UPDATE t{} SET name = 'a' WHERE id = 1;\n", v / 2));
            }
            std::fs::write(dir.path().join(format!("{v:06}_t{v}.up.sql")), up).unwrap();
            std::fs::write(dir.path().join(format!("{v:06}_t{v}.down.sql")), down).unwrap();
        }
        let table = migrate_core::load_dir(dir.path()).unwrap();
        let before = steps_on_this_thread();
        crate::verify(&table).unwrap();
        steps_on_this_thread() - before
    }

    #[test]
    fn verification_reads_the_schema_at_a_constant_cost_per_migration() {
        let (small, large) = (mirror_steps_verifying(30), mirror_steps_verifying(120));
        // Four times the migrations: four times the reads, give or take the final full read
        // (a quadratic mirror spends sixteen times as much).
        assert!(
            large <= small * 5,
            "30 migrations: {small} steps, 120 migrations: {large} steps"
        );
    }

    #[test]
    fn internal_and_engine_objects_are_hidden() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_migrations (version uint64, dirty bool);\n\
             CREATE UNIQUE INDEX version_unique ON schema_migrations (version);\n\
             CREATE TABLE schema_migrations_history (id INTEGER PRIMARY KEY AUTOINCREMENT);\n\
             CREATE TABLE t (a TEXT UNIQUE);",
        )
        .unwrap();
        let mirror = mirror_of(&conn);
        let keys: Vec<&(String, String)> = mirror.entries.keys().collect();
        assert_eq!(keys, [&("table".to_owned(), "t".to_owned())]);
    }
}
