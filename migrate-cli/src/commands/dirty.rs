//! A dirty database explained: who left it so (this tool or another, such as golang-migrate)
//! and what to run, for `status`, `version` and a refused run alike.

use migrate_core::name::format_version;
use migrate_runtime::{Direction, DirtyOrigin, Migrations};
use serde::Serialize;

/// Who left a database dirty, for `--json`.
#[derive(Debug, Serialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub(super) enum Origin {
    /// This tool: a migration that runs outside a transaction started and did not finish.
    ThisTool {
        /// The file that started.
        file: String,
        /// `up` or `down`.
        direction: &'static str,
    },
    /// Another tool (golang-migrate): a migration failed, usually after its transaction was
    /// rolled back.
    OtherTool,
}

impl Origin {
    pub(super) fn from_runtime(origin: Option<DirtyOrigin>) -> Option<Origin> {
        match origin? {
            DirtyOrigin::Unfinished { file, direction } => Some(Origin::ThisTool {
                file,
                direction: direction.as_str(),
            }),
            _ => Some(Origin::OtherTool),
        }
    }

    /// What `version` prints after `(dirty`.
    pub(super) fn short(&self) -> String {
        match self {
            Origin::ThisTool { file, .. } => format!("`{file}` started and did not finish"),
            Origin::OtherTool => "left by another tool, such as golang-migrate".to_owned(),
        }
    }
}

/// What is true of a database dirty at `version`, left so by `origin`, and what to run.
pub(super) fn dirty_explanation(
    migrations: &Migrations,
    table: &str,
    version: Option<u64>,
    origin: Option<&Origin>,
) -> String {
    let below = |v: u64| {
        migrations
            .iter()
            .map(migrate_runtime::Migration::version)
            .rev()
            .find(|m| *m < v)
    };
    let above = |v: u64| {
        migrations
            .iter()
            .map(migrate_runtime::Migration::version)
            .find(|m| *m > v)
    };
    let force = |v: Option<u64>| format!("`migrate-sqlite force {}`", v.unwrap_or(0));
    match (origin, version) {
        (Some(Origin::ThisTool { file, direction }), _) => {
            let (finished, undone) = if *direction == Direction::Up.as_str() {
                (version, version.and_then(below))
            } else {
                (version, above(version.unwrap_or(0)))
            };
            format!(
                "`{file}` runs outside a transaction and started but did not finish \
                 (`{}_history` records its start), so part of it may have run. Finish or undo \
                 what it did by hand, then record the version the schema matches: {} if you \
                 finished it, {} if you undid it",
                table,
                force(finished),
                force(undone)
            )
        }
        (_, Some(v)) => format!(
            "this tool did not start a migration to it, so another tool left it so: \
             golang-migrate marks the version dirty before a migration and leaves it dirty when \
             the migration fails, after rolling back the migration's transaction, so the schema \
             most likely is still that of {}{}. Check the schema against the migrations, then \
             record the version it matches, usually {}, and run `migrate-sqlite up` again",
            version_text(below(v)),
            above(v).map_or_else(String::new, |above| {
                let above = format_version(above);
                format!(" (or of {above} if a down from {above} failed)")
            }),
            force(below(v))
        ),
        (_, None) => format!(
            "golang-migrate leaves it so when the down of the first migration fails (after \
             rolling back its transaction), so the schema most likely still is that of the first \
             migration. Check the schema, then record the version it matches: {} if the first \
             migration's tables are there, `migrate-sqlite force 0` if the database is empty",
            force(
                migrations
                    .iter()
                    .next()
                    .map(migrate_runtime::Migration::version)
            )
        ),
    }
}

/// A version as the CLI prints it: `000003`, or `nothing applied`.
pub(super) fn version_text(version: Option<u64>) -> String {
    version.map_or_else(|| "nothing applied".to_owned(), format_version)
}
