//! The rules about what ran, shared by every database: which applied migrations changed since
//! (drift), which older migrations never ran (a branch merged late), and who left a database
//! dirty. Each database's storage reads the rows; these functions decide.

use crate::sorted::SortedMap;

use migrate_core::{Checksum, Direction, Migration};

use crate::error::{DirtyOrigin, Error};
use crate::plan::{Set, version_after};
use crate::report::{MigrationStatus, Status};
use crate::values::{Changed, Drift, SchemaVersion};

/// The applied migrations (versions up to `current`) whose up file changed since.
pub(crate) fn changed(
    table: &[Migration],
    current: Option<u64>,
    recorded: &SortedMap<u64, Checksum>,
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
    recorded: &SortedMap<u64, Checksum>,
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
pub(crate) fn never_ran(
    older: &[Migration],
    last_run: &SortedMap<u64, bool>,
) -> Vec<(u64, String)> {
    let Some(oldest_run) = last_run.first_key().copied() else {
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

/// The state a run refuses to start from, whatever the database: dirty, or a version newer
/// than the set's latest. `origin`: who left it dirty, which the caller reads from its
/// history only when `state` is dirty (`None` otherwise).
pub(crate) fn refuse_state(
    migrations: Set<'_>,
    state: SchemaVersion,
    table: &str,
    origin: Option<DirtyOrigin>,
) -> Result<(), Error> {
    if state.dirty {
        let at = state.version.unwrap_or(0);
        return Err(Error::Dirty {
            version: state.version,
            table: table.to_owned(),
            origin: origin.unwrap_or(DirtyOrigin::OtherTool),
            previous: migrations
                .between(0, at.saturating_sub(1))
                .last()
                .map(Migration::version),
            next: migrations
                .between(at, u64::MAX)
                .first()
                .map(Migration::version),
        });
    }
    match state.version {
        Some(version) if version > migrations.latest().unwrap_or(0) => Err(Error::UnknownVersion {
            database: version,
            latest: migrations.latest(),
        }),
        _ => Ok(()),
    }
}

/// A database's [`Status`] from what its storage read: the version table's state, who left it
/// dirty, the recorded checksums of applied ups (`recorded`) and of the downs shipped with
/// them (`downs`), and the migrations that never ran (`skipped`, see [`never_ran`]).
pub(crate) fn status<'a>(
    table: &'a [Migration],
    state: SchemaVersion,
    dirty_origin: Option<DirtyOrigin>,
    recorded: &SortedMap<u64, Checksum>,
    downs: &SortedMap<u64, Checksum>,
    skipped: &[(u64, String)],
) -> Status<'a> {
    let current = state.version.unwrap_or(0);
    Status {
        version: state.version,
        dirty: state.dirty,
        dirty_origin,
        migrations: table
            .iter()
            .map(|migration| {
                // A migration merged late below the version never ran (`up` refuses it).
                let applied = migration.version() <= current
                    && !skipped.iter().any(|(v, _)| *v == migration.version());
                let down_changed = downs
                    .get(&migration.version())
                    .is_some_and(|sum| *sum != migration.down().checksum());
                let drift = match recorded.get(&migration.version()) {
                    Some(_) if applied && down_changed => Drift::Changed,
                    Some(sum) if applied && *sum == migration.up().checksum() => Drift::Unchanged,
                    Some(_) if applied => Drift::Changed,
                    _ => Drift::Unknown,
                };
                MigrationStatus {
                    migration,
                    applied,
                    drift,
                }
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use migrate_core::source::SourceFile;

    use super::*;

    /// Migrations 1..=n, each creating its own table; `edited` changes that version's up.
    fn set(n: u64) -> Vec<Migration> {
        let files: Vec<SourceFile> = (1..=n)
            .flat_map(|v| {
                [
                    (
                        format!("{v:06}_m{v}.up.sql"),
                        format!("CREATE TABLE t{v} (x);\n"),
                    ),
                    (
                        format!("{v:06}_m{v}.down.sql"),
                        format!("DROP TABLE t{v};\n"),
                    ),
                ]
            })
            .map(|(file_name, sql)| SourceFile {
                file_name,
                contents: Ok(sql.into_bytes()),
            })
            .collect();
        migrate_core::check(&files).unwrap()
    }

    fn recorded(table: &[Migration], direction: Direction) -> SortedMap<u64, Checksum> {
        table
            .iter()
            .map(|m| (m.version(), m.script(direction).checksum()))
            .collect()
    }

    #[test]
    fn an_applied_up_whose_checksum_differs_has_changed() {
        let table = set(3);
        let mut ups = recorded(&table, Direction::Up);
        assert!(changed(&table, Some(3), &ups).is_empty());
        ups.insert(2, table[0].up().checksum());
        let found = changed(&table, Some(3), &ups);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].version, 2);
        assert_eq!(found[0].file, "000002_m2.up.sql");
        assert_eq!(found[0].direction, Direction::Up);
        assert_eq!(found[0].recorded, table[0].up().checksum());
        assert_eq!(found[0].embedded, table[1].up().checksum());
    }

    #[test]
    fn only_applied_versions_and_recorded_ones_can_have_changed() {
        let table = set(3);
        let mut ups = recorded(&table, Direction::Up);
        ups.insert(3, table[0].up().checksum());
        // Version 3 is not applied (the database is at 2): its record is from an earlier run.
        assert!(changed(&table, Some(2), &ups).is_empty());
        assert!(changed(&table, None, &ups).is_empty());
        // No record (applied before the history existed): nothing to compare with.
        ups.remove(&3);
        assert!(changed(&table, Some(3), &ups).is_empty());
    }

    #[test]
    fn a_down_about_to_run_that_differs_from_the_one_shipped_has_changed() {
        let table = set(3);
        let mut downs = recorded(&table, Direction::Down);
        assert!(changed_downs(table.iter().rev(), &downs).is_empty());
        downs.insert(3, table[0].down().checksum());
        let found = changed_downs(table.iter().rev(), &downs);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].file, "000003_m3.down.sql");
        assert_eq!(found[0].direction, Direction::Down);
        // Not about to run: not reported.
        assert!(changed_downs(table[..2].iter(), &downs).is_empty());
    }

    #[test]
    fn a_migration_never_run_after_the_history_began_is_reported() {
        let table = set(4);
        // The history records runs of 1, 2 and 4 (up): 3 was merged late and never ran.
        let runs = SortedMap::from_iter([(1, true), (2, true), (4, true)]);
        assert_eq!(
            never_ran(&table[..3], &runs),
            vec![(3, "000003_m3.up.sql".to_owned())]
        );
        // A migration whose last run was a down is not applied either.
        let runs = SortedMap::from_iter([(1, true), (2, false), (3, true), (4, true)]);
        assert_eq!(
            never_ran(&table[..3], &runs),
            vec![(2, "000002_m2.up.sql".to_owned())]
        );
    }

    #[test]
    fn migrations_older_than_the_history_are_taken_as_applied() {
        let table = set(4);
        // The history began at 3 (golang-migrate applied 1 and 2): nothing can tell.
        let runs = SortedMap::from_iter([(3, true), (4, true)]);
        assert!(never_ran(&table[..3], &runs).is_empty());
        assert!(never_ran(&table[..3], &SortedMap::default()).is_empty());
    }

    #[test]
    fn a_dirty_version_is_ours_only_when_the_unfinished_run_would_leave_it() {
        let table = set(3);
        let migrations = Set(&table);
        assert_eq!(
            dirty_origin(migrations, Some((2, Direction::Up)), Some(2)),
            DirtyOrigin::Unfinished {
                file: "000002_m2.up.sql".to_owned(),
                direction: Direction::Up,
            }
        );
        // Down 2 leaves the database at 1.
        assert_eq!(
            dirty_origin(migrations, Some((2, Direction::Down)), Some(1)),
            DirtyOrigin::Unfinished {
                file: "000002_m2.down.sql".to_owned(),
                direction: Direction::Down,
            }
        );
        assert_eq!(
            dirty_origin(migrations, Some((2, Direction::Up)), Some(3)),
            DirtyOrigin::OtherTool
        );
        assert_eq!(
            dirty_origin(migrations, None, Some(2)),
            DirtyOrigin::OtherTool
        );
        assert_eq!(
            dirty_origin(migrations, Some((9, Direction::Up)), Some(9)),
            DirtyOrigin::OtherTool
        );
    }
}
