//! Planning a run, without a database: the set of migrations, and the steps from the version
//! a database is at to the one a run should reach. What the run then does with a connection
//! (locking, transactions, the version table) is `apply`'s, which is SQLite's; a second
//! database reuses this plan as it is.

use migrate_core::{Direction, Migration};

use crate::error::Error;
use crate::report::Step;

/// Where a run should end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// Every pending migration (golang-migrate's `Up`).
    Latest,
    /// Exactly this version, up or down; `0` means nothing applied (golang-migrate's `Migrate`).
    Version(u64),
    /// The last `n` migrations rolled back (golang-migrate's `Steps(-n)`).
    DownSteps(usize),
    /// At most this many pending migrations, counted from the version read inside the run's
    /// transaction.
    UpSteps(usize),
}

/// The migrations a run works on, in version order, as [`migrate_core::check()`] returns them:
/// 1..=N for a sequential set, with holes for timestamps.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Set<'a>(pub(crate) &'a [Migration]);

impl<'a> Set<'a> {
    /// The files of `steps` (migrations of this set that ran), in order: what a run
    /// committed, for its messages.
    pub(crate) fn files_of(&self, steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .filter_map(|step| {
                let migration = self.get(step.version)?;
                Some(migration.script(step.direction).file_name().to_owned())
            })
            .collect()
    }

    pub(crate) fn latest(self) -> Option<u64> {
        self.0.last().map(Migration::version)
    }

    pub(crate) fn get(self, version: u64) -> Option<&'a Migration> {
        let index = self
            .0
            .binary_search_by_key(&version, Migration::version)
            .ok()?;
        self.0.get(index)
    }

    /// The migrations with versions in `(above, up_to]`, in version order.
    pub(crate) fn between(self, above: u64, up_to: u64) -> &'a [Migration] {
        let start = self.0.partition_point(|m| m.version() <= above);
        let end = self.0.partition_point(|m| m.version() <= up_to).max(start);
        &self.0[start..end]
    }

    /// The version `steps` migrations below `current` (`None`: nothing applied).
    pub(crate) fn down_steps(
        self,
        current: Option<u64>,
        steps: usize,
    ) -> Result<Option<u64>, Error> {
        let applied = self.between(0, current.unwrap_or(0)).len();
        match applied.checked_sub(steps) {
            Some(0) => Ok(None),
            Some(remaining) => Ok(self.0.get(remaining - 1).map(Migration::version)),
            None => Err(Error::TooManySteps { steps, current }),
        }
    }

    /// The version `steps` pending migrations above `current` (all of them when fewer are
    /// pending; `current` itself when `steps` is 0 or nothing is pending).
    pub(crate) fn up_steps(self, current: Option<u64>, steps: usize) -> Option<u64> {
        let pending = self.between(current.unwrap_or(0), u64::MAX);
        match steps.min(pending.len()) {
            0 => current,
            n => pending.get(n - 1).map(Migration::version),
        }
    }
}

/// The steps from `current` to `goal`, in order. Going down through an irreversible migration
/// is refused here, before anything runs.
pub(crate) fn plan<'a>(
    migrations: Set<'a>,
    current: Option<u64>,
    goal: Option<u64>,
) -> Result<Vec<(&'a Migration, Direction)>, Error> {
    // A version between two timestamps names no migration: going there would silently stop
    // at the one below it (or at nothing, for a mistyped version).
    if let Some(goal) = goal
        && migrations.get(goal).is_none()
    {
        return Err(Error::TargetOutOfRange {
            target: goal,
            latest: migrations.latest(),
        });
    }
    let (current, goal) = (current.unwrap_or(0), goal.unwrap_or(0));
    if goal >= current {
        return Ok(migrations
            .between(current, goal)
            .iter()
            .map(|m| (m, Direction::Up))
            .collect());
    }
    let steps: Vec<(&Migration, Direction)> = migrations
        .between(goal, current)
        .iter()
        .rev()
        .map(|m| (m, Direction::Down))
        .collect();
    if let Some((m, _)) = steps.iter().find(|(m, _)| m.irreversible().is_some()) {
        return Err(Error::Irreversible {
            version: m.version(),
            file: m.down().file_name().to_owned(),
            reason: m.irreversible().unwrap_or_default().to_owned(),
        });
    }
    Ok(steps)
}

/// The database's version once `migration` has run in `direction`: after a down, the
/// previous migration's version (not `version - 1`, which a timestamped set does not have).
pub(crate) fn version_after(
    migrations: Set<'_>,
    migration: &Migration,
    direction: Direction,
) -> Option<u64> {
    match direction {
        Direction::Up => Some(migration.version()),
        Direction::Down => migrations
            .between(0, migration.version().saturating_sub(1))
            .last()
            .map(Migration::version),
    }
}

/// Where a run towards `target` ends, from the version `current` it found the database at:
/// `down(n)` means n steps from there.
///
/// # Errors
/// [`Error::TooManySteps`] when fewer than `n` migrations are applied.
pub(crate) fn goal(
    migrations: Set<'_>,
    target: Target,
    current: Option<u64>,
) -> Result<Option<u64>, Error> {
    Ok(match target {
        Target::Latest => migrations.latest(),
        Target::Version(0) => None,
        Target::Version(v) => Some(v),
        Target::DownSteps(steps) => migrations.down_steps(current, steps)?,
        Target::UpSteps(steps) => migrations.up_steps(current, steps),
    })
}

#[cfg(test)]
mod tests {
    use migrate_core::source::SourceFile;

    use super::*;

    /// A checked set, as `migrate_core::check` builds it from files: `(version, irreversible)`.
    fn set(migrations: &[(u64, bool)]) -> Vec<Migration> {
        let mut files = Vec::new();
        for (version, irreversible) in migrations {
            let down = if *irreversible {
                "-- migrate:irreversible the rows are gone\n"
            } else {
                "DROP TABLE t;\n"
            };
            for (direction, sql) in [("up", "CREATE TABLE t (x);\n"), ("down", down)] {
                files.push(SourceFile {
                    file_name: format!("{version:06}_m.{direction}.sql"),
                    contents: Ok(sql.as_bytes().to_vec()),
                });
            }
        }
        migrate_core::check(&files).unwrap()
    }

    fn versions(steps: &[(&Migration, Direction)]) -> Vec<(u64, Direction)> {
        steps.iter().map(|(m, d)| (m.version(), *d)).collect()
    }

    #[test]
    fn plans_up_in_order_and_down_in_reverse() {
        let table = set(&[
            (20240101120000, false),
            (20240205120000, false),
            (20240310120000, false),
        ]);
        let migrations = Set(&table);
        assert_eq!(
            versions(&plan(migrations, Some(20240101120000), Some(20240310120000)).unwrap()),
            [
                (20240205120000, Direction::Up),
                (20240310120000, Direction::Up)
            ]
        );
        assert_eq!(
            versions(&plan(migrations, Some(20240310120000), None).unwrap()),
            [
                (20240310120000, Direction::Down),
                (20240205120000, Direction::Down),
                (20240101120000, Direction::Down)
            ]
        );
        assert_eq!(
            migrations.down_steps(Some(20240310120000), 2).unwrap(),
            Some(20240101120000)
        );
        assert_eq!(
            version_after(migrations, &table[1], Direction::Down),
            Some(20240101120000)
        );
    }

    #[test]
    fn refuses_a_version_that_names_no_migration() {
        let table = set(&[(20240101120000, false), (20240205120000, false)]);
        let error = plan(Set(&table), None, Some(20240102120000)).unwrap_err();
        assert!(
            matches!(
                error,
                Error::TargetOutOfRange {
                    target: 20240102120000,
                    latest: Some(20240205120000)
                }
            ),
            "{error:?}"
        );
    }

    #[test]
    fn refuses_to_go_down_through_an_irreversible_migration() {
        let table = set(&[(1, false), (2, true)]);
        let error = plan(Set(&table), Some(2), Some(1)).unwrap_err();
        assert!(
            matches!(error, Error::Irreversible { version: 2, .. }),
            "{error:?}"
        );
        assert!(plan(Set(&table), Some(2), Some(2)).unwrap().is_empty());
    }
}
