//! The operations, each implemented once: golang-migrate's Up, Migrate and Steps(-n) through
//! [`run`] with a [`Target`], and Version, Force and status. The runtime's `Migrator` calls
//! these, and nothing else does outside the engine (the verifier and `testing` call them too).

use migrate_core::Migration;
use rusqlite::{Connection, TransactionBehavior};

use crate::error::Error;
use crate::options::Options;
use crate::plan::{Set, Target};
use crate::report::{Report, Status};
use crate::sqlite::apply;
use crate::sqlite::apply::{migrate, with_busy_timeout};
use crate::sqlite::history::History;
use crate::sqlite::version_table::VersionTable;
use crate::values::SchemaVersion;

/// Runs migrations until the database is at `target`: every pending one
/// ([`Target::Latest`], golang-migrate's `Up`), up or down to a version ([`Target::Version`],
/// `Migrate`; `0` means nothing applied), or the last `n` down ([`Target::DownSteps`],
/// `Steps(-n)`).
///
/// # Errors
/// See [`Error`].
pub fn run(
    table: &[Migration],
    options: &Options,
    conn: &mut Connection,
    target: Target,
) -> Result<Report, Error> {
    migrate(Set(table), options, conn, target)
}

/// The database's version and dirty flag. Read-only: no version table means nothing applied.
///
/// # Errors
/// A version table in a state no migration tool writes, an invalid table name, or SQLite.
pub fn version(options: &Options, conn: &Connection) -> Result<SchemaVersion, Error> {
    let table = VersionTable::new(&options.table_name)?;
    if table.exists(conn)? {
        table.read(conn)
    } else {
        Ok(SchemaVersion::default())
    }
}

/// Records `version` (`0`: nothing applied) as the clean version, running nothing
/// (golang-migrate's `Force`).
///
/// # Errors
/// [`Error::TargetOutOfRange`], an invalid table name, or SQLite.
pub fn force(
    table: &[Migration],
    options: &Options,
    conn: &mut Connection,
    version: u64,
) -> Result<(), Error> {
    let version_table = VersionTable::new(&options.table_name)?;
    let latest = Set(table).latest();
    // Between two timestamps a version names no migration: recording it would make the next
    // `up` start from a schema no migration describes.
    if version > latest.unwrap_or(0) || (version > 0 && Set(table).get(version).is_none()) {
        return Err(Error::TargetOutOfRange {
            target: version,
            latest,
        });
    }
    with_busy_timeout(conn, options.busy_timeout, |conn| {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(Error::sqlite("starting the transaction for force"))?;
        if !version_table.exists(&tx)? {
            version_table.create(&tx)?;
        }
        let state = SchemaVersion {
            version: Some(version).filter(|v| *v > 0),
            dirty: false,
        };
        version_table.write(&tx, state)?;
        // A no-transaction migration that never finished is settled by the operator now: a
        // later dirty state is not its doing.
        let history = History::of(version_table.name());
        if history.exists(&tx)? {
            history.settle_unfinished(&tx)?;
        }
        tx.commit()
            .map_err(Error::sqlite("committing the forced version"))
    })
}

/// Every migration, whether it is applied and whether its file changed since, with the
/// database's version. Read-only.
///
/// # Errors
/// As [`version`].
pub fn status<'a>(
    table: &'a [Migration],
    options: &Options,
    conn: &Connection,
) -> Result<Status<'a>, Error> {
    let state = version(options, conn)?;
    let history = History::of(&options.table_name);
    let (recorded, downs, skipped) = if history.exists(conn)? {
        (
            history.applied_checksums(conn)?,
            history.recorded_downs(conn)?,
            apply::skipped(Set(table), &history, conn, state.version)?,
        )
    } else {
        Default::default()
    };
    let dirty_origin = if state.dirty {
        Some(apply::dirty_origin(
            Set(table),
            &history,
            conn,
            state.version,
        )?)
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
