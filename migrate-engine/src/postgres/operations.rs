//! PostgreSQL's entries, as SQLite's in `operations.rs`: [`run`] towards a [`Target`],
//! [`version`], [`force`] and [`status`], async over any [`Client`]; [`blocking`] has the same
//! for the `postgres` crate's client (feature `postgres`).

use migrate_core::Migration;

use crate::error::Error;
use crate::options::Options;
use crate::plan::Set;
use crate::plan::Target;
use crate::postgres::client::Client;
use crate::postgres::history;
use crate::postgres::run::{dirty_origin, locked, migrate, skipped};
use crate::postgres::tables::Tables;
use crate::report::{Report, Status};
use crate::values::SchemaVersion;

/// Runs migrations until the database is at `target` (see the SQLite `run`).
///
/// # Errors
/// See [`Error`].
pub async fn run<C: Client>(
    table: &[Migration],
    options: &Options,
    client: &mut C,
    target: Target,
) -> Result<Report, Error> {
    migrate(Set(table), options, client, target).await
}

/// The database's version and dirty flag. Read-only: no version table means nothing applied.
///
/// # Errors
/// A version table in a state no migration tool writes, an invalid table name, or PostgreSQL.
pub async fn version<C: Client>(options: &Options, client: &mut C) -> Result<SchemaVersion, Error> {
    let tables = Tables::locate(client, &options.table_name).await?;
    if tables.table_exists {
        tables.read(client).await
    } else {
        Ok(SchemaVersion::default())
    }
}

/// Records `version` (`0`: nothing applied) as the clean version, running nothing
/// (golang-migrate's `Force`), under the migration lock.
///
/// # Errors
/// [`Error::TargetOutOfRange`], [`Error::LockTimeout`], an invalid table name, or PostgreSQL.
pub async fn force<C: Client>(
    table: &[Migration],
    options: &Options,
    client: &mut C,
    version: u64,
) -> Result<(), Error> {
    let latest = Set(table).latest();
    if version > latest.unwrap_or(0) || (version > 0 && Set(table).get(version).is_none()) {
        return Err(Error::TargetOutOfRange {
            target: version,
            latest,
        });
    }
    let tables = Tables::locate(client, &options.table_name).await?;
    if tables.in_callers_transaction(client).await? {
        return Err(Error::CallersTransaction);
    }
    locked(client, &tables, options, async |client: &mut C| {
        client
            .batch("BEGIN")
            .await
            .map_err(Error::postgres("starting the transaction for force"))?;
        let tables = Tables::locate(client, &options.table_name).await?;
        if !tables.table_exists {
            tables.create(client).await?;
        }
        let state = SchemaVersion {
            version: Some(version).filter(|v| *v > 0),
            dirty: false,
        };
        tables.write(client, state).await?;
        // A no-transaction migration that never finished is settled by the operator now.
        if tables.history_exists {
            history::settle_unfinished(client, &tables).await?;
        }
        client
            .batch("COMMIT")
            .await
            .map_err(Error::postgres("committing the forced version"))
    })
    .await
}

/// Every migration, whether it is applied and whether its file changed since, with the
/// database's version. Read-only.
///
/// # Errors
/// As [`version`].
pub async fn status<'a, C: Client>(
    table: &'a [Migration],
    options: &Options,
    client: &mut C,
) -> Result<Status<'a>, Error> {
    let tables = Tables::locate(client, &options.table_name).await?;
    let state = if tables.table_exists {
        tables.read(client).await?
    } else {
        SchemaVersion::default()
    };
    let (recorded, downs, skipped) = if tables.history_exists {
        (
            history::applied_checksums(client, &tables).await?,
            history::recorded_downs(client, &tables).await?,
            skipped(Set(table), &tables, client, state.version).await?,
        )
    } else {
        Default::default()
    };
    let dirty_origin = if state.dirty {
        Some(dirty_origin(Set(table), &tables, client, state.version).await?)
    } else {
        None
    };
    Ok(crate::drift::status(
        table,
        state,
        dirty_origin,
        &recorded,
        &downs,
        &skipped,
    ))
}

/// The same entries for the `postgres` crate's blocking client: each call completes before it
/// returns, so the async code is driven to its end on the calling thread.
#[cfg(feature = "postgres")]
pub mod blocking {
    use migrate_core::Migration;

    use crate::error::Error;
    use crate::options::Options;
    use crate::plan::Target;
    use crate::postgres::client::block_on;
    use crate::postgres::operations as entries;
    use crate::report::{Report, Status};
    use crate::values::SchemaVersion;

    /// The async `run` on a blocking client.
    ///
    /// # Errors
    /// As the async `run`.
    pub fn run(
        table: &[Migration],
        options: &Options,
        client: &mut postgres::Client,
        target: Target,
    ) -> Result<Report, Error> {
        block_on(entries::run(table, options, client, target))
    }

    /// The async `version` on a blocking client.
    ///
    /// # Errors
    /// As the async `version`.
    pub fn version(
        options: &Options,
        client: &mut postgres::Client,
    ) -> Result<SchemaVersion, Error> {
        block_on(entries::version(options, client))
    }

    /// The async `force` on a blocking client.
    ///
    /// # Errors
    /// As the async `force`.
    pub fn force(
        table: &[Migration],
        options: &Options,
        client: &mut postgres::Client,
        version: u64,
    ) -> Result<(), Error> {
        block_on(entries::force(table, options, client, version))
    }

    /// The async `status` on a blocking client.
    ///
    /// # Errors
    /// As the async `status`.
    pub fn status<'a>(
        table: &'a [Migration],
        options: &Options,
        client: &mut postgres::Client,
    ) -> Result<Status<'a>, Error> {
        block_on(entries::status(table, options, client))
    }
}
