//! Verification on several threads, with the findings and notes of one.
//!
//! Verifying migration k costs SQLite time that grows with the schema before it (each `CREATE`
//! and `DROP` scans `sqlite_master`), and the proc macro runs it on SQLite's C compiled at the
//! user's opt-level, often 0. The set is split into consecutive chunks, one thread each, each
//! on its own in-memory database. The first chunk is verified as before. Every later chunk
//! starts by applying the ups before it in one run, without verification, then verifies its
//! migrations; the last chunk also runs every down back to nothing.
//!
//! The chunk's database then holds the earlier migrations applied once, where a single thread
//! would hold them after up, down and up again. Verification of each earlier migration proves
//! the two agree on what it compares (the schema by meaning, the rows of the tables a
//! migration writes); what it does not compare is compared where the chunks meet: when the
//! previous chunk has verified its last migration, its database and the next chunk's starting
//! database must hold the same `sqlite_master` and temporary schema, in the same order, the
//! same rows in SQLite's own tables (`sqlite_sequence`, `sqlite_stat1`, …, the engine's tables
//! left out), the same `user_version`, and the verifier must know the rows of the same tables;
//! and no migration may have set a pragma on the connection (`PRAGMA foreign_keys`, which a run
//! makes a no-op, aside). When they do not, the chunk's result is thrown away and the
//! verification goes on from the previous chunk's database, on one thread, as if never split.
//! Results are read in migration order, so the first finding is the one a single thread finds.
//!
//! What this costs: the later chunks apply the ups before them once more, so the CPU time grows
//! while the wall-clock time shrinks. A proc macro takes no token of cargo's jobserver, so the
//! extra threads can compete with other compilations in a full build; an incremental rebuild
//! of the crate that embeds the set usually leaves the other cores idle.

use std::collections::BTreeSet;
use std::num::NonZeroUsize;
use std::ops::Range;
use std::sync::PoisonError;

use migrate_core::Migration;
use rusqlite::Connection;
use rusqlite::types::Value;

use super::{Declaration, Stop, Verifier};
use crate::plan::Target;
#[cfg(test)]
use std::cell::Cell;

/// At most this many threads, whatever the machine has.
const MAX_THREADS: usize = 4;

/// Fewer migrations per thread than this are verified on one thread: the split would cost
/// more than it saves.
const MIN_PER_THREAD: usize = 100;

/// The variable that sets how many threads verification may use (`1`: one thread); without
/// it, one per available core.
pub(super) const THREADS_VARIABLE: &str = "MIGRATE_VERIFY_THREADS";

/// The number of threads to verify `n` migrations on: [`THREADS_VARIABLE`] if set, else one
/// per available core; within [`MAX_THREADS`] and [`MIN_PER_THREAD`].
pub(super) fn threads_for(n: usize) -> usize {
    let wanted = std::env::var(THREADS_VARIABLE)
        .ok()
        .and_then(|value| value.trim().parse::<usize>().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get));
    wanted.min(MAX_THREADS).min(n / MIN_PER_THREAD).max(1)
}

/// Verifies `table` in up to `threads` chunks; the outcome is the one-thread verification's.
pub(super) fn run(
    table: &[Migration],
    declaration: &Declaration,
    unfilled: &BTreeSet<u64>,
    fill: bool,
    threads: usize,
) -> Result<Vec<String>, Stop> {
    let ranges = plan(table.len(), threads);
    let last = ranges.len() - 1;
    let verify = |index: usize, range: Range<usize>| -> Chunk {
        let mut chunk = Chunk {
            verifier: None,
            start: None,
            result: Ok(()),
            end: None,
        };
        let mut verifier = match Verifier::open(declaration, unfilled, fill) {
            Ok(verifier) => verifier,
            Err(stop) => {
                chunk.result = Err(stop);
                return chunk;
            }
        };
        if index > 0 {
            chunk.start = verifier.start_at(table, range.start);
            if chunk.start.is_none() {
                // Not comparable with anything: the previous chunk's database goes on.
                return chunk;
            }
        }
        chunk.result = verifier.verify_range(table, range);
        if index == last {
            chunk.result = chunk.result.and_then(|()| verifier.all_downs(table));
        } else if chunk.result.is_ok() {
            chunk.end = verifier.boundary();
        }
        chunk.verifier = Some(verifier);
        chunk
    };
    let chunks: Vec<Chunk> = std::thread::scope(|scope| {
        let handles: Vec<_> = ranges
            .iter()
            .enumerate()
            .skip(1)
            .map(|(index, range)| {
                let range = range.clone();
                scope.spawn(move || verify(index, range))
            })
            .collect();
        let first = verify(0, ranges[0].clone());
        let mut chunks = vec![first];
        for handle in handles {
            // A panicking chunk leaves its place empty; the previous chunk goes on instead.
            chunks.push(handle.join().unwrap_or(Chunk {
                verifier: None,
                start: None,
                result: Ok(()),
                end: None,
            }));
        }
        chunks
    });
    merge(table, chunks, &ranges)
}

/// What one chunk's thread did.
struct Chunk {
    /// Its verifier, holding its database as its last migration left it.
    verifier: Option<Verifier>,
    /// The state it started from (not for the first chunk).
    start: Option<Boundary>,
    result: Result<(), Stop>,
    /// The state it ended in, when it passed (not for the last chunk).
    end: Option<Boundary>,
}

#[cfg(test)]
thread_local! {
    /// How many chunks verified on another thread were taken as they were (tests only).
    static JOINED: Cell<usize> = const { Cell::new(0) };
}

/// Reads the chunks in migration order, as one thread would have verified them; where a
/// chunk did not start from the state its predecessor ended in, verification goes on from the
/// predecessor's database.
fn merge(
    table: &[Migration],
    chunks: Vec<Chunk>,
    ranges: &[Range<usize>],
) -> Result<Vec<String>, Stop> {
    let mut notes = Vec::new();
    let mut previous: Option<(Verifier, Option<Boundary>)> = None;
    for (chunk, range) in chunks.into_iter().zip(ranges) {
        #[cfg(test)]
        let previous_was_some = previous.is_some();
        if let Some((mut verifier, end)) = previous.take() {
            let agrees = match (&end, &chunk.start) {
                (Some(end), Some(start)) => end == start && end.pragmas.is_empty(),
                _ => false,
            };
            if !agrees {
                verifier.verify_range(table, range.start..table.len())?;
                verifier.all_downs(table)?;
                notes.append(&mut verifier.notes);
                return Ok(notes);
            }
        }
        #[cfg(test)]
        if previous_was_some {
            JOINED.with(|j| j.set(j.get() + 1));
        }
        chunk.result?;
        let Some(mut verifier) = chunk.verifier else {
            // Only a chunk that could not open its database, which reported it above.
            return Ok(notes);
        };
        notes.append(&mut verifier.notes);
        previous = Some((verifier, chunk.end));
    }
    Ok(notes)
}

/// Splits `n` migrations into at most `threads` consecutive ranges of about equal cost.
///
/// The cost of a migration grows with the schema before it: a migration at index `i` is
/// counted as `i + STEP` per run of a script (three runs to verify it), the ups a chunk applies
/// first as `i + APPLIED` each, and the last chunk's downs back to nothing as `i + APPLIED`
/// each.
fn plan(n: usize, threads: usize) -> Vec<Range<usize>> {
    // A run's fixed cost (reading the version and the history, the checks after it, the
    // verifier's comparisons), in schema objects scanned; measured on the benchmarks' workload.
    const STEP: u64 = 300;
    const APPLIED: u64 = 40;
    let threads = threads.clamp(1, n.max(1));
    if threads == 1 {
        return std::iter::once(0..n).collect();
    }
    let weight = |i: usize| i as u64;
    let applied = |start: usize| -> u64 { (0..start).map(|i| weight(i) + APPLIED).sum() };
    let downs: u64 = (0..n).map(|i| weight(i) + APPLIED).sum();
    // Ranges for a load of at most `limit` per chunk, from the first migration on.
    let split = |limit: u64| -> Option<Vec<Range<usize>>> {
        let mut ranges = Vec::new();
        let mut start = 0;
        while start < n {
            if ranges.len() == threads {
                return None;
            }
            let mut load = applied(start);
            let mut end = start;
            while end < n && load + 3 * (weight(end) + STEP) <= limit {
                load += 3 * (weight(end) + STEP);
                end += 1;
            }
            if end == start {
                return None;
            }
            ranges.push(start..end);
            start = end;
        }
        let last = ranges.last()?;
        let last_load =
            applied(last.start) + last.clone().map(|i| 3 * (weight(i) + STEP)).sum::<u64>() + downs;
        (last_load <= limit).then_some(ranges)
    };
    let (mut low, mut high) = (0, applied(n) * 4 + downs + 3 * STEP * n as u64 + 1);
    while low < high {
        let middle = low + (high - low) / 2;
        if split(middle).is_some() {
            high = middle;
        } else {
            low = middle + 1;
        }
    }
    split(low).unwrap_or_else(|| std::iter::once(0..n).collect())
}

/// What the verification of later migrations can see of a database beyond what verifying each
/// migration compares: where two chunks meet, the previous chunk's end and the next one's
/// start must agree on it.
#[derive(Debug, PartialEq)]
pub(super) struct Boundary {
    /// `sqlite_master`, by table (see [`by_table`]).
    master: Vec<Vec<Value>>,
    /// `sqlite_temp_master`, likewise.
    temp: Vec<Vec<Value>>,
    /// The rows of SQLite's own tables (`sqlite_sequence`, `sqlite_stat1`, …), without the
    /// engine's tables' rows.
    internal: Vec<(String, Vec<Vec<Value>>)>,
    user_version: i64,
    /// The tables whose rows the verifier knows.
    cached: BTreeSet<String>,
    /// The pragmas a migration set on the connection (their names).
    pragmas: BTreeSet<String>,
}

impl Verifier {
    /// Applies the ups before `table[start]` in one run, without verifying them, and reads the
    /// state the verification of the next migrations starts from, as [`Verifier::verify_range`]
    /// would have left it. `None` when the ups fail (the chunk before finds out why).
    fn start_at(&mut self, table: &[Migration], start: usize) -> Option<Boundary> {
        let target = table[start - 1].version();
        crate::sqlite::operations::run(
            table,
            &self.options,
            &mut self.conn,
            Target::Version(target),
        )
        .ok()?;
        {
            let mut watch = self.watch.lock().unwrap_or_else(PoisonError::into_inner);
            watch.ddl.clear();
            watch.altered = false;
        }
        let version_table = self.options.table_name.to_string();
        self.mirror
            .refresh(&self.conn, &version_table, &BTreeSet::new(), true)
            .ok()?;
        if self.foreign_keys == migrate_core::ForeignKeys::Enforced {
            let tables: crate::sorted::Names = self
                .mirror
                .entries
                .values()
                .filter(|entry| entry.kind == "table")
                .map(|entry| entry.name.to_ascii_lowercase())
                .collect();
            // Malformed keys were the earlier chunk's to report: this only builds the index.
            let saved = {
                let watch = self.watch.lock().unwrap_or_else(PoisonError::into_inner);
                (watch.written.clone(), watch.created.clone())
            };
            self.foreign_key_index.check(&self.conn, &tables).ok()?;
            let mut watch = self.watch.lock().unwrap_or_else(PoisonError::into_inner);
            (watch.written, watch.created) = saved;
            watch.refused = None;
        }
        let written = self.take_written();
        self.forget(&written);
        self.boundary()
    }

    /// The state where the next chunk starts, once the rows of every table written since they
    /// were last read are known (what the next migration's verification begins with).
    fn boundary(&mut self) -> Option<Boundary> {
        self.cache_rows().ok()?;
        let engine = |name: &str| self.is_engine_table(&name.to_ascii_lowercase());
        let master = by_table(dump(
            &self.conn,
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid",
        )?);
        let temp = by_table(dump(
            &self.conn,
            "SELECT type, name, tbl_name, sql FROM sqlite_temp_master ORDER BY rowid",
        )?);
        let mut internal = Vec::new();
        for row in &master {
            let (Some(Value::Text(kind)), Some(Value::Text(name))) = (row.first(), row.get(1))
            else {
                continue;
            };
            if kind != "table" || !name.starts_with("sqlite_") {
                continue;
            }
            let quoted = name.replace('"', "\"\"");
            let mut rows = dump(&self.conn, &format!("SELECT * FROM \"{quoted}\""))?;
            // The engine's own tables differ by design (a single thread records three runs a
            // migration in the history).
            rows.retain(|row| !matches!(row.first(), Some(Value::Text(t)) if engine(t)));
            rows.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
            internal.push((name.clone(), rows));
        }
        let user_version = self
            .conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .ok()?;
        let pragmas = self
            .watch
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pragmas
            .clone();
        Some(Boundary {
            master,
            temp,
            internal,
            user_version,
            cached: self.rows.keys().cloned().collect(),
            pragmas,
        })
    }
}

/// Schema rows (`type, name, tbl_name, sql`, in rowid order) grouped by table, each table's
/// objects still in creation order: that order decides which trigger fires first and which
/// index a tie or a constraint error names, while the order of unrelated objects decides
/// nothing.
fn by_table(mut rows: Vec<Vec<Value>>) -> Vec<Vec<Value>> {
    let table = |row: &Vec<Value>| match row.get(2) {
        Some(Value::Text(name)) => name.to_ascii_lowercase(),
        _ => String::new(),
    };
    rows.sort_by_key(table);
    rows
}

/// Every row `sql` returns, as values.
fn dump(conn: &Connection, sql: &str) -> Option<Vec<Vec<Value>>> {
    let mut statement = conn.prepare(sql).ok()?;
    let count = statement.column_count();
    let mut rows = statement.query([]).ok()?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().ok()? {
        out.push(
            (0..count)
                .map(|i| row.get(i))
                .collect::<rusqlite::Result<_>>()
                .ok()?,
        );
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A service's history: accounts, posts with a cascade, a view, a trigger, a table
    /// recreation, data migrations that build on rows seeded long before, and tables that
    /// verification cannot fill (notes), spread so that every chunk of up to four has some.
    const SET: [(&str, &str, &str); 12] = [
        (
            "20240105093000_users",
            "CREATE TABLE users (\n  id INTEGER PRIMARY KEY AUTOINCREMENT,\n  email TEXT NOT NULL UNIQUE,\n  created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP\n);\nINSERT INTO users (email) VALUES ('Ada@example.com'), ('grace@example.com');",
            "DROP TABLE users;",
        ),
        (
            "20240112140000_posts",
            "CREATE TABLE posts (\n  id INTEGER PRIMARY KEY,\n  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,\n  title TEXT NOT NULL\n);\nCREATE INDEX posts_user ON posts (user_id);\nINSERT INTO posts (user_id, title) VALUES (1, 'hello'), (2, 'notes');",
            "DROP INDEX posts_user;\nDROP TABLE posts;",
        ),
        (
            "20240120080000_audit",
            "CREATE TABLE audit (line TEXT);\nCREATE TRIGGER posts_audit AFTER INSERT ON posts BEGIN INSERT INTO audit VALUES (NEW.title); END;",
            "DROP TRIGGER posts_audit;\nDROP TABLE audit;",
        ),
        (
            "20240201120000_recent",
            "CREATE VIEW recent_posts AS SELECT p.id, p.title, u.email FROM posts p JOIN users u ON u.id = p.user_id;",
            "DROP VIEW recent_posts;",
        ),
        (
            "20240215100000_lower_emails",
            "UPDATE users SET email = lower(email);",
            "-- migrate:lossy-down the original spelling is not kept\nSELECT 1;",
        ),
        (
            "20240301090000_touch_audit",
            "UPDATE audit SET line = trim(line);",
            "SELECT 1;",
        ),
        (
            "20240320170000_posts_published",
            "PRAGMA foreign_keys = OFF;\nDROP VIEW recent_posts;\nCREATE TABLE posts_new (\n  id INTEGER PRIMARY KEY,\n  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,\n  title TEXT NOT NULL,\n  published INTEGER NOT NULL DEFAULT 0\n);\nINSERT INTO posts_new (id, user_id, title) SELECT id, user_id, title FROM posts;\nDROP TABLE posts;\nALTER TABLE posts_new RENAME TO posts;\nCREATE INDEX posts_user ON posts (user_id);\nCREATE TRIGGER posts_audit AFTER INSERT ON posts BEGIN INSERT INTO audit VALUES (NEW.title); END;\nCREATE VIEW recent_posts AS SELECT p.id, p.title, u.email FROM posts p JOIN users u ON u.id = p.user_id;\nPRAGMA foreign_keys = ON;",
            "ALTER TABLE posts DROP COLUMN published;",
        ),
        (
            "20240402110000_settings",
            "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);\nINSERT INTO settings VALUES ('theme', 'dark');",
            "DROP TABLE settings;",
        ),
        (
            "20240501090000_ranges",
            "CREATE TABLE ranges (lo INTEGER NOT NULL, hi INTEGER NOT NULL, CHECK (lo > hi AND hi > lo));",
            "DROP TABLE ranges;",
        ),
        (
            "20240505090000_admin",
            "INSERT INTO users (email) VALUES ('admin@example.com');\nINSERT INTO posts (user_id, title) SELECT id, 'welcome' FROM users WHERE email = 'admin@example.com';",
            "DELETE FROM audit WHERE line = 'welcome';\nDELETE FROM posts WHERE title = 'welcome';\nDELETE FROM users WHERE email = 'admin@example.com';",
        ),
        (
            "20240510160000_touch_ranges",
            "UPDATE ranges SET lo = lo;\nUPDATE settings SET value = 'light' WHERE key = 'theme';",
            "UPDATE settings SET value = 'dark' WHERE key = 'theme';",
        ),
        (
            "20240601100000_titles",
            "UPDATE posts SET title = upper(substr(title, 1, 1)) || substr(title, 2) WHERE user_id = 1;",
            "UPDATE posts SET title = lower(substr(title, 1, 1)) || substr(title, 2) WHERE user_id = 1;",
        ),
    ];

    /// The set, with the scripts `replace` gives for some files (file name, new text).
    fn load(replace: &[(&str, &str)]) -> Vec<Migration> {
        let dir = tempfile::tempdir().expect("temporary directory");
        for (stem, up, down) in SET {
            for (file, sql) in [
                (format!("{stem}.up.sql"), up),
                (format!("{stem}.down.sql"), down),
            ] {
                let sql = replace
                    .iter()
                    .find(|(name, _)| *name == file)
                    .map_or(sql, |(_, text)| *text);
                std::fs::write(dir.path().join(&file), sql).expect("write a migration file");
            }
        }
        migrate_core::load_dir(dir.path()).unwrap_or_else(|p| panic!("{p}"))
    }

    /// Verifies on every number of threads from one to four: the outcome must be the
    /// one-thread outcome; returns it, and how many chunks were taken from another thread
    /// (0: verification went on on one thread) at two and at four threads.
    fn same_on_every_thread_count(
        table: &[Migration],
    ) -> (Result<Vec<String>, Vec<super::super::Finding>>, [usize; 2]) {
        let declaration = Declaration::default();
        let one = super::super::verify_on_threads(table, &declaration, 1);
        let mut joined = [0; 2];
        for threads in 2..=4 {
            JOINED.with(|j| j.set(0));
            let many = super::super::verify_on_threads(table, &declaration, threads);
            assert_eq!(many, one, "{threads} threads");
            match threads {
                2 => joined[0] = JOINED.with(Cell::get),
                4 => joined[1] = JOINED.with(Cell::get),
                _ => {}
            }
        }
        (one, joined)
    }

    #[test]
    fn a_passing_set_gives_the_same_notes_on_every_thread_count() {
        let (outcome, joined) = same_on_every_thread_count(&load(&[]));
        assert_eq!(
            outcome.expect("the set verifies"),
            [
                "before `20240510160000_touch_ranges.up.sql`: `ranges` was left empty: SQLite refuses every row built for it (CHECK constraint failed: lo > hi AND hi > lo)"
            ]
        );
        assert_eq!(joined, [taken(2), taken(4)]);
        assert!(joined[1] >= 2, "{joined:?}");
    }

    /// How many chunks after the first a run on `threads` threads takes from their threads:
    /// those that start at or before the admin's migration (index 9). In one thread's run, its
    /// up, down and up again move the AUTOINCREMENT counter of `users` by two where applying it
    /// once moves it by one, so no chunk can start after it on a database of its own.
    fn taken(threads: usize) -> usize {
        plan(SET.len(), threads)[1..]
            .iter()
            .take_while(|range| range.start <= 9)
            .count()
    }

    #[test]
    fn a_late_finding_that_depends_on_early_rows_is_the_same() {
        // The admin's down deletes every post of the first user too: rows seeded by the second
        // migration, in the first chunk, that the last chunks must know.
        let table = load(&[(
            "20240505090000_admin.down.sql",
            "DELETE FROM audit WHERE line = 'welcome';\nDELETE FROM posts WHERE title = 'welcome' OR user_id = 1;\nDELETE FROM users WHERE email = 'admin@example.com';",
        )]);
        let (outcome, joined) = same_on_every_thread_count(&table);
        let findings = outcome.expect_err("the admin's down loses a row");
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].file, "20240505090000_admin.down.sql");
        assert!(
            findings[0].message.contains("changes the rows of `posts`")
                && findings[0].message.contains("row (id = 1) is missing"),
            "{}",
            findings[0].message
        );
        // Every chunk up to the one holding the admin's migration was taken from its thread.
        assert_eq!(joined, [taken(2), taken(4)]);
        assert!(joined[1] >= 2, "{joined:?}");
    }

    #[test]
    fn with_findings_in_several_chunks_the_first_one_is_reported() {
        let table = load(&[
            // Second chunk of four (and of two): the view is left behind.
            ("20240201120000_recent.down.sql", "SELECT 1;"),
            // Last chunk: the setting is not put back.
            ("20240510160000_touch_ranges.down.sql", "SELECT 1;"),
        ]);
        let (outcome, _) = same_on_every_thread_count(&table);
        let findings = outcome.expect_err("two downs are wrong");
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].message,
            "`20240201120000_recent.down.sql` does not undo `20240201120000_recent.up.sql`: it leaves view `recent_posts` behind; make the down undo exactly what the up does"
        );
    }

    #[test]
    fn a_setting_left_on_the_connection_keeps_verification_on_one_thread() {
        // A pragma outlives its migration and no comparison covers it: the chunks after it
        // cannot start from their own database, so verification goes on from the first.
        let table = load(&[(
            "20240120080000_audit.up.sql",
            "PRAGMA recursive_triggers = ON;\nCREATE TABLE audit (line TEXT);\nCREATE TRIGGER posts_audit AFTER INSERT ON posts BEGIN INSERT INTO audit VALUES (NEW.title); END;",
        )]);
        let (outcome, joined) = same_on_every_thread_count(&table);
        assert!(outcome.is_ok(), "{outcome:?}");
        assert_eq!(joined, [0, 0]);
    }

    #[test]
    fn a_counter_that_up_down_and_up_again_moved_is_seen_where_chunks_meet() {
        // On one thread, the temporary account's up, down and up again leave it id 4, where
        // applying the up once gives it 3; the last migration names id 4. A chunk that started
        // from the ups applied once would find no account 4 and report a dangling reference
        // that one thread does not: where the counters differ, verification goes on from the
        // previous chunk's database instead.
        let table = load(&[
            (
                "20240301090000_touch_audit.up.sql",
                "INSERT INTO users (email) VALUES ('temp@example.com');",
            ),
            (
                "20240301090000_touch_audit.down.sql",
                "DELETE FROM users WHERE email = 'temp@example.com';",
            ),
            (
                "20240601100000_titles.up.sql",
                "INSERT INTO posts (user_id, title) VALUES (4, 'beep');",
            ),
            (
                "20240601100000_titles.down.sql",
                "DELETE FROM audit WHERE line = 'beep';\nDELETE FROM posts WHERE title = 'beep';",
            ),
        ]);
        let (outcome, joined) = same_on_every_thread_count(&table);
        assert!(outcome.is_ok(), "{outcome:?}");
        // Only chunks that start before the temporary account (index 5) are taken.
        let before = |threads| {
            plan(SET.len(), threads)[1..]
                .iter()
                .take_while(|range| range.start <= 5)
                .count()
        };
        assert_eq!(joined, [before(2), before(4)]);
    }

    #[test]
    fn chunks_cover_the_set_in_order_and_later_ones_are_shorter() {
        for (n, threads) in [(12, 4), (1000, 2), (1000, 4), (250, 3), (5, 8)] {
            let ranges = plan(n, threads);
            assert!(
                !ranges.is_empty() && ranges.len() <= threads,
                "{n} {threads}: {ranges:?}"
            );
            assert_eq!(ranges[0].start, 0);
            assert_eq!(ranges[ranges.len() - 1].end, n);
            for pair in ranges.windows(2) {
                assert_eq!(pair[0].end, pair[1].start, "{ranges:?}");
                assert!(pair[0].len() >= pair[1].len(), "{ranges:?}");
            }
        }
        assert_eq!(plan(1000, 1).len(), 1);
    }
}
