//! How the service that owns a migration set treats foreign keys.

/// Whether the service enforces foreign keys on its connections.
///
/// Declared once for a migration set: it decides how compile-time verification and the
/// runtime treat the set's foreign keys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ForeignKeys {
    /// The service enforces foreign keys (`PRAGMA foreign_keys = ON`, rusqlite's bundled
    /// default). Every foreign key must be well formed, and every reference valid when a run
    /// commits.
    #[default]
    Enforced,
    /// The service runs with enforcement off on purpose, as go-sqlite3 does by default:
    /// foreign keys are documentation only, and neither verification nor the runtime checks
    /// them.
    Unenforced,
}
