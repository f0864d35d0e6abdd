//! `migrate-sqlite status` and `migrate-sqlite version`: read-only (on SQLite or PostgreSQL,
//! through the context's [`Conn`](super::context::Conn)), and a SQLite file that does not
//! exist is reported as "nothing applied" without being created. A dirty database is explained
//! by who left it so ([`DirtyOrigin`](migrate_runtime::DirtyOrigin)): this tool's unfinished
//! no-transaction migration, or golang-migrate's failed migration, which leave different
//! schemas behind.

use migrate_core::name::format_version;
use migrate_runtime::Drift;
use serde::Serialize;

use super::context::Context;
use super::dirty::{Origin, dirty_explanation, version_text};
use crate::failure::Failure;
use crate::output::{Color, Document, Style, table};

/// The database's version and dirty flag.
#[derive(Debug, Serialize)]
pub(crate) struct Version {
    /// The database file, or the PostgreSQL server's URL without its password.
    database: String,
    /// Whether the file exists (a missing file has nothing applied).
    exists: bool,
    /// The version of the last applied migration; `null`: nothing applied.
    version: Option<u64>,
    /// Whether the database is dirty: a migration started and did not finish.
    dirty: bool,
    /// For a dirty database, who left it so.
    dirty_origin: Option<Origin>,
}

impl Document for Version {
    fn human(&self, style: Style) -> String {
        let mut text = version_text(self.version);
        if self.dirty {
            let why = self
                .dirty_origin
                .as_ref()
                .map_or_else(String::new, |origin| format!(": {}", origin.short()));
            text.push_str(&format!(" {}{why}", style.paint(Color::Red, "(dirty)")));
        }
        if !self.exists {
            text.push_str(&format!(" (`{}` does not exist)", self.database));
        }
        text.push('\n');
        text
    }
}

/// Every migration and where the database stands.
#[derive(Debug, Serialize)]
pub(crate) struct Status {
    /// The database file, or the PostgreSQL server's URL without its password.
    database: String,
    /// Whether the file exists.
    exists: bool,
    /// The database's version; `null`: nothing applied.
    version: Option<u64>,
    /// Whether the database is dirty.
    dirty: bool,
    /// For a dirty database, who left it so.
    dirty_origin: Option<Origin>,
    /// What is true of a dirty database and what to run (text; `null` when not dirty).
    dirty_explanation: Option<String>,
    /// The newest migration in the directory.
    latest: Option<u64>,
    /// Every migration, in version order.
    migrations: Vec<Row>,
}

/// One migration's state.
#[derive(Debug, Serialize)]
struct Row {
    version: u64,
    name: String,
    /// `applied`, `pending`, `changed` (applied, but its file was edited since), or `dirty`:
    /// the version a dirty database records, whose migration started and did not finish (see
    /// `dirty_origin`).
    state: State,
}

/// A migration's state in the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum State {
    Applied,
    Pending,
    Changed,
    Dirty,
}

impl State {
    fn text(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::Changed => "changed",
            State::Dirty => "dirty",
        }
    }

    fn color(self) -> Color {
        match self {
            State::Applied => Color::Green,
            State::Pending => Color::Yellow,
            State::Changed | State::Dirty => Color::Red,
        }
    }
}

impl Document for Status {
    fn human(&self, style: Style) -> String {
        let mut out = format!("database  {}", self.database);
        if !self.exists {
            out.push_str(" (does not exist yet)");
        }
        out.push_str(&format!("\nversion   {}\n", version_text(self.version)));
        out.push_str(&format!(
            "dirty     {}\n\n",
            if self.dirty {
                style.paint(Color::Red, "yes")
            } else {
                "no".to_owned()
            }
        ));
        let rows: Vec<_> = self
            .migrations
            .iter()
            .map(|row| {
                vec![
                    (format_version(row.version), None),
                    (row.name.clone(), None),
                    (row.state.text().to_owned(), Some(row.state.color())),
                ]
            })
            .collect();
        if rows.is_empty() {
            out.push_str("no migrations in the directory yet\n");
        } else {
            out.push_str(&table(style, &["version", "name", "state"], &rows));
        }
        let applied = self.count(State::Applied);
        let pending = self.count(State::Pending);
        out.push_str(&format!("\n{applied} applied, {pending} pending"));
        let changed = self.count(State::Changed);
        if changed > 0 {
            out.push_str(&format!(", {changed} changed since applied"));
        }
        let dirty = self.count(State::Dirty);
        if dirty > 0 {
            out.push_str(&format!(", {dirty} dirty"));
        }
        out.push('\n');
        if let Some(explanation) = &self.dirty_explanation {
            let at = match self.version {
                Some(v) => format!("at {}", format_version(v)),
                None => "with no version".to_owned(),
            };
            out.push_str(&format!(
                "the database is {} {at}: {explanation}\n",
                style.paint(Color::Red, "dirty"),
            ));
        }
        if let Some(version) = self.version.filter(|v| *v > self.latest.unwrap_or(0)) {
            out.push_str(&format!(
                "{}: the database is at {}, newer than the newest migration here ({}): it was \
                 probably migrated by a newer release\n",
                style.paint(Color::Red, "unknown version"),
                format_version(version),
                self.latest
                    .map_or_else(|| "none".to_owned(), format_version)
            ));
        }
        out
    }
}

impl Status {
    fn count(&self, state: State) -> usize {
        self.migrations.iter().filter(|r| r.state == state).count()
    }
}

/// The database's version, read-only.
///
/// # Errors
/// The database cannot be opened or its version table is corrupt.
pub(crate) fn version(context: &Context) -> Result<Version, Failure> {
    let database = context.database.shown();
    let migrator = context.migrations.with_options(context.options.clone());
    let Some(state) = context
        .database
        .read(|mut conn| conn.version(&migrator).map_err(|error| context.fail(error)))?
    else {
        return Ok(Version {
            database,
            exists: false,
            version: None,
            dirty: false,
            dirty_origin: None,
        });
    };
    // Who left it dirty takes a read of the history table: only then.
    let origin = if state.dirty {
        context
            .database
            .read(|mut conn| conn.status(&migrator).map_err(|error| context.fail(error)))?
            .and_then(|status| status.dirty_origin)
    } else {
        None
    };
    Ok(Version {
        database,
        exists: true,
        version: state.version,
        dirty: state.dirty,
        dirty_origin: Origin::from_runtime(origin),
    })
}

/// Every migration, applied or pending, read-only.
///
/// # Errors
/// As [`version`].
pub(crate) fn status(context: &Context) -> Result<Status, Failure> {
    let database = context.database.shown();
    let latest = context.migrations.latest();
    let row = |m: &migrate_core::Migration, applied: bool, dirty: Option<u64>, drift: Drift| Row {
        version: m.version(),
        name: m.name().to_owned(),
        state: if dirty == Some(m.version()) {
            State::Dirty
        } else if applied && drift == Drift::Changed {
            State::Changed
        } else if applied {
            State::Applied
        } else {
            State::Pending
        },
    };
    let migrator = context.migrations.with_options(context.options.clone());
    let Some(status) = context
        .database
        .read(|mut conn| conn.status(&migrator).map_err(|error| context.fail(error)))?
    else {
        return Ok(Status {
            database,
            exists: false,
            version: None,
            dirty: false,
            dirty_origin: None,
            dirty_explanation: None,
            latest,
            migrations: context
                .migrations
                .iter()
                .map(|m| row(m, false, None, Drift::Unknown))
                .collect(),
        });
    };
    let dirty = status.version.filter(|_| status.dirty);
    let origin = Origin::from_runtime(status.dirty_origin.clone());
    let explanation = status.dirty.then(|| {
        dirty_explanation(
            &context.migrations,
            &context.table,
            status.version,
            origin.as_ref(),
        )
    });
    Ok(Status {
        database,
        exists: true,
        version: status.version,
        dirty: status.dirty,
        dirty_origin: origin,
        dirty_explanation: explanation,
        latest,
        migrations: status
            .migrations
            .iter()
            .map(|s| row(s.migration, s.applied, dirty, s.drift))
            .collect(),
    })
}
