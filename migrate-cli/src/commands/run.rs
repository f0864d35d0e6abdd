//! `migrate-sqlite up [N]`, `down [N]`, `down --all`, `to <V>` and `force <V>`: the runtime's
//! operations on a database opened for writing (a SQLite file is created if missing, as SQLite
//! does; a PostgreSQL database must exist), through the context's [`Conn`].

use migrate_core::name::format_version;
use migrate_runtime::{Migrator, Report};
use serde::Serialize;

use super::context::{Conn, Context};
use crate::database::Create;
use crate::failure::Failure;
use crate::output::{Color, Document, Style};
use crate::progress::{self, Progress};

/// What `up`, `down` or `to` did.
#[derive(Debug, Serialize)]
pub(crate) struct Ran {
    /// The command: `up`, `down` or `to`.
    command: &'static str,
    /// The database file, or the PostgreSQL server's URL without its password.
    database: String,
    /// Whether the file exists after the run (`to 0` on a missing file creates nothing).
    exists: bool,
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
            let missing = if self.exists {
                String::new()
            } else {
                format!(" (`{}` does not exist, and was not created)", self.database)
            };
            return match self.command {
                "up" => format!("up to date at {at}{missing}\n"),
                _ => format!("already at {at}{missing}\n"),
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
            database: context.database.shown(),
            exists: true,
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
    /// The database file, or the PostgreSQL server's URL without its password.
    database: String,
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

/// Applies every pending migration, or at most `n` of them.
///
/// # Errors
/// The runtime's errors (a failing migration, a dirty database, …) or the database cannot be
/// opened.
pub(crate) fn up(context: &Context, n: Option<usize>) -> Result<Ran, Failure> {
    run(
        "up",
        context,
        |migrator, conn| {
            let current = conn.version(migrator).ok()?.version.unwrap_or(0);
            let pending = context
                .migrations
                .iter()
                .filter(|m| m.version() > current)
                .count();
            Some(n.map_or(pending, |n| n.min(pending)))
        },
        |migrator, conn| match n {
            Some(n) => conn.up_by(migrator, n),
            None => conn.up(migrator),
        },
        Create::Yes,
    )
}

/// Rolls back the last `n` migrations. A database file that does not exist has nothing to
/// roll back: it is refused, and not created.
///
/// # Errors
/// As [`up`], plus too many steps, irreversible migrations and a missing file.
pub(crate) fn down(context: &Context, n: usize) -> Result<Ran, Failure> {
    run(
        "down",
        context,
        |_, _| Some(n),
        |migrator, conn| conn.down(migrator, n),
        Create::No,
    )
}

/// Rolls back every applied migration (`down --all`, golang-migrate's `down -all`), as `to 0`
/// does: a database file that does not exist is refused, and not created.
///
/// # Errors
/// As [`down`].
pub(crate) fn down_all(context: &Context) -> Result<Ran, Failure> {
    run(
        "down",
        context,
        |migrator, conn| {
            let current = conn.version(migrator).ok()?.version.unwrap_or(0);
            Some(
                context
                    .migrations
                    .iter()
                    .filter(|m| m.version() <= current)
                    .count(),
            )
        },
        |migrator, conn| conn.to(migrator, 0),
        Create::No,
    )
}

/// Goes up or down to exactly `version`. `to 0` on a database file that does not exist is
/// already there, and creates nothing; `to V` refuses an unknown V before creating anything.
///
/// # Errors
/// As [`down`], plus an unknown version.
pub(crate) fn to(context: &Context, version: u64) -> Result<Ran, Failure> {
    let create = if version == 0 {
        Create::No
    } else {
        Create::Yes
    };
    if !context.database.exists()? {
        known(context, version)?;
    }
    run(
        "to",
        context,
        |migrator, conn| {
            let current = conn.version(migrator).ok()?.version.unwrap_or(0);
            usize::try_from(current.abs_diff(version)).ok()
        },
        |migrator, conn| conn.to(migrator, version),
        create,
    )
}

/// Records `version` as the clean version, running nothing.
///
/// # Errors
/// An unknown version, or the database cannot be opened or written.
pub(crate) fn force(context: &Context, version: u64) -> Result<Forced, Failure> {
    let existed = context.database.exists()?;
    if !existed {
        known(context, version)?;
    }
    let Some(mut open) = context.database.open("force", Create::Yes)? else {
        return Err(missing(context, "force"));
    };
    let mut conn = open.conn();
    let migrator = context.migrations.with_options(context.options.clone());
    // Only for the report: a version table that cannot be read is what `force` repairs.
    let before = conn.version(&migrator).ok();
    conn.force(&migrator, version)
        .map_err(|error| created(context, existed, context.fail(error)))?;
    Ok(Forced {
        database: context.database.shown(),
        from: before.and_then(|state| state.version),
        was_dirty: before.is_some_and(|state| state.dirty),
        version: Some(version).filter(|v| *v > 0),
    })
}

/// Opens the database, shows progress as `--progress` asks, and runs one operation.
fn run(
    command: &'static str,
    context: &Context,
    total: impl FnOnce(&Migrator<'_>, &mut Conn<'_>) -> Option<usize>,
    operation: impl FnOnce(&Migrator<'_>, &mut Conn<'_>) -> Result<Report, migrate_runtime::Error>,
    create: Create,
) -> Result<Ran, Failure> {
    let existed = context.database.exists()?;
    let Some(mut open) = context.database.open(command, create)? else {
        if command == "to" {
            return Ok(Ran {
                command,
                database: context.database.shown(),
                exists: false,
                from: None,
                to: None,
                steps: Vec::new(),
            });
        }
        return Err(missing(context, command));
    };
    let mut conn = open.conn();
    let migrator = context.migrations.with_options(context.options.clone());
    // The total costs one read, so it is only asked for when progress is shown.
    let progress = if progress::wanted(context.progress) {
        Progress::start(context.progress, total(&migrator, &mut conn))
    } else {
        None
    };
    let result = match &progress {
        Some(progress) => {
            let options = context.options.clone().on_step(progress.on_step());
            operation(&context.migrations.with_options(options), &mut conn)
        }
        None => operation(&migrator, &mut conn),
    };
    if let Some(progress) = progress {
        progress.finish();
    }
    let report = result.map_err(|error| created(context, existed, context.fail(error)))?;
    Ok(Ran::new(command, context, report))
}

/// A command that needs an existing database found none, and created none.
fn missing(context: &Context, command: &str) -> Failure {
    let why = if command == "down" {
        "so nothing is applied and `migrate-sqlite down` has nothing to roll back"
    } else {
        "and this command does not create it"
    };
    Failure::failed(
        "missing_database",
        format!(
            "the database `{}` does not exist, {why}; nothing was created. Check the path \
             (`--database` or DATABASE_URL)",
            context.database.shown()
        ),
    )
}

/// Refuses a version that is neither 0 nor a migration of the directory, before a missing
/// database file would be created (the runtime refuses it too, but only once the file is open).
fn known(context: &Context, version: u64) -> Result<(), Failure> {
    if version == 0 || context.migrations.iter().any(|m| m.version() == version) {
        return Ok(());
    }
    Err(context.fail(migrate_runtime::Error::TargetOutOfRange {
        target: version,
        latest: context.migrations.latest(),
    }))
}

/// A failure of a command that created the database file: the message says so, since the
/// runtime's "nothing was changed" speaks of the database's contents, not of the file.
fn created(context: &Context, existed: bool, mut failure: Failure) -> Failure {
    if !existed {
        failure.message.push_str(&format!(
            " (`{}` did not exist before this command, which created it)",
            context.database.shown()
        ));
    }
    failure
}
