//! Where the migration state lives on PostgreSQL: golang-migrate's version table in the
//! session's current schema, exactly as its postgres driver creates it,
//!
//! ```sql
//! CREATE TABLE IF NOT EXISTS "public"."schema_migrations" (version bigint not null primary key, dirty boolean not null)
//! ```
//!
//! written as it writes it (`TRUNCATE`, then one row), and the history table beside it.

use tokio_postgres::Row;

use crate::error::Error;
use crate::postgres::client::Client;
use crate::values::SchemaVersion;

/// The longest version-table name: PostgreSQL cuts identifiers at 63 bytes, and the history
/// table's name adds `_history`.
const MAX_NAME: usize = 63 - "_history".len();

/// The version table and the history table of a run, in the session's current schema.
#[derive(Clone, Debug)]
pub(crate) struct Tables {
    /// The current database's name (`current_database()`).
    pub(crate) database: String,
    /// The current schema's name (`current_schema()`).
    pub(crate) schema: String,
    /// The version table's name, unquoted.
    pub(crate) name: String,
    /// `"schema"."name"`.
    pub(crate) table: String,
    /// `"schema"."name_history"`.
    pub(crate) history: String,
    /// The history table's name, unquoted.
    pub(crate) history_name: String,
    /// Whether the version table existed when located.
    pub(crate) table_exists: bool,
    /// Whether the history table existed when located.
    pub(crate) history_exists: bool,
    /// `now()` when located, as text: the start of the transaction the look ran in.
    pub(crate) located_at: String,
}

/// Accepts plain identifiers only (as on SQLite), short enough for PostgreSQL with the
/// history table's suffix.
pub(crate) fn validate_name(name: &str) -> Result<(), Error> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= MAX_NAME;
    if valid {
        Ok(())
    } else {
        Err(Error::InvalidTableName {
            name: name.to_owned(),
        })
    }
}

/// `name` as a quoted identifier.
pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// One round trip (the simple query protocol, nothing prepared): the database, the schema,
/// whether both tables exist there, and the transaction's start. `table` and `history` are
/// validated identifiers. `to_regclass` looks a name up in the catalogue's cache, where a join
/// of `pg_class` and `pg_namespace` costs the planner five times as much on every start.
fn locate_sql(table: &str, history: &str) -> String {
    let exists = |name: &str| {
        format!(
            "COALESCE((SELECT c.relkind IN ('r', 'p') FROM pg_catalog.pg_class c \
             WHERE c.oid = to_regclass(format('%I.%I', current_schema(), {}))), false)",
            literal(name)
        )
    };
    format!(
        "SELECT current_database(), current_schema(), {}, {}, now()::text",
        exists(table),
        exists(history)
    )
}

/// `text` as a string literal.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

impl Tables {
    /// Finds the tables for version table `name` (validated first) in the current schema.
    pub(crate) async fn locate<C: Client>(client: &mut C, name: &str) -> Result<Tables, Error> {
        validate_name(name)?;
        let history_name = format!("{name}_history");
        let doing = "looking for the version table";
        let rows = client
            .text_rows(&locate_sql(name, &history_name))
            .await
            .map_err(Error::postgres(doing))?;
        let row = rows.first().ok_or(Error::NoSchema)?;
        let get = |i: usize| row.get(i).cloned().flatten();
        let database = get(0).unwrap_or_default();
        let schema = get(1).ok_or(Error::NoSchema)?;
        let exists = |i: usize| get(i).as_deref() == Some("t");
        Ok(Tables {
            table: format!("{}.{}", quote(&schema), quote(name)),
            history: format!("{}.{}", quote(&schema), quote(&history_name)),
            table_exists: exists(2),
            history_exists: exists(3),
            located_at: get(4).unwrap_or_default(),
            database,
            schema,
            name: name.to_owned(),
            history_name,
        })
    }

    /// Whether the session is still in the transaction it was located in: a transaction block
    /// of the caller's (outside one, each statement is a transaction of its own, and `now()`,
    /// the start of the transaction, moves on from one statement to the next).
    pub(crate) async fn in_callers_transaction<C: Client>(
        &self,
        client: &mut C,
    ) -> Result<bool, Error> {
        Ok(now(client).await? == self.located_at)
    }

    /// Creates the version table as golang-migrate's postgres driver does.
    pub(crate) async fn create<C: Client>(&self, client: &mut C) -> Result<(), Error> {
        client
            .batch(&format!(
                "CREATE TABLE IF NOT EXISTS {} (version bigint not null primary key, dirty boolean not null)",
                self.table
            ))
            .await
            .map_err(Error::postgres("creating the version table"))
    }

    /// Refuses, before anything is written, a version table whose columns are not
    /// golang-migrate's (`version bigint`, `dirty boolean`).
    pub(crate) async fn check_layout<C: Client>(&self, client: &mut C) -> Result<(), Error> {
        let rows = client
            .query(
                "SELECT column_name::text, data_type::text FROM information_schema.columns \
                 WHERE table_schema = $1 AND table_name = $2",
                &[&self.schema, &self.name],
            )
            .await
            .map_err(Error::postgres("reading the version table's columns"))?;
        let columns: Vec<(String, String)> = rows
            .iter()
            .filter_map(|row| Some((row.try_get(0).ok()?, row.try_get(1).ok()?)))
            .collect();
        let mut problems = Vec::new();
        for (wanted, types) in [
            ("version", &["bigint", "integer", "smallint"][..]),
            ("dirty", &["boolean"][..]),
        ] {
            match columns.iter().find(|(name, _)| name == wanted) {
                None => problems.push(format!("has no column `{wanted}`")),
                Some((_, declared)) if !types.contains(&declared.as_str()) => {
                    problems.push(format!("declares column `{wanted}` as `{declared}`"));
                }
                Some(_) => {}
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::CorruptVersionTable {
                table: self.name.clone(),
                problem: format!(
                    "{} (golang-migrate creates it as `version bigint not null primary key, dirty \
                     boolean not null`)",
                    problems.join(" and ")
                ),
            })
        }
    }

    /// Reads the state; the table must exist. Anything golang-migrate would not have written
    /// is an error, never "nothing applied".
    pub(crate) async fn read<C: Client>(&self, client: &mut C) -> Result<SchemaVersion, Error> {
        let rows = client
            .query(
                &format!("SELECT version::bigint, dirty FROM {}", self.table),
                &[],
            )
            .await
            .map_err(Error::postgres("reading the version"))?;
        self.decode(&rows)
    }

    /// The state from the rows of `SELECT version, dirty, …`.
    pub(crate) fn decode(&self, rows: &[Row]) -> Result<SchemaVersion, Error> {
        let Some(row) = rows.first() else {
            return Ok(SchemaVersion::default());
        };
        self.one_row(rows.len())?;
        let version: Option<i64> = row
            .try_get(0)
            .map_err(Error::postgres("reading the version"))?;
        let dirty: Option<bool> = row
            .try_get(1)
            .map_err(Error::postgres("reading the version"))?;
        self.state(version, dirty)
    }

    /// The state from the text rows of `SELECT version::bigint, dirty, …` run with the simple
    /// query protocol.
    pub(crate) fn decode_text(&self, rows: &[Vec<Option<String>>]) -> Result<SchemaVersion, Error> {
        let Some(row) = rows.first() else {
            return Ok(SchemaVersion::default());
        };
        self.one_row(rows.len())?;
        let text = |i: usize| row.get(i).cloned().flatten();
        let version = match text(0) {
            Some(v) => Some(v.parse::<i64>().map_err(|_| {
                self.corrupt(format!("holds the version {v:?}, which is not a bigint"))
            })?),
            None => None,
        };
        let dirty = text(1).map(|d| d == "t");
        self.state(version, dirty)
    }

    /// Refuses a version table with more than one row.
    fn one_row(&self, rows: usize) -> Result<(), Error> {
        if rows > 1 {
            return Err(self.corrupt(format!(
                "holds {rows} rows, but golang-migrate's layout keeps exactly one (the current version)"
            )));
        }
        Ok(())
    }

    /// The state a row's version and dirty flag stand for.
    fn state(&self, version: Option<i64>, dirty: Option<bool>) -> Result<SchemaVersion, Error> {
        let dirty = dirty.ok_or_else(|| self.corrupt("holds dirty = NULL".to_owned()))?;
        let version = match version {
            Some(0) => None,
            // golang-migrate records a failed first down as version -1, dirty.
            Some(-1) if dirty => None,
            Some(v) if v > 0 => Some(v.unsigned_abs()),
            Some(v) => return Err(self.corrupt(format!("holds the negative version {v}"))),
            None => return Err(self.corrupt("holds version NULL".to_owned())),
        };
        Ok(SchemaVersion { version, dirty })
    }

    fn corrupt(&self, problem: String) -> Error {
        Error::CorruptVersionTable {
            table: self.name.clone(),
            problem,
        }
    }

    /// Records a state as golang-migrate does: `TRUNCATE`, then insert the one row (none when
    /// nothing is applied and the state is clean; version -1 when dirty below the first).
    pub(crate) async fn write<C: Client>(
        &self,
        client: &mut C,
        state: SchemaVersion,
    ) -> Result<(), Error> {
        let doing = "recording the version";
        client
            .batch(&format!("TRUNCATE {}", self.table))
            .await
            .map_err(Error::postgres(doing))?;
        let version: i64 = match (state.version, state.dirty) {
            (Some(v), _) => i64::try_from(v).map_err(|_| {
                self.corrupt(format!(
                    "cannot hold version {v}, which exceeds PostgreSQL's bigint"
                ))
            })?,
            (None, true) => -1,
            (None, false) => return Ok(()),
        };
        client
            .execute(
                &format!(
                    "INSERT INTO {} (version, dirty) VALUES ($1, $2)",
                    self.table
                ),
                &[&version, &state.dirty],
            )
            .await
            .map_err(Error::postgres(doing))?;
        Ok(())
    }

    /// Whether a table of this name exists in the current schema (the baseline rule).
    pub(crate) async fn other_table_exists<C: Client>(
        &self,
        client: &mut C,
        name: &str,
    ) -> Result<bool, Error> {
        let rows = client
            .query(
                "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n \
                 ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relname = $1 \
                 AND c.relkind IN ('r', 'p'))",
                &[&name],
            )
            .await
            .map_err(Error::postgres("looking for the baseline table"))?;
        rows.first()
            .map_or(Ok(false), |row| row.try_get(0))
            .map_err(Error::postgres("looking for the baseline table"))
    }
}

/// `now()` as text: the start of the current transaction.
pub(crate) async fn now<C: Client>(client: &mut C) -> Result<String, Error> {
    let doing = "reading the transaction's start";
    let rows = client
        .query("SELECT now()::text", &[])
        .await
        .map_err(Error::postgres(doing))?;
    rows.first()
        .map_or(Ok(String::new()), |row| row.try_get(0))
        .map_err(Error::postgres(doing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain_identifiers_short_enough_for_the_history_table() {
        assert!(validate_name("schema_migrations").is_ok());
        assert!(validate_name(&"a".repeat(55)).is_ok());
        assert!(validate_name(&"a".repeat(56)).is_err());
        assert!(validate_name("x\"; DROP TABLE y; --").is_err());
        assert!(validate_name("1abc").is_err());
    }

    #[test]
    fn quoting_doubles_quotes() {
        assert_eq!(quote("we\"ird"), "\"we\"\"ird\"");
    }
}
