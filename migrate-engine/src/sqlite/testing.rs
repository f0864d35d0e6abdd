//! Test helpers: the tests the golang-migrate guide asks for on every migration, written once.
//!
//! - [`database_at`]: a database at exactly version N (the guide's `createV2Database`);
//! - [`Snapshot`]: the whole database (schema and rows), comparable, with the differences in
//!   plain words;
//! - [`fresh`], [`upgrade`], [`round_trip`], [`fixture`]: the checks `migration_tests!`
//!   generates for each migration. Each returns `Err` with a message naming the migration and
//!   the difference, so a generated test can simply panic with it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use migrate_core::Migration;
use migrate_core::name::format_version;
use rusqlite::Connection;

use crate::error::Error;
use crate::options::Options;
use crate::plan::Target;
use crate::sqlite::operations::{self, run};
use crate::sqlite::schema::{self, Rows, SchemaText};

/// Opens a fresh in-memory database, with foreign keys enforced as a service would, at exactly
/// `version` (0: nothing applied).
///
/// # Errors
/// The error of the migration that failed on the way.
pub fn database_at(table: &[Migration], version: u64) -> Result<Connection, Error> {
    let mut conn =
        Connection::open_in_memory().map_err(Error::sqlite("opening an in-memory database"))?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(Error::sqlite("enabling foreign keys"))?;
    run(
        table,
        &Options::default(),
        &mut conn,
        Target::Version(version),
    )?;
    Ok(conn)
}

/// A whole database: every schema object (without the engine's version and history tables)
/// and every row of every table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    schema: SchemaText,
    rows: BTreeMap<String, Rows>,
}

impl Snapshot {
    /// Reads the whole database.
    ///
    /// # Errors
    /// SQLite's, if the database cannot be read.
    pub fn of(conn: &Connection) -> Result<Snapshot, Error> {
        let doing = "taking a snapshot of the database";
        let mut mirror = crate::sqlite::mirror::Mirror::default();
        let version_table = Options::default().table_name.to_string();
        mirror
            .refresh(conn, &version_table, &BTreeSet::new(), true)
            .map_err(Error::sqlite(doing))?;
        let mut rows = BTreeMap::new();
        for entry in mirror.entries.values().filter(|e| e.kind == "table") {
            let table_rows = schema::rows(conn, &entry.name).map_err(Error::sqlite(doing))?;
            rows.insert(entry.name.to_ascii_lowercase(), table_rows);
        }
        Ok(Snapshot {
            schema: mirror.entries,
            rows,
        })
    }

    /// The differences from `other` in plain words (schema by meaning, rows by key), empty
    /// when the two are the same database.
    pub fn differences(&self, other: &Snapshot) -> Vec<String> {
        let mut out = crate::sqlite::compare::schema_differences(
            &self.schema,
            &other.schema,
            0,
            crate::sqlite::compare::Policy::default(),
        );
        for (table, before) in &self.rows {
            let Some(after) = other.rows.get(table) else {
                continue;
            };
            let Some(after) = after.aligned_to(&before.columns, str::eq_ignore_ascii_case) else {
                continue;
            };
            let (shown, total) = schema::row_differences(table, before, &after, 5);
            if total > 0 {
                out.push(format!(
                    "changes the rows of `{table}`: {}",
                    shown.join(", ")
                ));
            }
        }
        out
    }
}

impl fmt::Display for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for entry in self.schema.values() {
            writeln!(f, "{}", entry.sql.as_deref().unwrap_or(&entry.name))?;
            if let Some(rows) = self.rows.get(&entry.name.to_ascii_lowercase()) {
                for row in &rows.rows {
                    writeln!(f, "  ({})", row.join(", "))?;
                }
            }
        }
        Ok(())
    }
}

/// `Err` with the migration named: "000002_x: …".
fn fail(migration: &Migration, what: impl fmt::Display) -> String {
    format!(
        "{}_{}: {what}",
        format_version(migration.version()),
        migration.name()
    )
}

fn get(table: &[Migration], version: u64) -> Result<&Migration, String> {
    table
        .binary_search_by_key(&version, Migration::version)
        .map(|index| &table[index])
        .map_err(|_| format!("there is no migration {}", format_version(version)))
}

/// The version before `version`: `version - 1` in a sequential set, the previous timestamp in
/// a timestamped one, 0 before the first.
fn previous(table: &[Migration], version: u64) -> u64 {
    table
        .iter()
        .take_while(|m| m.version() < version)
        .last()
        .map_or(0, Migration::version)
}

/// A fresh database reaches the latest version, clean.
///
/// # Errors
/// What failed, naming the migration.
pub fn fresh(table: &[Migration]) -> Result<(), String> {
    let conn = database_at(table, table.last().map_or(0, Migration::version))
        .map_err(|e| format!("a fresh database does not reach the latest version: {e}"))?;
    let state = operations::version(&Options::default(), &conn).map_err(|e| e.to_string())?;
    if state.version != table.last().map(Migration::version) || state.dirty {
        return Err(format!(
            "a fresh database ends at {state:?} instead of the latest version"
        ));
    }
    Ok(())
}

/// A database at the version before N (N−1, or the previous timestamp) upgrades to N.
///
/// # Errors
/// What failed, naming the migration.
pub fn upgrade(table: &[Migration], version: u64) -> Result<(), String> {
    let migration = get(table, version)?;
    let mut conn = database_at(table, previous(table, version)).map_err(|e| {
        fail(
            migration,
            format!("cannot build the database at the previous version: {e}"),
        )
    })?;
    run(
        table,
        &Options::default(),
        &mut conn,
        Target::Version(version),
    )
    .map_err(|e| {
        fail(
            migration,
            format!("upgrading from the previous version fails: {e}"),
        )
    })?;
    Ok(())
}

/// From N−1: up, down (back to exactly the same database), up again. For an irreversible
/// migration: the way down is refused.
///
/// # Errors
/// What failed or differs, naming the migration.
pub fn round_trip(table: &[Migration], version: u64) -> Result<(), String> {
    let migration = get(table, version)?;
    let mut conn = database_at(table, previous(table, version)).map_err(|e| fail(migration, e))?;
    let before = Snapshot::of(&conn).map_err(|e| fail(migration, e))?;
    let options = Options::default();
    run(table, &options, &mut conn, Target::Version(version)).map_err(|e| fail(migration, e))?;
    if migration.irreversible().is_some() {
        return match run(
            table,
            &options,
            &mut conn,
            Target::Version(previous(table, version)),
        ) {
            Err(Error::Irreversible { .. }) => Ok(()),
            other => Err(fail(
                migration,
                format!("is irreversible, but going below it gave {other:?}"),
            )),
        };
    }
    run(
        table,
        &options,
        &mut conn,
        Target::Version(previous(table, version)),
    )
    .map_err(|e| fail(migration, e))?;
    let after = Snapshot::of(&conn).map_err(|e| fail(migration, e))?;
    let differences = before.differences(&after);
    if !differences.is_empty() && migration.lossy_down().is_none() {
        return Err(fail(
            migration,
            format!(
                "the down does not restore the database: it {}",
                differences.join("; it ")
            ),
        ));
    }
    run(table, &options, &mut conn, Target::Version(version)).map_err(|e| {
        fail(
            migration,
            format!("the up fails when run again after the down: {e}"),
        )
    })?;
    Ok(())
}

/// Users' data survives: at N−1, `fixture_sql` (the file `fixture_file`) inserts rows that
/// stand for what users have; N's up must keep every one of them (on the columns that remain),
/// and N's down must give back exactly the data as it was, unless the migration is marked
/// `-- migrate:lossy-down`.
///
/// # Errors
/// Which row was lost or changed, naming the migration and the fixture.
pub fn fixture(
    table: &[Migration],
    version: u64,
    fixture_sql: &str,
    fixture_file: &str,
) -> Result<(), String> {
    let migration = get(table, version)?;
    let mut conn = database_at(table, previous(table, version)).map_err(|e| fail(migration, e))?;
    let empty = Snapshot::of(&conn).map_err(|e| fail(migration, e))?;
    crate::sqlite::execute::run_script(&conn, fixture_sql).map_err(|failure| {
        fail(
            migration,
            format!(
                "`{fixture_file}` line {} fails at the previous version: {} (in `{}`)",
                failure.line, failure.message, failure.statement
            ),
        )
    })?;
    let loaded = Snapshot::of(&conn).map_err(|e| fail(migration, e))?;
    let added = added_rows(&empty, &loaded);
    let options = Options::default();
    run(table, &options, &mut conn, Target::Version(version)).map_err(|e| {
        fail(
            migration,
            format!("the up fails on the rows of `{fixture_file}`: {e}"),
        )
    })?;
    let upgraded = Snapshot::of(&conn).map_err(|e| fail(migration, e))?;
    for (table_name, rows) in &added {
        let Some(after) = upgraded.rows.get(table_name) else {
            return Err(fail(
                migration,
                format!("the up drops table `{table_name}`, which holds rows of `{fixture_file}`"),
            ));
        };
        let before = &loaded.rows[table_name];
        for row in rows {
            if !survives(before, row, after) {
                return Err(fail(
                    migration,
                    format!(
                        "the up loses or changes a row of `{fixture_file}` in `{table_name}`: ({})",
                        row.join(", ")
                    ),
                ));
            }
        }
    }
    if migration.irreversible().is_some() || migration.lossy_down().is_some() {
        return Ok(());
    }
    run(
        table,
        &options,
        &mut conn,
        Target::Version(previous(table, version)),
    )
    .map_err(|e| {
        fail(
            migration,
            format!("the down fails on the rows of `{fixture_file}`: {e}"),
        )
    })?;
    let restored = Snapshot::of(&conn).map_err(|e| fail(migration, e))?;
    for table_name in added.keys() {
        let (Some(before), Some(after)) =
            (loaded.rows.get(table_name), restored.rows.get(table_name))
        else {
            return Err(fail(
                migration,
                format!(
                    "the down drops table `{table_name}`, which holds rows of `{fixture_file}`"
                ),
            ));
        };
        let (shown, total) = schema::row_differences(table_name, before, after, 3);
        if total > 0 {
            return Err(fail(
                migration,
                format!(
                    "the down does not give back the rows of `{fixture_file}` in `{table_name}`: {}",
                    shown.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// The rows each table holds in `after` but not in `before`.
fn added_rows(before: &Snapshot, after: &Snapshot) -> BTreeMap<String, Vec<Vec<String>>> {
    let mut out = BTreeMap::new();
    for (table, rows) in &after.rows {
        let old: BTreeSet<&Vec<String>> = before
            .rows
            .get(table)
            .map(|r| r.rows.iter().collect())
            .unwrap_or_default();
        let new: Vec<Vec<String>> = rows
            .rows
            .iter()
            .filter(|r| !old.contains(r))
            .cloned()
            .collect();
        if !new.is_empty() {
            out.insert(table.clone(), new);
        }
    }
    out
}

/// Whether `row` (of `before`'s columns) is in `after`, compared on the columns both have.
fn survives(before: &Rows, row: &[String], after: &Rows) -> bool {
    let common: Vec<(usize, usize)> = before
        .columns
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            after
                .columns
                .iter()
                .position(|d| d.eq_ignore_ascii_case(c))
                .map(|j| (i, j))
        })
        .collect();
    after
        .rows
        .iter()
        .any(|candidate| common.iter().all(|(i, j)| row[*i] == candidate[*j]))
}
