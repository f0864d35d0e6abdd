//! What a run did, and where a database stands.

use std::fmt;
use std::time::Duration;

use migrate_core::name::format_version;
use migrate_core::{Direction, Migration};

use crate::decimal::OneDecimal;
use crate::error::DirtyOrigin;
use crate::values::Drift;

/// What a run did: the migrations it applied or rolled back, in order, with their durations.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Report {
    /// The version before the run (`None`: nothing applied).
    pub from: Option<u64>,
    /// The version after the run.
    pub to: Option<u64>,
    /// Each migration that ran, in the order it ran.
    pub steps: Vec<Step>,
}

/// One migration that ran.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Step {
    /// Its version.
    pub version: u64,
    /// Its name.
    pub name: String,
    /// Which way it ran.
    pub direction: Direction,
    /// How long its SQL took.
    pub duration: Duration,
}

impl Step {
    /// The record of `migration` having run in `direction` for `duration`.
    pub(crate) fn of(migration: &Migration, direction: Direction, duration: Duration) -> Step {
        Step {
            version: migration.version(),
            name: migration.name().to_owned(),
            direction,
            duration,
        }
    }
}

impl Report {
    /// Whether nothing ran.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

fn version_text(version: Option<u64>) -> String {
    version.map_or_else(|| "nothing applied".to_owned(), format_version)
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.steps.is_empty() {
            return write!(f, "up to date at {}", version_text(self.to));
        }
        write!(
            f,
            "{} → {} ({} migration{})",
            version_text(self.from),
            version_text(self.to),
            self.steps.len(),
            if self.steps.len() == 1 { "" } else { "s" }
        )?;
        for step in &self.steps {
            write!(
                f,
                "\n  {:<4} {}_{} ({} ms)",
                step.direction.as_str(),
                format_version(step.version),
                step.name,
                OneDecimal::millis(step.duration)
            )?;
        }
        Ok(())
    }
}

/// Where a database stands against a set of migrations.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status<'a> {
    /// The database's version (`None`: nothing applied).
    pub version: Option<u64>,
    /// Whether the database is dirty.
    pub dirty: bool,
    /// For a dirty database, who left it so: this runtime (a no-transaction migration that
    /// started and did not finish, as its history table records) or another tool
    /// (golang-migrate, which usually rolled the failed migration's transaction back). The same
    /// origin [`Error::Dirty`](crate::Error::Dirty) gives. `None` when not dirty.
    pub dirty_origin: Option<DirtyOrigin>,
    /// Every migration, in order, and whether it is applied.
    pub migrations: Vec<MigrationStatus<'a>>,
}

/// One migration's state in a database.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MigrationStatus<'a> {
    /// The migration.
    pub migration: &'a Migration,
    /// Whether the database is at or past its version.
    pub applied: bool,
    /// Whether its file changed since it was applied.
    pub drift: Drift,
}

impl Status<'_> {
    /// The migrations not applied yet.
    pub fn pending(&self) -> impl Iterator<Item = &Migration> {
        self.migrations
            .iter()
            .filter(|m| !m.applied)
            .map(|m| m.migration)
    }
}

impl fmt::Display for Status<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "version {}", version_text(self.version))?;
        if self.dirty {
            f.write_str(" (dirty)")?;
        }
        for m in &self.migrations {
            write!(
                f,
                "\n  {:<8} {}_{}",
                match (m.applied, m.drift) {
                    (true, Drift::Changed) => "changed",
                    (true, _) => "applied",
                    (false, _) => "pending",
                },
                format_version(m.migration.version()),
                m.migration.name()
            )?;
        }
        Ok(())
    }
}
