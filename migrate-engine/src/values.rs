//! The public values the engine's operations return and its errors carry: plain data, no
//! database. Storage modules (`version_table`, `history`) and `error` depend on this module,
//! never the reverse.

use migrate_core::{Checksum, Direction};

/// The database's migration state: its version and whether it is dirty.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SchemaVersion {
    /// The version of the last applied migration; `None` when nothing is applied.
    pub version: Option<u64>,
    /// Whether a migration that runs outside a transaction started and did not finish.
    pub dirty: bool,
}

/// An applied migration whose file changed since it was applied: its up, or the down that was
/// shipped with the applied up.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Changed {
    /// The migration's version.
    pub version: u64,
    /// The changed file: the up, or the down.
    pub file: String,
    /// Which of the two files changed.
    pub direction: Direction,
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
    /// The up file changed after it was applied, or the down file is not the one shipped with
    /// the applied up.
    Changed,
}
