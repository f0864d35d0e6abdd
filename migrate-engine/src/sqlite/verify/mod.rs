//! Verification: every migration runs, and every down undoes its up, proven on a fresh
//! in-memory database with the same engine that applies migrations at run time.
//!
//! For each migration k in order: record the state, run up k, run down k, compare with the
//! recorded state (schema by meaning, and the rows of every table the migration wrote to),
//! run up k again. At the end, every down back to nothing must leave an empty database.
//! Irreversible migrations are verified up only; a `-- migrate:lossy-down` migration skips the
//! row comparison but keeps the schema comparison.
//!
//! The database is the sandbox of [`crate::sqlite::sandbox`]: no statement can reach the file system
//! or load code, whatever its spelling.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::sync::{Arc, Mutex, PoisonError};

use migrate_core::name::format_version;
use migrate_core::{AppFunction, ForeignKeys, Migration};
use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use rusqlite::hooks::AuthContext;
use rusqlite::types::Value;

use crate::error::{Error, missing_parents};
use crate::options::Options;
use crate::plan::Target;
use crate::sqlite::compare::{Policy, schema_differences};
use crate::sqlite::foreign_keys;
use crate::sqlite::mirror::{Change, Mirror};
use crate::sqlite::sandbox;
use crate::sqlite::schema::{self, Entry, Rows, SchemaText};
use crate::sqlite::synthesize;

mod chunks;
mod findings;
mod watch;

pub use findings::Finding;
use findings::{function_hint, internal, malformed_finding, sandbox_finding};
use watch::{Watch, authorize};

/// What a migration set declares about the service that runs it; verification honours it.
///
/// `embed_migrations!` builds it from its arguments (`foreign_keys = "unenforced"`,
/// `functions = ["normalize/2"]`), `migrate check --verify` from its options.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Declaration {
    /// Whether the service enforces foreign keys. With [`ForeignKeys::Unenforced`],
    /// verification runs with enforcement off and checks no foreign key.
    pub foreign_keys: ForeignKeys,
    /// The SQL functions the application registers on its connections. Verification registers
    /// a deterministic stand-in for each, which returns its first argument unchanged (`NULL`
    /// when it takes none).
    pub functions: Vec<AppFunction>,
}

impl Declaration {
    /// Foreign keys enforced, no application functions.
    pub fn new() -> Declaration {
        Declaration::default()
    }

    /// Declares whether the service enforces foreign keys.
    pub fn with_foreign_keys(mut self, foreign_keys: ForeignKeys) -> Declaration {
        self.foreign_keys = foreign_keys;
        self
    }

    /// Declares a function the application registers on its connections.
    pub fn with_function(mut self, function: AppFunction) -> Declaration {
        self.functions.push(function);
        self
    }
}

/// How many row differences to show per table.
const ROWS_SHOWN: usize = 3;

/// Verifies a checked set (versions 1..=N in order, as [`migrate_core::check()`] returns it).
///
/// # Errors
/// Every finding, at most one per migration: verification stops at the first migration that
/// fails, since the ones after it build on it.
///
/// # Example
/// ```
/// # let dir = std::env::temp_dir().join(format!("migrate-verify-doc-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// # std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("000001_tags.up.sql"), "CREATE TABLE tags (id INTEGER);").unwrap();
/// std::fs::write(dir.join("000001_tags.down.sql"), "SELECT 1;").unwrap();
/// let table = migrate_core::load_dir(&dir).unwrap();
/// let findings = migrate_engine::verify(&table).unwrap_err();
/// assert_eq!(
///     findings[0].message,
///     "`000001_tags.down.sql` does not undo `000001_tags.up.sql`: it leaves table `tags` behind; \
///      make the down undo exactly what the up does"
/// );
/// ```
pub fn verify(table: &[Migration]) -> Result<(), Vec<Finding>> {
    verify_declared(table, &Declaration::default())
}

/// [`verify()`], honouring what the set declares about the service that runs it: with
/// [`ForeignKeys::Unenforced`], enforcement is off and no foreign key is checked; each declared
/// function is registered as a deterministic stand-in that returns its first argument.
///
/// # Errors
/// As [`verify()`].
///
/// # Example
/// ```
/// # let dir = std::env::temp_dir().join(format!("migrate-verify-declared-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// # std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(
///     dir.join("000001_users.up.sql"),
///     "CREATE TABLE users (email TEXT);\nCREATE INDEX users_email ON users (normalize(email, 'nfc'));",
/// ).unwrap();
/// std::fs::write(dir.join("000001_users.down.sql"), "DROP TABLE users;").unwrap();
/// let table = migrate_core::load_dir(&dir).unwrap();
/// assert!(migrate_engine::verify(&table).is_err()); // no such function: normalize
/// let normalize = migrate_core::AppFunction::parse("normalize/2").unwrap();
/// let declared = migrate_engine::Declaration::new().with_function(normalize);
/// assert_eq!(migrate_engine::verify_declared(&table, &declared), Ok(()));
/// ```
pub fn verify_declared(table: &[Migration], declaration: &Declaration) -> Result<(), Vec<Finding>> {
    verify_with_notes(table, declaration).map(|_| ())
}

/// Verifies like [`verify_declared`]; on success, also says what could not be checked with
/// rows: each empty table that a migration touches and that verification could not fill with
/// rows built from its schema, with the migration and the reason (e.g. "before
/// `000003_x.up.sql`: `search` was left empty: it is a virtual table").
///
/// # Errors
/// As [`verify()`].
pub fn verify_with_notes(
    table: &[Migration],
    declaration: &Declaration,
) -> Result<Vec<String>, Vec<Finding>> {
    verify_on_threads(table, declaration, chunks::threads_for(table.len()))
}

/// [`verify_with_notes`] on at most `threads` threads (see [`chunks`]): the findings and notes
/// are the same whatever the number.
fn verify_on_threads(
    table: &[Migration],
    declaration: &Declaration,
    threads: usize,
) -> Result<Vec<String>, Vec<Finding>> {
    // Versions whose down failed on rows filled in by verification (which may not look like
    // users' data): verified again without them.
    let mut unfilled = BTreeSet::new();
    loop {
        let fill = unfilled.len() < MAX_REFILLS;
        match chunks::run(table, declaration, &unfilled, fill, threads) {
            Ok(notes) => return Ok(notes),
            Err(Stop::Finding(finding)) => return Err(vec![finding]),
            Err(Stop::Refill(version)) => {
                unfilled.insert(version);
            }
        }
    }
}

/// How many times verification starts again without the rows it filled in before it stops
/// filling empty tables altogether.
const MAX_REFILLS: usize = 3;

/// Why a verification run stopped.
enum Stop {
    Finding(Finding),
    /// The down of this version failed on rows filled in by verification: verify again
    /// without filling for it.
    Refill(u64),
}

impl From<Finding> for Stop {
    fn from(finding: Finding) -> Stop {
        Stop::Finding(finding)
    }
}

struct Verifier {
    conn: Connection,
    watch: Arc<Mutex<Watch>>,
    options: Options,
    /// The rows of each table as they are now; a table leaves the cache when written to.
    rows: HashMap<String, Rows>,
    /// Tables created or written since their rows were last read.
    stale: BTreeSet<String>,
    /// The schema as it is now.
    mirror: Mirror,
    /// The declared foreign-key policy of the set.
    foreign_keys: ForeignKeys,
    /// Which tables reference which, for the foreign-key checks.
    foreign_key_index: foreign_keys::Index,
    /// Whether empty tables a migration touches are filled with rows built from their schema.
    fill: bool,
    /// Versions not to fill tables for.
    unfilled: BTreeSet<u64>,
    /// The tables filled for the current migration.
    filled: Vec<synthesize::Filled>,
    /// Tables that could not be filled, and why.
    notes: Vec<String>,
}

/// The step of the verification a failure happened in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Up,
    Down,
    UpAgain,
    AllDowns,
}

impl Verifier {
    /// A verifier on a fresh in-memory database; `unfilled` and `fill` as in its fields.
    fn open(
        declaration: &Declaration,
        unfilled: &BTreeSet<u64>,
        fill: bool,
    ) -> Result<Verifier, Stop> {
        let mut verifier = Verifier::new(declaration).map_err(|error| {
            Stop::Finding(Finding {
                file: String::new(),
                line: None,
                message: format!(
                    "cannot open the in-memory database to verify migrations: {error}"
                ),
            })
        })?;
        verifier.unfilled.clone_from(unfilled);
        verifier.fill = fill;
        Ok(verifier)
    }

    fn new(declaration: &Declaration) -> rusqlite::Result<Verifier> {
        let mut conn = sandbox::open()?;
        let enforced = declaration.foreign_keys == ForeignKeys::Enforced;
        conn.pragma_update(None, "foreign_keys", enforced)?;
        for function in &declaration.functions {
            stand_in(&conn, function)?;
        }
        let watch = Arc::new(Mutex::new(Watch::default()));
        let seen = Arc::clone(&watch);
        let options = Options::default().foreign_keys(declaration.foreign_keys);
        // The engine's own writes to its version and history tables are not the migration's.
        let version_table = options.table_name.to_ascii_lowercase();
        let engine_tables = [format!("{version_table}_history"), version_table];
        // The engine installs its own authorizer for a run; given as the options' observer,
        // this one stays in force during every run and after it.
        let observer =
            Arc::new(move |context: &AuthContext<'_>| authorize(&seen, &engine_tables, context));
        let installed = Arc::clone(&observer);
        conn.authorizer(Some(move |context: AuthContext<'_>| installed(&context)))?;
        let options = options
            .authorizer(move |context: &AuthContext<'_>| observer(context))
            .keep_foreign_key_graph();
        Ok(Verifier {
            conn,
            watch,
            options,
            rows: HashMap::new(),
            stale: BTreeSet::new(),
            mirror: Mirror::default(),
            foreign_keys: declaration.foreign_keys,
            foreign_key_index: foreign_keys::Index::default(),
            fill: true,
            unfilled: BTreeSet::new(),
            filled: Vec::new(),
            notes: Vec::new(),
        })
    }

    /// Verifies `table[range]`, the database holding the migrations before it.
    fn verify_range(&mut self, table: &[Migration], range: Range<usize>) -> Result<(), Stop> {
        for migration in &table[range] {
            let k = migration.version();
            self.cache_rows()?;
            self.fill_empty_tables(migration)?;
            self.take_written();
            // The value before this migration of every schema entry it changes.
            let mut undo: BTreeMap<(String, String), Option<Entry>> = BTreeMap::new();
            let record = |undo: &mut BTreeMap<_, _>, changes: Vec<Change>| {
                for (key, old) in changes {
                    undo.entry(key).or_insert(old);
                }
            };
            let up = match self.step(table, k, migration, Phase::Up) {
                // The up's transaction was rolled back: try it on the tables as they were.
                Err(_) if !self.filled.is_empty() => {
                    self.empty_filled_tables()?;
                    self.step(table, k, migration, Phase::Up)?
                }
                other => other?,
            };
            self.check_foreign_keys(migration.up().file_name(), &up)?;
            record(&mut undo, up);
            let written_up = self.take_written();
            if migration.irreversible().is_some() {
                self.forget(&written_up);
                continue;
            }
            // The version before this migration: `k - 1` in a sequential set, the previous
            // timestamp in a timestamped one.
            let previous = table
                .iter()
                .take_while(|m| m.version() < k)
                .last()
                .map_or(0, Migration::version);
            let changes = self.step(table, previous, migration, Phase::Down)?;
            self.check_foreign_keys(migration.down().file_name(), &changes)?;
            record(&mut undo, changes);
            let mut written = written_up;
            written.extend(self.take_written());
            self.compare(migration, &undo, &written)?;
            self.empty_filled_tables()?;
            let changes = self.step(table, k, migration, Phase::UpAgain)?;
            // Passed after the first up; run to keep the foreign-key index up to date.
            self.check_foreign_keys(migration.up().file_name(), &changes)?;
            written.extend(self.take_written());
            self.forget(&written);
        }
        Ok(())
    }

    /// Runs every down back to nothing, from the database holding every migration of
    /// `table`, and checks that the database is empty (when every migration is reversible).
    fn all_downs(&mut self, table: &[Migration]) -> Result<(), Stop> {
        let reversible = table.iter().all(|m| m.irreversible().is_none());
        if reversible && !table.is_empty() {
            let last = &table[table.len() - 1];
            self.step(table, 0, last, Phase::AllDowns)?;
            let version_table = self.options.table_name.to_string();
            self.mirror
                .refresh(&self.conn, &version_table, &BTreeSet::new(), true)
                .map_err(internal)?;
            let differences = schema_differences(
                &SchemaText::new(),
                &self.mirror.entries,
                0,
                Policy::default(),
            );
            if let Some(first) = differences.first() {
                return Err(Stop::Finding(Finding {
                    file: last.down().file_name().to_owned(),
                    line: None,
                    message: format!(
                        "running every down from {} back to nothing does not leave an empty \
                         database: it {first}; make each down remove what its up creates",
                        format_version(last.version())
                    ),
                }));
            }
        }
        Ok(())
    }

    /// Runs the engine to `target`, exactly as the runtime would, and brings the schema mirror
    /// up to date; returns the schema entries that changed, with their previous values.
    fn step(
        &mut self,
        table: &[Migration],
        target: u64,
        migration: &Migration,
        phase: Phase,
    ) -> Result<Vec<Change>, Stop> {
        crate::sqlite::operations::run(
            table,
            &self.options,
            &mut self.conn,
            Target::Version(target),
        )
        .map_err(|error| {
            let finding = self.explain(migration, phase, error);
            // A down that fails on rows verification filled in may not fail on users' data:
            // verify again without filling for it.
            if phase == Phase::Down && !self.filled.is_empty() {
                Stop::Refill(migration.version())
            } else {
                Stop::Finding(finding)
            }
        })?;
        let (names, altered) = {
            let mut watch = self.watch.lock().unwrap_or_else(PoisonError::into_inner);
            (
                std::mem::take(&mut watch.ddl),
                std::mem::take(&mut watch.altered),
            )
        };
        let version_table = self.options.table_name.to_string();
        self.mirror
            .refresh(&self.conn, &version_table, &names, altered)
            .map_err(|error| Stop::Finding(internal(error)))
    }

    /// Finds the foreign keys that `file` left malformed, among the tables its changes touched
    /// and the tables that reference them.
    fn check_foreign_keys(&mut self, file: &str, changes: &[Change]) -> Result<(), Finding> {
        if self.foreign_keys == ForeignKeys::Unenforced {
            return Ok(());
        }
        let mut touched = crate::sorted::Names::default();
        for ((kind, name), old) in changes {
            let now = self.mirror.entries.get(&(kind.clone(), name.clone()));
            for entry in old.iter().chain(now) {
                touched.insert(entry.table.to_ascii_lowercase());
            }
            if kind == "table" || kind == "view" {
                touched.insert(name.clone());
            }
        }
        if touched.is_empty() {
            return Ok(());
        }
        // Reading the foreign keys prepares statements the authorizer sees: they are not the
        // migration's writes.
        let saved = {
            let watch = self.watch.lock().unwrap_or_else(PoisonError::into_inner);
            (watch.written.clone(), watch.created.clone())
        };
        let result = self.foreign_key_index.check(&self.conn, &touched);
        {
            let mut watch = self.watch.lock().unwrap_or_else(PoisonError::into_inner);
            (watch.written, watch.created) = saved;
            watch.refused = None;
        }
        let malformed = result.map_err(internal)?;
        if malformed.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = malformed.iter().map(ToString::to_string).collect();
        Err(malformed_finding(file, &list))
    }

    fn explain(&self, migration: &Migration, phase: Phase, error: Error) -> Finding {
        let refused = self
            .watch
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .refused
            .take();
        match error {
            Error::Migration {
                file,
                line,
                column,
                statement,
                message,
                ..
            } => {
                if let Some(what) = refused {
                    return sandbox_finding(&file, line, &what);
                }
                let place = match column {
                    Some(column) => format!("line {line}, column {column}"),
                    None => format!("line {line}"),
                };
                let context = match phase {
                    Phase::UpAgain => format!(
                        " when run again after its down, so `{}` does not fully undo it",
                        migration.down().file_name()
                    ),
                    Phase::AllDowns => " while running every down back to nothing".to_owned(),
                    Phase::Up | Phase::Down => String::new(),
                };
                let hint = function_hint(&message);
                Finding {
                    file: file.clone(),
                    line: Some(line),
                    message: format!(
                        "`{file}` {place}: {message} (in `{statement}`){context}{hint}"
                    ),
                }
            }
            Error::ForeignKeyViolation {
                file,
                violations,
                total,
                ..
            } => Finding {
                message: format!(
                    "{}: make the migration keep every reference valid",
                    missing_parents(&file, &violations, total)
                ),
                file,
                line: None,
            },
            Error::ForeignKeyMismatch {
                file, malformed, ..
            } if !malformed.is_empty() => malformed_finding(&file, &malformed),
            other => {
                let file = match phase {
                    Phase::Down | Phase::AllDowns => migration.down().file_name(),
                    Phase::Up | Phase::UpAgain => migration.up().file_name(),
                };
                Finding {
                    file: file.to_owned(),
                    line: None,
                    message: format!("verifying `{file}` failed: {other}"),
                }
            }
        }
    }

    /// Fills the empty tables `migration` touches with rows built from their schema (not for
    /// a migration whose rows are not compared or that runs outside a transaction).
    fn fill_empty_tables(&mut self, migration: &Migration) -> Result<(), Finding> {
        let compared = migration.irreversible().is_none() && migration.lossy_down().is_none();
        let transactional = !migration.up().no_transaction() && !migration.down().no_transaction();
        if !self.fill || !compared || !transactional || self.unfilled.contains(&migration.version())
        {
            return Ok(());
        }
        let skip = |table: &str| self.is_engine_table(table);
        let tables = synthesize::candidates(migration, &self.mirror, &self.rows, &skip);
        if tables.is_empty() {
            return Ok(());
        }
        let (filled, notes) = synthesize::fill(&self.conn, &self.mirror, &tables);
        let up = migration.up().file_name();
        self.notes.extend(
            notes
                .into_iter()
                .map(|note| format!("before `{up}`: {note}")),
        );
        self.filled = filled;
        for table in &self.filled {
            self.stale.insert(table.table.clone());
        }
        self.cache_rows()
    }

    /// Deletes the rows [`Verifier::fill_empty_tables`] wrote.
    fn empty_filled_tables(&mut self) -> Result<(), Finding> {
        let filled = std::mem::take(&mut self.filled);
        synthesize::empty_again(&self.conn, &filled).map_err(internal)?;
        for table in &filled {
            self.stale.insert(table.table.clone());
        }
        self.take_written();
        self.cache_rows()
    }

    /// Reads the rows of every table created or written since it was last read, so the state
    /// before a migration is known for whichever tables it turns out to write.
    fn cache_rows(&mut self) -> Result<(), Finding> {
        for table in std::mem::take(&mut self.stale) {
            // A view's rows follow from its definition, which the schema comparison covers,
            // and the rows of the tables it reads, which are compared when written: cached,
            // they would go stale whenever one of those tables changed.
            if self
                .mirror
                .entries
                .contains_key(&("view".to_owned(), table.clone()))
            {
                self.rows.remove(&table);
                continue;
            }
            match schema::rows(&self.conn, &table) {
                Ok(rows) => {
                    self.rows.insert(table, rows);
                }
                // Dropped since: nothing to cache.
                Err(_) => {
                    self.rows.remove(&table);
                }
            }
        }
        Ok(())
    }

    /// The tables written to since the last call; created tables become stale too.
    fn take_written(&self) -> BTreeSet<String> {
        let mut watch = self.watch.lock().unwrap_or_else(PoisonError::into_inner);
        let created = std::mem::take(&mut watch.created);
        let mut written = std::mem::take(&mut watch.written);
        written.extend(created);
        written
    }

    /// Whether `table` is one of the engine's own (the version and history tables): never
    /// compared, whatever writes to it (a `VACUUM` rewrites every table).
    fn is_engine_table(&self, table: &str) -> bool {
        let version_table = self.options.table_name.to_ascii_lowercase();
        table == version_table || table == format!("{version_table}_history")
    }

    /// Drops the cached rows of the tables written to, and of the tables whose foreign keys
    /// point at them (a cascade writes those without the authorizer seeing it), so the next
    /// [`Verifier::cache_rows`] reads them as they are now.
    fn forget(&mut self, written: &BTreeSet<String>) {
        let mut tables: BTreeSet<String> = written
            .iter()
            .filter(|t| !self.is_engine_table(t))
            .cloned()
            .collect();

        let mut queue: Vec<String> = tables.iter().cloned().collect();
        while let Some(parent) = queue.pop() {
            for child in self.mirror.children(&parent) {
                if tables.insert(child.clone()) {
                    queue.push(child.clone());
                }
            }
        }
        for table in tables {
            self.rows.remove(&table);
            self.stale.insert(table);
        }
    }

    /// Compares the state after up and down with the state before: the schema entries the
    /// migration changed (`undo` holds their values from before), and the rows of the tables
    /// it wrote to.
    fn compare(
        &mut self,
        migration: &Migration,
        undo: &BTreeMap<(String, String), Option<Entry>>,
        written: &BTreeSet<String>,
    ) -> Result<(), Finding> {
        let before: SchemaText = undo
            .iter()
            .filter_map(|(key, old)| old.clone().map(|entry| (key.clone(), entry)))
            .collect();
        let after: SchemaText = undo
            .keys()
            .filter_map(|key| {
                self.mirror
                    .entries
                    .get(key)
                    .map(|entry| (key.clone(), entry.clone()))
            })
            .collect();
        let policy = Policy {
            lossy: migration.lossy_down().is_some(),
        };
        let mut differences = schema_differences(&before, &after, migration.version(), policy);
        let mut rows_differ = false;
        if migration.lossy_down().is_none() {
            for table in self.touched_tables(written) {
                let Some(old) = self.rows.get(&table) else {
                    continue;
                };
                // A table dropped by the down is reported by the schema comparison.
                let Ok(new) = schema::rows(&self.conn, &table) else {
                    continue;
                };
                // Columns in another order are compared by name; other columns are the
                // schema comparison's to report.
                let Some(new) = new.aligned_to(&old.columns, str::eq_ignore_ascii_case) else {
                    continue;
                };
                let (shown, total) = schema::row_differences(&table, old, &new, ROWS_SHOWN);
                if total > 0 {
                    let more = if total > shown.len() {
                        format!("; and {} more", total - shown.len())
                    } else {
                        String::new()
                    };
                    rows_differ = true;
                    let filled = if self.filled.iter().any(|f| f.table == table) {
                        " (it was empty, so verification filled it with rows built from its \
                         schema)"
                    } else {
                        ""
                    };
                    differences.push(format!(
                        "changes the rows of `{table}`, which existed before {}{filled}: {}{more}",
                        format_version(migration.version()),
                        shown.join(", ")
                    ));
                }
            }
        }
        match differences.first() {
            None => Ok(()),
            Some(_) => Err(Finding {
                file: migration.down().file_name().to_owned(),
                line: None,
                message: format!(
                    "`{}` does not undo `{}`: it {}; make the down undo exactly what the up does{}",
                    migration.down().file_name(),
                    migration.up().file_name(),
                    differences.join("; it "),
                    if rows_differ {
                        ", or, if losing those rows is intended, add `-- migrate:lossy-down <reason>` to it"
                    } else {
                        ""
                    }
                ),
            }),
        }
    }

    /// The tables whose rows must be compared: those written to that existed before, and the
    /// tables whose foreign keys point at them (a cascade writes them without the authorizer
    /// seeing it).
    fn touched_tables(&self, written: &BTreeSet<String>) -> BTreeSet<String> {
        let existing: BTreeSet<String> = written
            .iter()
            .filter(|t| self.rows.contains_key(*t) && !self.is_engine_table(t))
            .cloned()
            .collect();
        if existing.is_empty() {
            return existing;
        }
        // Children of children too: cascades chain. The mirror indexes foreign keys by parent,
        // so this costs the tables involved, not the schema.
        let mut out = existing.clone();
        let mut queue: Vec<String> = existing.into_iter().collect();
        while let Some(parent) = queue.pop() {
            for child in self.mirror.children(&parent) {
                if out.insert(child.clone()) {
                    queue.push(child.clone());
                }
            }
        }
        out
    }
}

/// Registers a deterministic stand-in for a function the application registers: it returns
/// its first argument unchanged (`NULL` when it takes none), so the statements that call it
/// run, and indexes, generated columns and CHECK constraints may use it.
fn stand_in(conn: &Connection, function: &AppFunction) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        function.name(),
        function.arity().map_or(-1, i32::from),
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |context| {
            if context.is_empty() {
                Ok(Value::Null)
            } else {
                context.get::<Value>(0)
            }
        },
    )
}
