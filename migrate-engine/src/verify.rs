//! Verification: every migration runs, and every down undoes its up, proven on a fresh
//! in-memory database with the same engine that applies migrations at run time.
//!
//! For each migration k in order: record the state, run up k, run down k, compare with the
//! recorded state (schema by meaning, and the rows of every table the migration wrote to),
//! run up k again. At the end, every down back to nothing must leave an empty database.
//! Irreversible migrations are verified up only; a `-- migrate:lossy-down` migration skips the
//! row comparison but keeps the schema comparison.
//!
//! The database is sandboxed: no `ATTACH`, no `VACUUM INTO`, no extension loading, no pragma
//! that points SQLite at a directory, so verifying never touches the file system.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use migrate_core::name::format_version;
use migrate_core::sql::{TokenKind, line_col, statements, tokens};
use migrate_core::{Direction, Migration};
use rusqlite::Connection;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::limits::Limit;

use crate::compare::{Policy, schema_differences};
use crate::error::Error;
use crate::options::Options;
use crate::schema::{self, Change, Entry, Mirror, Rows, SchemaText};
use crate::synthesize;

/// One thing verification found wrong, naming the file (and line where it has one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The file at fault, relative to the migrations directory.
    pub file: String,
    /// 1-based line within the file, where the finding has one.
    pub line: Option<usize>,
    /// The whole message: what is wrong, where, and what to do.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// How many row differences to show per table.
const ROWS_SHOWN: usize = 3;

/// What the authorizer saw: the tables written to or created, and any sandbox refusal.
#[derive(Default)]
struct Watch {
    written: BTreeSet<String>,
    created: BTreeSet<String>,
    /// Names of schema objects (and their tables) that DDL created or dropped.
    ddl: BTreeSet<String>,
    /// Whether an `ALTER TABLE` ran: a rename rewrites other objects too.
    altered: bool,
    refused: Option<&'static str>,
}

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
    verify_with_notes(table).map(|_| ())
}

/// Verifies like [`verify`]; on success, also says what could not be checked with rows: each
/// empty table that a migration touches and that verification could not fill with rows built
/// from its schema, with the migration and the reason (e.g. "before `000003_x.up.sql`:
/// `search` was left empty: it is a virtual table").
///
/// # Errors
/// As [`verify`].
pub fn verify_with_notes(table: &[Migration]) -> Result<Vec<String>, Vec<Finding>> {
    let mut findings = Vec::new();
    for migration in table {
        for direction in [Direction::Up, Direction::Down] {
            findings.extend(writes_files(migration, direction));
        }
    }
    if !findings.is_empty() {
        return Err(findings);
    }
    // Versions whose down failed on rows filled in by verification (which may not look like
    // users' data): verified again without them.
    let mut unfilled = BTreeSet::new();
    loop {
        let mut verifier = Verifier::new().map_err(|error| {
            vec![Finding {
                file: String::new(),
                line: None,
                message: format!(
                    "cannot open the in-memory database to verify migrations: {error}"
                ),
            }]
        })?;
        verifier.unfilled.clone_from(&unfilled);
        verifier.fill = unfilled.len() < MAX_REFILLS;
        match verifier.run(table) {
            Ok(()) => return Ok(verifier.notes),
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

/// `VACUUM INTO 'file'` writes a file; the authorizer does not see it, so it is found here.
fn writes_files(migration: &Migration, direction: Direction) -> Option<Finding> {
    let script = migration.script(direction);
    let sql = script.sql();
    statements(sql).into_iter().find_map(|statement| {
        let mut words = tokens(statement.text)
            .filter(|t| t.kind == TokenKind::Word)
            .map(|t| &statement.text[t.start..t.end]);
        let first = words.next()?;
        (first.eq_ignore_ascii_case("vacuum") && words.any(|w| w.eq_ignore_ascii_case("into")))
            .then(|| {
                let line = line_col(sql, statement.start).0;
                sandbox_finding(script.file_name(), line, "VACUUM INTO")
            })
    })
}

fn sandbox_finding(file: &str, line: usize, what: &str) -> Finding {
    Finding {
        file: file.to_owned(),
        line: Some(line),
        message: format!(
            "`{file}` line {line}: {what} is not allowed in a migration verified at compile time, \
             because verifying must not touch the file system or load code: remove it, or turn \
             verification off for this crate (default-features = false)"
        ),
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
    fn new() -> rusqlite::Result<Verifier> {
        let mut conn = Connection::open_in_memory()?;
        // One slot, for the nameless temporary database `VACUUM` attaches; the authorizer
        // refuses every attachment of a file.
        conn.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 1)?;
        conn.pragma_update(None, "foreign_keys", true)?;
        let watch = Arc::new(Mutex::new(Watch::default()));
        let seen = Arc::clone(&watch);
        let options = Options::default();
        // The engine's own writes to its version and history tables are not the migration's.
        let version_table = options.table_name.to_ascii_lowercase();
        let engine_tables = [format!("{version_table}_history"), version_table];
        conn.authorizer(Some(move |context: AuthContext<'_>| {
            authorize(&seen, &engine_tables, &context)
        }))?;
        Ok(Verifier {
            conn,
            watch,
            options,
            rows: HashMap::new(),
            stale: BTreeSet::new(),
            mirror: Mirror::default(),
            fill: true,
            unfilled: BTreeSet::new(),
            filled: Vec::new(),
            notes: Vec::new(),
        })
    }

    fn run(&mut self, table: &[Migration]) -> Result<(), Stop> {
        let mut reversible = true;
        for migration in table {
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
            record(&mut undo, up);
            let written_up = self.take_written();
            if migration.irreversible().is_some() {
                reversible = false;
                self.forget(&written_up);
                continue;
            }
            record(&mut undo, self.step(table, k - 1, migration, Phase::Down)?);
            let mut written = written_up;
            written.extend(self.take_written());
            self.compare(migration, &undo, &written)?;
            self.empty_filled_tables()?;
            self.step(table, k, migration, Phase::UpAgain)?;
            written.extend(self.take_written());
            self.forget(&written);
        }
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
        crate::to(table, &self.options, &mut self.conn, target).map_err(|error| {
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
                    return sandbox_finding(&file, line, what);
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
                Finding {
                    file: file.clone(),
                    line: Some(line),
                    message: format!("`{file}` {place}: {message} (in `{statement}`){context}"),
                }
            }
            Error::ForeignKeyViolation {
                file,
                violations,
                total,
                ..
            } => {
                let list: Vec<String> = violations
                    .iter()
                    .map(|v| match v.rowid {
                        Some(rowid) => format!("`{}` row {rowid} → `{}`", v.table, v.parent),
                        None => format!("`{}` → `{}`", v.table, v.parent),
                    })
                    .collect();
                Finding {
                    file: file.clone(),
                    line: None,
                    message: format!(
                        "`{file}` leaves {total} row(s) pointing at missing parents ({}): make the \
                         migration keep every reference valid",
                        list.join(", ")
                    ),
                }
            }
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

    fn forget(&mut self, written: &BTreeSet<String>) {
        let tables: Vec<&String> = written
            .iter()
            .filter(|t| !self.is_engine_table(t))
            .collect();
        for table in tables {
            self.rows.remove(table);
            self.stale.insert(table.clone());
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
                let Some(new) = new.aligned_to(&old.columns) else {
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

fn internal(error: rusqlite::Error) -> Finding {
    Finding {
        file: String::new(),
        line: None,
        message: format!("verification could not read the in-memory database: {error}"),
    }
}

/// The authorizer: refuses what would reach outside the in-memory database, and records every
/// table written to.
fn authorize(
    watch: &Mutex<Watch>,
    engine_tables: &[String; 2],
    context: &AuthContext<'_>,
) -> Authorization {
    let refuse = |what: &'static str| {
        watch.lock().unwrap_or_else(PoisonError::into_inner).refused = Some(what);
        Authorization::Deny
    };
    let written = match context.action {
        // `VACUUM` attaches SQLite's own temporary database, which has no file name.
        AuthAction::Attach { filename } if !filename.is_empty() => return refuse("ATTACH"),
        AuthAction::Attach { .. } => {
            // `VACUUM` renumbers `sqlite_master`: the schema mirror must read it all again.
            watch.lock().unwrap_or_else(PoisonError::into_inner).altered = true;
            return Authorization::Allow;
        }
        AuthAction::Detach { .. } => return refuse("DETACH"),
        AuthAction::Function { function_name }
            if function_name.eq_ignore_ascii_case("load_extension") =>
        {
            return refuse("load_extension()");
        }
        AuthAction::Pragma { pragma_name, .. }
            if ["temp_store_directory", "data_store_directory"]
                .iter()
                .any(|p| pragma_name.eq_ignore_ascii_case(p)) =>
        {
            return refuse("a pragma that sets a directory");
        }
        AuthAction::CreateTable { table_name } => {
            let mut watch = watch.lock().unwrap_or_else(PoisonError::into_inner);
            watch.created.insert(table_name.to_ascii_lowercase());
            watch.ddl.insert(table_name.to_ascii_lowercase());
            return Authorization::Allow;
        }
        AuthAction::CreateIndex {
            index_name: name,
            table_name,
        }
        | AuthAction::DropIndex {
            index_name: name,
            table_name,
        }
        | AuthAction::CreateTrigger {
            trigger_name: name,
            table_name,
        }
        | AuthAction::DropTrigger {
            trigger_name: name,
            table_name,
        } => {
            let mut watch = watch.lock().unwrap_or_else(PoisonError::into_inner);
            watch.ddl.insert(name.to_ascii_lowercase());
            watch.ddl.insert(table_name.to_ascii_lowercase());
            return Authorization::Allow;
        }
        AuthAction::CreateView { view_name } | AuthAction::DropView { view_name } => {
            let mut watch = watch.lock().unwrap_or_else(PoisonError::into_inner);
            watch.ddl.insert(view_name.to_ascii_lowercase());
            return Authorization::Allow;
        }
        AuthAction::Insert { table_name }
        | AuthAction::Update { table_name, .. }
        | AuthAction::Delete { table_name }
        | AuthAction::DropTable { table_name }
        | AuthAction::AlterTable { table_name, .. } => table_name,
        _ => return Authorization::Allow,
    };
    let written = written.to_ascii_lowercase();
    match context.action {
        AuthAction::DropTable { .. } => {
            watch
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .ddl
                .insert(written.clone());
        }
        AuthAction::AlterTable { .. } => {
            let mut watch = watch.lock().unwrap_or_else(PoisonError::into_inner);
            watch.ddl.insert(written.clone());
            watch.altered = true;
        }
        _ => {}
    }
    if !written.starts_with("sqlite_") && !engine_tables.contains(&written) {
        watch
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .written
            .insert(written);
    }
    Authorization::Allow
}
