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
//!     duration_ms REAL NOT NULL
//! );
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use migrate_core::{Checksum, Direction, Migration};
use rusqlite::Connection;

use crate::error::Error;
use crate::version_table::table_exists;

/// The history table that goes with a version table: `{version_table}_history`.
#[derive(Clone, Debug)]
pub(crate) struct History {
    name: String,
}

impl History {
    pub(crate) fn of(version_table: &str) -> History {
        History {
            name: format!("{version_table}_history"),
        }
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
                 duration_ms REAL NOT NULL\n\
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
        // Six parameters a row; SQLite allows 32766 parameters in one statement.
        for chunk in runs.chunks(1000) {
            let rows =
                vec!["(?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?)"; chunk.len()];
            let sql = format!(
                "INSERT INTO \"{}\" (version, name, direction, checksum, lineage, applied_at, duration_ms) \
                 VALUES {}",
                self.name,
                rows.join(", ")
            );
            let mut values: Vec<rusqlite::types::Value> = Vec::with_capacity(chunk.len() * 6);
            for (migration, direction, duration) in chunk {
                let script = migration.script(*direction);
                values.push(
                    i64::try_from(migration.version())
                        .unwrap_or(i64::MAX)
                        .into(),
                );
                values.push(migration.name().to_owned().into());
                values.push(direction.as_str().to_owned().into());
                values.push(script.checksum().to_hex().into());
                values.push(match direction {
                    Direction::Up => migration.lineage().to_hex().into(),
                    Direction::Down => rusqlite::types::Value::Null,
                });
                values.push((duration.as_secs_f64() * 1000.0).into());
            }
            conn.execute(&sql, rusqlite::params_from_iter(values))
                .map_err(Error::sqlite(
                    "recording the migrations in the history table",
                ))?;
        }
        Ok(())
    }

    /// The lineage recorded when `version` was last applied (`None`: not recorded): one
    /// indexed lookup.
    pub(crate) fn recorded_lineage(
        &self,
        conn: &Connection,
        version: u64,
    ) -> Result<Option<Checksum>, Error> {
        let hex: Option<String> = conn
            .query_row(
                &format!(
                    "SELECT lineage FROM \"{}\" WHERE version = ?1 AND direction = 'up' \
                     ORDER BY id DESC LIMIT 1",
                    self.name
                ),
                [i64::try_from(version).unwrap_or(i64::MAX)],
                |row| row.get(0),
            )
            .or_else(|error| match error {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                other => Err(other),
            })
            .map_err(Error::sqlite("reading the history table"))?;
        Ok(hex.as_deref().and_then(Checksum::from_hex))
    }

    /// The checksum of the up script last applied for each version, where one is recorded.
    pub(crate) fn applied_checksums(
        &self,
        conn: &Connection,
    ) -> Result<BTreeMap<u64, Checksum>, Error> {
        let doing = "reading the history table";
        let mut statement = conn
            .prepare(&format!(
                "SELECT version, checksum FROM \"{}\" WHERE direction = 'up' ORDER BY id",
                self.name
            ))
            .map_err(Error::sqlite(doing))?;
        let mut rows = statement.query([]).map_err(Error::sqlite(doing))?;
        let mut out = BTreeMap::new();
        while let Some(row) = rows.next().map_err(Error::sqlite(doing))? {
            let version: i64 = row.get(0).map_err(Error::sqlite(doing))?;
            let checksum: String = row.get(1).map_err(Error::sqlite(doing))?;
            if let (Ok(version), Some(checksum)) =
                (u64::try_from(version), Checksum::from_hex(&checksum))
            {
                out.insert(version, checksum);
            }
        }
        Ok(out)
    }
}

/// An applied migration whose file changed since it was applied.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Changed {
    /// The migration's version.
    pub version: u64,
    /// Its up file.
    pub file: String,
    /// The checksum recorded when it was applied.
    pub recorded: Checksum,
    /// The checksum of the file now.
    pub embedded: Checksum,
}

/// Whether an applied migration is as it was applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drift {
    /// Not applied, or applied before history was recorded (by golang-migrate, or an older
    /// release): nothing to compare with.
    Unknown,
    /// The file is as it was applied.
    Unchanged,
    /// The file changed after it was applied.
    Changed,
}

/// The applied migrations (versions up to `current`) whose up file changed since.
pub(crate) fn changed(
    table: &[Migration],
    current: Option<u64>,
    recorded: &BTreeMap<u64, Checksum>,
) -> Vec<Changed> {
    let current = current.unwrap_or(0);
    table
        .iter()
        .take_while(|m| m.version() <= current)
        .filter_map(|m| {
            let recorded = *recorded.get(&m.version())?;
            (recorded != m.up().checksum()).then(|| Changed {
                version: m.version(),
                file: m.up().file_name().to_owned(),
                recorded,
                embedded: m.up().checksum(),
            })
        })
        .collect()
}
