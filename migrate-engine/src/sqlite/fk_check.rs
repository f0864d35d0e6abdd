//! The foreign-key violation check that runs after each migration: which tables a migration
//! touched (as the run's authorizer saw them), which tables reference which (kept up to date
//! across a run), and the rows `PRAGMA foreign_key_check` finds dangling in those tables.

use rusqlite::Connection;

use crate::error::{Error, Violation};
use crate::sorted::{Names, SortedMap};

/// The tables a migration touched, as the authorizer saw its statements (and the statements
/// of the triggers they fire) being prepared. Names are lower-cased; only the main database.
#[derive(Default, Debug)]
pub(crate) struct Touched {
    /// Tables whose rows may now point at a missing parent: written, created or altered.
    pub(crate) children: Names,
    /// Tables whose rows may have stopped being a parent: deleted from, updated, dropped or
    /// altered.
    pub(crate) parents: Names,
    /// Tables created or dropped: their own foreign keys came or went.
    pub(crate) created_or_dropped: Names,
    /// Whether an `ALTER TABLE` ran (a rename rewrites other tables' foreign keys).
    pub(crate) altered: bool,
}

/// Which tables have foreign keys, and to which parents: what the check needs to find the
/// children of a touched parent. Valid for one schema version of one connection; kept up to
/// date from what each migration creates and drops, so a run (or the verifier's many runs)
/// reads the whole schema once, not once per migration.
#[derive(Debug, Default)]
pub(crate) struct ForeignKeyGraph {
    /// `PRAGMA schema_version` when the graph was last brought up to date.
    schema_version: Option<i64>,
    /// Each table with foreign keys (lower-cased) and the parents it references.
    parents_of: SortedMap<String, Names>,
}

impl ForeignKeyGraph {
    /// Forgets the graph unless it was last brought up to date at `schema_version`: a schema
    /// changed since by anything else (another run, a rollback) is unknown.
    pub(crate) fn revalidate(&mut self, schema_version: i64) {
        if self.schema_version != Some(schema_version) {
            *self = ForeignKeyGraph::default();
        }
    }

    /// Keeps a loaded graph up to date after a migration that touched `touched`: the tables
    /// it created or dropped are read again; after an `ALTER TABLE` the graph is forgotten.
    /// `plain`: the migration's script cannot have given the tables it created foreign keys
    /// (see [`Touched::created_plain`]), so they need not be read.
    pub(crate) fn update(
        &mut self,
        conn: &Connection,
        touched: &Touched,
        plain: bool,
    ) -> rusqlite::Result<()> {
        if self.schema_version.is_none() {
            return Ok(());
        }
        if touched.altered {
            *self = ForeignKeyGraph::default();
            return Ok(());
        }
        for table in &touched.created_or_dropped {
            self.parents_of.remove(table);
            if !plain {
                for (child, parents) in foreign_key_parents(conn, Some(table))? {
                    self.parents_of.insert(child, parents);
                }
            }
        }
        self.schema_version = Some(schema_version(conn)?);
        Ok(())
    }

    /// The tables whose foreign keys reference one of `parents`.
    pub(crate) fn children_of(
        &mut self,
        conn: &Connection,
        parents: &Names,
    ) -> rusqlite::Result<Names> {
        if self.schema_version.is_none() {
            self.parents_of = foreign_key_parents(conn, None)?;
            self.schema_version = Some(schema_version(conn)?);
        }
        Ok(self
            .parents_of
            .iter()
            .filter(|(_, of)| !of.is_disjoint(parents))
            .map(|(child, _)| child.clone())
            .collect())
    }
}

impl Touched {
    /// Whether the tables this migration created have no foreign keys for certain: nothing
    /// was altered, and its script cannot have given them any (see
    /// [`may_create_foreign_keys`]). Their rows then cannot point nowhere, and the check
    /// leaves them out.
    pub(crate) fn created_plain(&self, script: &str) -> bool {
        !self.altered && !self.created_or_dropped.is_empty() && !may_create_foreign_keys(script)
    }
}

/// Whether a table that `script` reports as created (the authorizer's `CREATE TABLE`) may
/// have foreign keys: if the script says `REFERENCES` (a foreign-key clause cannot be written
/// without it), or `EXISTS` (`CREATE TABLE IF NOT EXISTS` reports a table that already existed,
/// with whatever foreign keys it has). In code, a string or a comment alike: saying so too
/// often only costs a check.
fn may_create_foreign_keys(script: &str) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let bytes = script.as_bytes();
    // Each word has a letter that is rare in SQL: the `f` of `references`, the `x` of
    // `exists` (`| 0x20` lower-cases a letter, and turns no other byte into either).
    let found_at = |i: usize| match bytes[i] | 0x20 {
        b'f' => i >= 2 && starts_with_ignoring_case(&bytes[i - 2..], b"references"),
        b'x' => i >= 1 && starts_with_ignoring_case(&bytes[i - 1..], b"exists"),
        _ => false,
    };
    // Eight bytes at a time: a byte of `word` is zero where the text has the letter (the
    // test can also flag a byte after one that is, never miss one).
    let zero_byte = |word: u64| word.wrapping_sub(ONES) & !word & HIGH;
    let chunks = bytes.chunks_exact(8);
    let rest = bytes.len() - chunks.remainder().len();
    for (n, chunk) in chunks.enumerate() {
        let mut eight = [0; 8];
        eight.copy_from_slice(chunk);
        let word = u64::from_le_bytes(eight) | (ONES * 0x20);
        let flagged =
            zero_byte(word ^ (ONES * u64::from(b'f'))) | zero_byte(word ^ (ONES * u64::from(b'x')));
        if flagged != 0 && (n * 8..n * 8 + 8).any(found_at) {
            return true;
        }
    }
    (rest..bytes.len()).any(found_at)
}

/// Whether `bytes` starts with `word` (lower-case ASCII) in any case.
fn starts_with_ignoring_case(bytes: &[u8], word: &[u8]) -> bool {
    bytes
        .get(..word.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(word))
}

pub(crate) fn schema_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA schema_version", [], |row| row.get(0))
}

/// The parents referenced by the foreign keys of `table` (a lookup, no scan), or of every
/// table (`None`).
pub(crate) fn foreign_key_parents(
    conn: &Connection,
    table: Option<&str>,
) -> rusqlite::Result<SortedMap<String, Names>> {
    let mut statement = match table {
        Some(_) => conn.prepare(
            "SELECT lower(?1), lower(f.\"table\") FROM pragma_foreign_key_list(?1) AS f",
        )?,
        // Every foreign-key clause has the keyword REFERENCES: only the tables whose
        // definition has it are asked for their foreign keys.
        None => conn.prepare(
            "SELECT lower(m.name), lower(f.\"table\") FROM sqlite_schema AS m, \
             pragma_foreign_key_list(m.name) AS f \
             WHERE m.type = 'table' AND m.sql LIKE '%REFERENCES%' AND ?1 IS NULL",
        )?,
    };
    let mut rows = statement.query([table])?;
    let mut out: SortedMap<String, Names> = SortedMap::default();
    while let Some(row) = rows.next()? {
        out.entry_or_default(row.get(0)?).insert(row.get(1)?);
    }
    Ok(out)
}

/// Why the foreign-key check could not give its answer.
pub(crate) enum CheckFailure {
    /// A foreign key SQLite cannot enforce ("foreign key mismatch").
    Mismatch {
        table: String,
        message: String,
    },
    Sqlite(Error),
}

/// The tables to check after a migration: those it touched as a child, and the children of
/// those it touched as a parent.
///
/// `plain`: the tables the migration created have no foreign keys (see
/// [`Touched::created_plain`]); a table without foreign keys has no row that can point nowhere,
/// so they are left out.
pub(crate) fn tables_to_check(
    conn: &Connection,
    touched: Touched,
    graph: &mut ForeignKeyGraph,
    plain: bool,
) -> Result<Names, CheckFailure> {
    let mut tables = touched.children;
    if plain {
        tables.remove_all(&touched.created_or_dropped);
    }
    if !touched.parents.is_empty() {
        tables.extend(graph.children_of(conn, &touched.parents).map_err(|error| {
            CheckFailure::Sqlite(Error::sqlite("checking foreign keys")(error))
        })?);
    }
    Ok(tables)
}

/// Every row of `tables` (those that exist) that points at a missing parent, as
/// `PRAGMA foreign_key_check` reports it.
pub(crate) fn violations_in(
    conn: &Connection,
    tables: &Names,
) -> Result<Vec<Violation>, CheckFailure> {
    let doing = "checking foreign keys";
    let sqlite = |error| CheckFailure::Sqlite(Error::sqlite(doing)(error));
    let mut violations = Vec::new();
    for table in tables {
        // Inside the run's transaction, right after the migration's own statements: the
        // schema SQLite holds is current, so no statement is needed to refresh it first (that
        // one was compiled once per migration: 3 % of applying 200, `bench/guard`).
        if !conn.table_exists(Some("main"), table).map_err(sqlite)? {
            continue;
        }
        let sql = format!(
            "PRAGMA main.foreign_key_check(\"{}\")",
            table.replace('"', "\"\"")
        );
        let mismatch = |error: rusqlite::Error| {
            let message = crate::error::sqlite_message(&error);
            if message.contains("foreign key mismatch") {
                CheckFailure::Mismatch {
                    table: table.clone(),
                    message,
                }
            } else {
                sqlite(error)
            }
        };
        let mut statement = conn.prepare(&sql).map_err(mismatch)?;
        let mut rows = statement.query([]).map_err(mismatch)?;
        while let Some(row) = rows.next().map_err(mismatch)? {
            violations.push(Violation {
                table: row.get(0).map_err(sqlite)?,
                rowid: row.get(1).map_err(sqlite)?,
                parent: row.get(2).map_err(sqlite)?,
            });
        }
    }
    Ok(violations)
}

/// A violation's identity, to compare and sort by.
fn key(v: &Violation) -> (&str, Option<i64>, &str) {
    (&v.table, v.rowid, &v.parent)
}

/// `after` without the rows also in `before` (each counted as often as it occurs).
pub(crate) fn without(after: Vec<Violation>, before: Vec<Violation>) -> Vec<Violation> {
    // Sorted by identity, with how many times each occurs (no sort is instantiated for it).
    let mut seen: Vec<(Violation, usize)> = Vec::new();
    for v in before {
        match seen.binary_search_by(|(s, _)| key(s).cmp(&key(&v))) {
            Ok(at) => seen[at].1 += 1,
            Err(at) => seen.insert(at, (v, 1)),
        }
    }
    after
        .into_iter()
        .filter(
            |v| match seen.binary_search_by(|(s, _)| key(s).cmp(&key(v))) {
                Ok(at) if seen[at].1 > 0 => {
                    seen[at].1 -= 1;
                    false
                }
                _ => true,
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use migrate_core::source::SourceFile;
    use rusqlite::Connection;

    use super::may_create_foreign_keys;
    use crate::error::Error;
    use crate::options::Options;
    use crate::plan::Target;
    use crate::sqlite::operations::run;

    /// Applies `files` (name, SQL; downs are added) on `conn`, which enforces foreign keys.
    fn apply(conn: &mut Connection, files: &[(&str, &str)]) -> Result<(), Error> {
        let mut sources = Vec::new();
        for (name, sql) in files {
            sources.push(SourceFile {
                file_name: (*name).to_owned(),
                contents: Ok(sql.as_bytes().to_vec()),
            });
            sources.push(SourceFile {
                file_name: name.replace(".up.", ".down.").to_owned(),
                contents: Ok(b"SELECT 1;".to_vec()),
            });
        }
        let table = migrate_core::check(&sources).expect("a valid set");
        run(&table, &Options::new(), conn, Target::Latest).map(|_| ())
    }

    fn enforcing() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", true).unwrap();
        conn.execute_batch(
            "CREATE TABLE parent (id INTEGER PRIMARY KEY);\n\
             CREATE TABLE child (parent_id INTEGER REFERENCES parent (id));",
        )
        .unwrap();
        conn
    }

    fn dangling(result: &Result<(), Error>) -> bool {
        matches!(result, Err(Error::ForeignKeyViolation { .. }))
    }

    #[test]
    fn the_words_that_may_give_a_created_table_foreign_keys() {
        assert!(!may_create_foreign_keys(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT REFERENCE);"
        ));
        assert!(may_create_foreign_keys(
            "create table t (p int rEfErEnCeS p);"
        ));
        assert!(may_create_foreign_keys("CREATE TABLE IF NOT EXISTS t (x);"));
        assert!(may_create_foreign_keys("CREATE TABLE t (x) -- REFERENCES"));
        assert!(!may_create_foreign_keys(""));
        assert!(!may_create_foreign_keys("reference"));
        // At every place relative to the eight-byte steps, and at the very end.
        for pad in 0..9 {
            let spaces = " ".repeat(pad);
            assert!(may_create_foreign_keys(&format!("{spaces}REFERENCES")));
            assert!(may_create_foreign_keys(&format!("{spaces}eXiStS {spaces}")));
            assert!(!may_create_foreign_keys(&format!(
                "{spaces}REFERENCE{spaces}XIST"
            )));
            assert!(!may_create_foreign_keys(&format!("{spaces}FF xx ff FX")));
        }
    }

    #[test]
    fn a_table_created_with_a_foreign_key_in_any_case_is_checked() {
        let mut conn = enforcing();
        let result = apply(
            &mut conn,
            &[(
                "000001_a.up.sql",
                "create table c (p integer ReFeReNcEs parent (id));\ninsert into c values (7);",
            )],
        );
        assert!(dangling(&result), "{result:?}");
    }

    #[test]
    fn a_table_that_already_existed_is_checked_after_create_if_not_exists() {
        // SQLite reports `CREATE TABLE IF NOT EXISTS child` as creating `child`, which already
        // existed, with its foreign key.
        let mut conn = enforcing();
        let result = apply(
            &mut conn,
            &[(
                "000001_a.up.sql",
                "CREATE TABLE IF NOT EXISTS child (parent_id INTEGER);\n\
                 INSERT INTO child VALUES (7);",
            )],
        );
        assert!(dangling(&result), "{result:?}");
    }

    #[test]
    fn a_table_renamed_in_place_of_a_created_one_is_checked() {
        let mut conn = enforcing();
        let result = apply(
            &mut conn,
            &[(
                "000001_a.up.sql",
                "CREATE TABLE fresh (x INTEGER);\nDROP TABLE fresh;\n\
                 ALTER TABLE child RENAME TO fresh;\nINSERT INTO fresh VALUES (7);",
            )],
        );
        assert!(dangling(&result), "{result:?}");
    }

    #[test]
    fn a_plain_created_table_beside_a_dangling_write_is_still_checked() {
        let mut conn = enforcing();
        let result = apply(
            &mut conn,
            &[(
                "000001_a.up.sql",
                "CREATE TABLE plain (x INTEGER);\nINSERT INTO plain VALUES (1);\n\
                 INSERT INTO child VALUES (7);",
            )],
        );
        assert!(dangling(&result), "{result:?}");
        let result = apply(
            &mut conn,
            &[(
                "000001_a.up.sql",
                "CREATE TABLE plain (x INTEGER);\nINSERT INTO plain VALUES (1);",
            )],
        );
        assert!(result.is_ok(), "{result:?}");
    }
}
