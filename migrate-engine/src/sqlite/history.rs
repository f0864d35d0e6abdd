//! The history table, beside golang-migrate's version table (which stays exactly as it is):
//! one row per migration run, with the checksum of the script that ran, so an applied
//! migration that was edited afterwards can be recognised.
//!
//! ```sql
//! CREATE TABLE schema_migrations_history (
//!     id INTEGER PRIMARY KEY,
//!     version INTEGER NOT NULL,
//!     name TEXT NOT NULL,
//!     direction TEXT NOT NULL CHECK (direction IN ('up', 'down')),
//!     checksum TEXT NOT NULL,      -- of the script that ran (BOM and CRLF normalised)
//!     lineage TEXT,                -- for an up: see `Migration::lineage`
//!     applied_at TEXT NOT NULL,    -- UTC, ISO 8601
//!     duration_ms REAL NOT NULL,
//!     down_checksum TEXT,          -- for an up: of the down shipped with it
//!     finished INTEGER NOT NULL DEFAULT 1  -- 0: a no-transaction migration started, not
//!                                          -- done; 2: the same, then settled by `force`
//! );
//! ```
//!
//! A history table written by an earlier release lacks the last two columns; the first run
//! that writes adds them.

use crate::sorted::SortedMap;
use std::borrow::Cow;
use std::time::Duration;

use migrate_core::{Checksum, Direction, Migration};
use rusqlite::Connection;

use crate::error::Error;
use crate::sqlite::version_table::{column_exists, table_exists};

/// The history table that goes with a version table: `{version_table}_history`.
#[derive(Clone, Debug)]
pub(crate) struct History {
    name: Cow<'static, str>,
}

impl History {
    pub(crate) fn of(version_table: &str) -> History {
        // The default names (nearly every service) format nothing at start-up.
        let name = if version_table == "schema_migrations" {
            Cow::Borrowed("schema_migrations_history")
        } else {
            Cow::Owned(format!("{version_table}_history"))
        };
        History { name }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn exists(&self, conn: &Connection) -> Result<bool, Error> {
        table_exists(conn, &self.name).map_err(Error::sqlite("looking for the history table"))
    }

    pub(crate) fn create(&self, conn: &Connection) -> Result<(), Error> {
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS \"{0}\" (\n\
                 id INTEGER PRIMARY KEY,\n\
                 version INTEGER NOT NULL,\n\
                 name TEXT NOT NULL,\n\
                 direction TEXT NOT NULL CHECK (direction IN ('up', 'down')),\n\
                 checksum TEXT NOT NULL,\n\
                 lineage TEXT,\n\
                 applied_at TEXT NOT NULL,\n\
                 duration_ms REAL NOT NULL,\n\
                 down_checksum TEXT,\n\
                 finished INTEGER NOT NULL DEFAULT 1\n\
             );\n\
             CREATE INDEX IF NOT EXISTS \"{0}_version\" ON \"{0}\" (version);",
            self.name
        ))
        .map_err(Error::sqlite("creating the history table"))
    }

    /// Records runs of migrations, in order, with one statement for the whole transaction
    /// (a prepared statement per migration would cost more than many migrations' own SQL).
    pub(crate) fn record(
        &self,
        conn: &Connection,
        runs: &[(&Migration, Direction, Duration)],
    ) -> Result<(), Error> {
        if runs.is_empty() {
            return Ok(());
        }
        let doing = "recording the migrations in the history table";
        // One row statement compiled once and stepped per run, rather than one statement with
        // a `VALUES` row per run to compile (13 k instructions a row, `bench/guard`); every row
        // gets the one timestamp read here, as they all commit together.
        let applied_at: String = conn
            .query_row("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')", [], |row| {
                row.get(0)
            })
            .map_err(Error::sqlite(doing))?;
        let mut statement = conn
            .prepare(&format!(
                "INSERT INTO \"{}\" (version, name, direction, checksum, lineage, applied_at, \
                 duration_ms, down_checksum, finished) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?9, ?6, ?7, ?8)",
                self.name
            ))
            .map_err(Error::sqlite(doing))?;
        // Bound from borrowed text (the checksums written into buffers on the stack): nothing
        // is allocated per row.
        let mut buffers = [[0; 64]; 3];
        for (migration, direction, duration) in runs {
            let [checksum, lineage, down] = &mut buffers;
            let version = i64::try_from(migration.version()).unwrap_or(i64::MAX);
            let checksum = hex(migration.script(*direction).checksum(), checksum);
            let (lineage, down) = match direction {
                Direction::Up => (
                    Some(hex(migration.lineage(), lineage)),
                    Some(hex(migration.down().checksum(), down)),
                ),
                Direction::Down => (None, None),
            };
            let bind = |statement: &mut rusqlite::Statement<'_>| -> rusqlite::Result<usize> {
                statement.raw_bind_parameter(1, version)?;
                statement.raw_bind_parameter(2, migration.name())?;
                statement.raw_bind_parameter(3, direction.as_str())?;
                statement.raw_bind_parameter(4, checksum)?;
                statement.raw_bind_parameter(5, lineage)?;
                statement.raw_bind_parameter(6, duration.as_secs_f64() * 1000.0)?;
                statement.raw_bind_parameter(7, down)?;
                statement.raw_bind_parameter(8, 1_i64)?;
                statement.raw_bind_parameter(9, applied_at.as_str())?;
                statement.raw_execute()
            };
            bind(&mut statement).map_err(Error::sqlite(doing))?;
        }
        Ok(())
    }

    /// Records the start of a no-transaction migration (`finished = 0`), so that a database
    /// left dirty by it can be told from one left dirty by another tool. Returns the row's id.
    pub(crate) fn start(
        &self,
        conn: &Connection,
        migration: &Migration,
        direction: Direction,
    ) -> Result<i64, Error> {
        conn.execute(
            &format!(
                "INSERT INTO \"{}\" (version, name, direction, checksum, lineage, applied_at, \
                 duration_ms, down_checksum, finished) \
                 VALUES (?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?, ?, ?)",
                self.name
            ),
            rusqlite::params_from_iter(row_values(migration, direction, Duration::ZERO, false)),
        )
        .map_err(Error::sqlite("recording the start of a migration"))?;
        Ok(conn.last_insert_rowid())
    }

    /// Records that the migration started in row `id` finished.
    pub(crate) fn finish(
        &self,
        conn: &Connection,
        id: i64,
        duration: Duration,
    ) -> Result<(), Error> {
        conn.execute(
            &format!(
                "UPDATE \"{}\" SET finished = 1, duration_ms = ?2 WHERE id = ?1",
                self.name
            ),
            (id, duration.as_secs_f64() * 1000.0),
        )
        .map_err(Error::sqlite("recording the end of a migration"))?;
        Ok(())
    }

    /// The migration whose start is the last row of the history and which never finished:
    /// its version and direction.
    pub(crate) fn unfinished(&self, conn: &Connection) -> Result<Option<(u64, Direction)>, Error> {
        if !self.has_column(conn, "finished")? {
            return Ok(None);
        }
        let row: Option<(i64, String)> = conn
            .query_row(
                &format!(
                    "SELECT version, direction FROM \"{0}\" WHERE finished = 0 \
                     AND id = (SELECT max(id) FROM \"{0}\")",
                    self.name
                ),
                [],
                |row| Ok(Some((row.get(0)?, row.get(1)?))),
            )
            .or_else(|error| match error {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                other => Err(other),
            })
            .map_err(Error::sqlite("reading the history table"))?;
        Ok(row.and_then(|(version, direction)| {
            let direction = match direction.as_str() {
                "up" => Direction::Up,
                "down" => Direction::Down,
                _ => return None,
            };
            Some((u64::try_from(version).ok()?, direction))
        }))
    }

    /// Marks every unfinished start as settled by `force` (`finished = 2`).
    pub(crate) fn settle_unfinished(&self, conn: &Connection) -> Result<(), Error> {
        if self.has_column(conn, "finished")? {
            conn.execute(
                &format!(
                    "UPDATE \"{}\" SET finished = 2 WHERE finished = 0",
                    self.name
                ),
                [],
            )
            .map_err(Error::sqlite(
                "recording the forced version in the history table",
            ))?;
        }
        Ok(())
    }

    fn has_column(&self, conn: &Connection, column: &str) -> Result<bool, Error> {
        column_exists(conn, &self.name, column)
            .map_err(Error::sqlite("reading the history table's columns"))
    }

    /// Adds the columns a history table written by an earlier release lacks.
    pub(crate) fn upgrade(&self, conn: &Connection) -> Result<(), Error> {
        for (column, definition) in [
            ("down_checksum", "TEXT"),
            ("finished", "INTEGER NOT NULL DEFAULT 1"),
        ] {
            if !self.has_column(conn, column)? {
                conn.execute_batch(&format!(
                    "ALTER TABLE \"{}\" ADD COLUMN {column} {definition}",
                    self.name
                ))
                .map_err(Error::sqlite("adding a column to the history table"))?;
            }
        }
        Ok(())
    }

    /// The checksum of the down shipped with the up last applied, for each version where one
    /// is recorded.
    pub(crate) fn recorded_downs(
        &self,
        conn: &Connection,
    ) -> Result<SortedMap<u64, Checksum>, Error> {
        if !self.has_column(conn, "down_checksum")? {
            return Ok(SortedMap::default());
        }
        self.checksums(conn, "down_checksum")
    }

    /// [`History::recorded_downs`] for the given versions only: one indexed lookup each (the
    /// newest up of the version, whose down checksum counts even when absent), where reading
    /// every row made each run that takes a step down cost the length of the history, and
    /// verification, which takes one per migration, quadratic in the number of migrations.
    pub(crate) fn recorded_downs_of(
        &self,
        conn: &Connection,
        versions: impl Iterator<Item = u64>,
    ) -> Result<SortedMap<u64, Checksum>, Error> {
        let mut out = SortedMap::default();
        if !self.has_column(conn, "down_checksum")? {
            return Ok(out);
        }
        let doing = "reading the history table";
        let mut statement = conn
            .prepare(&format!(
                "SELECT down_checksum FROM \"{}\" WHERE version = ?1 AND direction = 'up' \
                 ORDER BY id DESC LIMIT 1",
                self.name
            ))
            .map_err(Error::sqlite(doing))?;
        for version in versions {
            let Ok(key) = i64::try_from(version) else {
                continue;
            };
            let mut rows = statement.query([key]).map_err(Error::sqlite(doing))?;
            let Some(row) = rows.next().map_err(Error::sqlite(doing))? else {
                continue;
            };
            let checksum: Option<String> = row.get(0).map_err(Error::sqlite(doing))?;
            if let Some(checksum) = checksum.as_deref().and_then(Checksum::from_hex) {
                out.insert(version, checksum);
            }
        }
        Ok(out)
    }

    /// The newest up recorded at or below `version` (the migration the database's version
    /// was last reached through, however it got there: `force` included) and the lineage
    /// recorded with it; one indexed lookup.
    pub(crate) fn recorded_lineage(
        &self,
        conn: &Connection,
        version: u64,
    ) -> Result<Option<(u64, Checksum)>, Error> {
        let row: Option<(i64, Option<String>)> = conn
            .query_row(
                &format!(
                    "SELECT version, lineage FROM \"{}\" WHERE version <= ?1 AND direction = 'up' \
                     ORDER BY version DESC, id DESC LIMIT 1",
                    self.name
                ),
                [i64::try_from(version).unwrap_or(i64::MAX)],
                |row| Ok(Some((row.get(0)?, row.get(1)?))),
            )
            .or_else(|error| match error {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                other => Err(other),
            })
            .map_err(Error::sqlite("reading the history table"))?;
        Ok(row.and_then(|(version, hex)| {
            Some((
                u64::try_from(version).ok()?,
                Checksum::from_hex(hex.as_deref()?)?,
            ))
        }))
    }

    /// The checksum of the up script last applied for each version, where one is recorded.
    pub(crate) fn applied_checksums(
        &self,
        conn: &Connection,
    ) -> Result<SortedMap<u64, Checksum>, Error> {
        self.checksums(conn, "checksum")
    }

    fn checksums(
        &self,
        conn: &Connection,
        column: &str,
    ) -> Result<SortedMap<u64, Checksum>, Error> {
        let doing = "reading the history table";
        let mut statement = conn
            .prepare(&format!(
                "SELECT version, {column} FROM \"{}\" WHERE direction = 'up' ORDER BY id",
                self.name
            ))
            .map_err(Error::sqlite(doing))?;
        let mut rows = statement.query([]).map_err(Error::sqlite(doing))?;
        let mut out = SortedMap::default();
        while let Some(row) = rows.next().map_err(Error::sqlite(doing))? {
            let version: i64 = row.get(0).map_err(Error::sqlite(doing))?;
            let checksum: Option<String> = row.get(1).map_err(Error::sqlite(doing))?;
            let Ok(version) = u64::try_from(version) else {
                continue;
            };
            // The newest up of each version wins; one without a checksum forgets older ones.
            match checksum.as_deref().and_then(Checksum::from_hex) {
                Some(checksum) => out.insert(version, checksum),
                None => out.remove(&version),
            };
        }
        Ok(out)
    }
}

/// `checksum` in hexadecimal, as [`Checksum::to_hex`] writes it, in `buffer`.
fn hex(checksum: Checksum, buffer: &mut [u8; 64]) -> &str {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (pair, byte) in buffer.chunks_exact_mut(2).zip(checksum.0) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0x0f)];
    }
    std::str::from_utf8(buffer).unwrap_or_default()
}

/// One history row's values, in the column order `start` inserts them.
fn row_values(
    migration: &Migration,
    direction: Direction,
    duration: Duration,
    finished: bool,
) -> [rusqlite::types::Value; 8] {
    use rusqlite::types::Value;
    let (lineage, down) = match direction {
        Direction::Up => (
            Value::from(migration.lineage().to_hex()),
            Value::from(migration.down().checksum().to_hex()),
        ),
        Direction::Down => (Value::Null, Value::Null),
    };
    [
        i64::try_from(migration.version())
            .unwrap_or(i64::MAX)
            .into(),
        migration.name().to_owned().into(),
        direction.as_str().to_owned().into(),
        migration.script(direction).checksum().to_hex().into(),
        lineage,
        (duration.as_secs_f64() * 1000.0).into(),
        down,
        i64::from(finished).into(),
    ]
}

#[cfg(test)]
mod tests {
    use migrate_core::Checksum;

    use super::{History, hex};

    #[test]
    fn checksums_are_written_as_to_hex_writes_them() {
        for checksum in [
            Checksum::of("SELECT 1;"),
            Checksum([0; 32]),
            Checksum([0xff; 32]),
        ] {
            assert_eq!(hex(checksum, &mut [0; 64]), checksum.to_hex());
        }
    }

    #[test]
    fn the_history_table_is_named_after_the_version_table() {
        assert_eq!(
            History::of("schema_migrations").name(),
            "schema_migrations_history"
        );
        assert_eq!(History::of("app_versions").name(), "app_versions_history");
    }
}
