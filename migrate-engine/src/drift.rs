//! The rules about what ran, shared by every database: which applied migrations changed since
//! (drift), which older migrations never ran (a branch merged late), and who left a database
//! dirty. Each database's storage reads the rows; these functions decide.

use std::collections::BTreeMap;

use migrate_core::{Checksum, Direction, Migration};

use crate::error::DirtyOrigin;
use crate::plan::{Set, version_after};
use crate::values::Changed;

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
                direction: Direction::Up,
                recorded,
                embedded: m.up().checksum(),
            })
        })
        .collect()
}

/// The downs about to run that differ from the down shipped with their applied up, where that
/// is recorded.
pub(crate) fn changed_downs<'a>(
    downs: impl Iterator<Item = &'a Migration>,
    recorded: &BTreeMap<u64, Checksum>,
) -> Vec<Changed> {
    downs
        .filter_map(|m| {
            let recorded = *recorded.get(&m.version())?;
            (recorded != m.down().checksum()).then(|| Changed {
                version: m.version(),
                file: m.down().file_name().to_owned(),
                direction: Direction::Down,
                recorded,
                embedded: m.down().checksum(),
            })
        })
        .collect()
}

/// Of the migrations `older` than the database's version, those that never ran on it, with
/// their up files. `last_run` maps each version in the history to whether its last run was an
/// up. A migration with no run recorded never ran when the history records an older run (the
/// history was there when it should have); one older than every recorded run was there before
/// the history (applied by golang-migrate, an older release, or `force`) and is taken as
/// applied: nothing can tell.
pub(crate) fn never_ran(older: &[Migration], last_run: &BTreeMap<u64, bool>) -> Vec<(u64, String)> {
    let Some(oldest_run) = last_run.keys().next().copied() else {
        return Vec::new();
    };
    older
        .iter()
        .filter(|m| match last_run.get(&m.version()) {
            Some(up) => !up,
            None => m.version() > oldest_run,
        })
        .map(|m| (m.version(), m.up().file_name().to_owned()))
        .collect()
}

/// Who left a database dirty at `version`, given the history's unfinished no-transaction run
/// (its version and direction) if it records one: this runtime, when running that script
/// would have left the database at `version`; otherwise another tool.
pub(crate) fn dirty_origin(
    migrations: Set<'_>,
    unfinished: Option<(u64, Direction)>,
    version: Option<u64>,
) -> DirtyOrigin {
    match unfinished {
        Some((v, direction)) => match migrations.get(v) {
            Some(m) if version_after(migrations, m, direction) == version => {
                DirtyOrigin::Unfinished {
                    file: m.script(direction).file_name().to_owned(),
                    direction,
                }
            }
            _ => DirtyOrigin::OtherTool,
        },
        None => DirtyOrigin::OtherTool,
    }
}
