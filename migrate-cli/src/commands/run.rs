//! `migrate up`, `down [N]`, `to <V>` and `force <V>`: the runtime's operations on a database
//! opened for writing (and created if missing, as SQLite does).

use std::path::PathBuf;

use migrate_core::name::format_version;
use migrate_runtime::rusqlite::Connection;
use migrate_runtime::{Migrator, Report};
use serde::Serialize;

use super::Context;
use crate::failure::Failure;
use crate::output::{Color, Document, Style};
use crate::progress::{self, Progress};

/// What `up`, `down` or `to` did.
#[derive(Debug, Serialize)]
pub(crate) struct Ran {
    /// The command: `up`, `down` or `to`.
    command: &'static str,
    /// The database file.
    database: PathBuf,
    /// The version before the run; `null`: nothing applied.
    from: Option<u64>,
    /// The version after the run.
    to: Option<u64>,
    /// Each migration that ran, in order.
    steps: Vec<StepDocument>,
}

/// One migration that ran.
#[derive(Debug, Serialize)]
struct StepDocument {
    /// `up` or `down`.
    direction: &'static str,
    version: u64,
    name: String,
    /// How long its SQL took, in milliseconds.
    duration_ms: f64,
}

impl Document for Ran {
    fn human(&self, style: Style) -> String {
        if self.steps.is_empty() {
            let at = version_text(self.to);
            return match self.command {
                "up" => format!("up to date at {at}\n"),
                _ => format!("already at {at}\n"),
            };
        }
        let mut out = format!(
            "{} → {} ({} migration{})\n",
            version_text(self.from),
            version_text(self.to),
            self.steps.len(),
            if self.steps.len() == 1 { "" } else { "s" }
        );
        for step in &self.steps {
            let direction = format!("{:<4}", step.direction);
            let color = if step.direction == "up" {
                Color::Green
            } else {
                Color::Yellow
            };
            out.push_str(&format!(
                "  {} {}_{} ({:.1} ms)\n",
                style.paint(color, &direction),
                format_version(step.version),
                step.name,
                step.duration_ms
            ));
        }
        out
    }
}

impl Ran {
    fn new(command: &'static str, context: &Context, report: Report) -> Ran {
        Ran {
            command,
            database: context.database.path.clone(),
            from: report.from,
            to: report.to,
            steps: report
                .steps
                .iter()
                .map(|step| StepDocument {
                    direction: step.direction.as_str(),
                    version: step.version,
                    name: step.name.clone(),
                    duration_ms: step.duration.as_secs_f64() * 1000.0,
                })
                .collect(),
        }
    }
}

/// What `force` recorded.
#[derive(Debug, Serialize)]
pub(crate) struct Forced {
    /// The database file.
    database: PathBuf,
    /// The version before, when it could be read; `null`: nothing applied or unreadable.
    from: Option<u64>,
    /// Whether the database was dirty before.
    was_dirty: bool,
    /// The version recorded, clean; `null`: nothing applied.
    version: Option<u64>,
}

impl Document for Forced {
    fn human(&self, style: Style) -> String {
        let before = format!(
            "{}{}",
            version_text(self.from),
            if self.was_dirty { " (dirty)" } else { "" }
        );
        format!(
            "{}: {before} → {}, clean; no migration was run\n",
            style.paint(Color::Green, "forced"),
            version_text(self.version)
        )
    }
}

fn version_text(version: Option<u64>) -> String {
    version.map_or_else(|| "nothing applied".to_owned(), format_version)
}

/// Applies every pending migration.
///
/// # Errors
/// The runtime's errors (a failing migration, a dirty database, …) or the database cannot be
/// opened.
pub(crate) fn up(context: &Context) -> Result<Ran, Failure> {
    run(
        "up",
        context,
        |migrator, conn| {
            let current = migrator.version(conn).ok()?.version.unwrap_or(0);
            let latest = context.migrations.latest().unwrap_or(0);
            usize::try_from(latest.saturating_sub(current)).ok()
        },
        |migrator, conn| migrator.up(conn),
    )
}

/// Rolls back the last `n` migrations.
///
/// # Errors
/// As [`up`], plus too many steps and irreversible migrations.
pub(crate) fn down(context: &Context, n: usize) -> Result<Ran, Failure> {
    run(
        "down",
        context,
        |_, _| Some(n),
        |migrator, conn| migrator.down(conn, n),
    )
}

/// Goes up or down to exactly `version`.
///
/// # Errors
/// As [`down`], plus an unknown version.
pub(crate) fn to(context: &Context, version: u64) -> Result<Ran, Failure> {
    run(
        "to",
        context,
        |migrator, conn| {
            let current = migrator.version(conn).ok()?.version.unwrap_or(0);
            usize::try_from(current.abs_diff(version)).ok()
        },
        |migrator, conn| migrator.to(conn, version),
    )
}

/// Records `version` as the clean version, running nothing.
///
/// # Errors
/// An unknown version, or the database cannot be opened or written.
pub(crate) fn force(context: &Context, version: u64) -> Result<Forced, Failure> {
    let mut conn = context.database.open()?;
    let migrator = context.migrations.with_options(context.options.clone());
    // Only for the report: a version table that cannot be read is what `force` repairs.
    let before = migrator.version(&conn).ok();
    migrator
        .force(&mut conn, version)
        .map_err(|error| context.fail(error))?;
    Ok(Forced {
        database: context.database.path.clone(),
        from: before.and_then(|state| state.version),
        was_dirty: before.is_some_and(|state| state.dirty),
        version: Some(version).filter(|v| *v > 0),
    })
}

/// Opens the database, shows progress on a terminal, and runs one operation.
fn run(
    command: &'static str,
    context: &Context,
    total: impl FnOnce(&Migrator<'_>, &Connection) -> Option<usize>,
    operation: impl FnOnce(&Migrator<'_>, &mut Connection) -> Result<Report, migrate_runtime::Error>,
) -> Result<Ran, Failure> {
    let mut conn = context.database.open()?;
    let migrator = context.migrations.with_options(context.options.clone());
    // The total costs one read, so it is only asked for when progress can be shown.
    let progress = if progress::available() {
        Progress::start(total(&migrator, &conn))
    } else {
        None
    };
    let result = operation(&migrator, &mut conn);
    if let Some(progress) = progress {
        progress.finish();
    }
    let report = result.map_err(|error| context.fail(error))?;
    Ok(Ran::new(command, context, report))
}
