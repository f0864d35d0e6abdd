//! Verification: every migration runs, and every down undoes its up, proven on a fresh
//! in-memory database with the same engine that applies migrations at run time.
//!
//! For each migration k in order: record the state, run up k, run down k, compare with the
//! recorded state (schema by meaning, and the rows of every table the migration wrote to),
//! run up k again. At the end, every down back to nothing must leave an empty database.
//! Irreversible migrations are verified up only; a `-- migrate:lossy-down` migration skips the
//! row comparison but keeps the schema comparison.
//!
//! The database is the sandbox of [`crate::sandbox`]: no statement can reach the file system
//! or load code, whatever its spelling.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use migrate_core::name::format_version;
use migrate_core::{AppFunction, ForeignKeys, Migration};
use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::types::Value;

use crate::error::Error;
use crate::foreign_keys;
use crate::options::Options;
use crate::sandbox;
use crate::schema::{self, Change, Entry, Mirror, Rows, SchemaText};

/// One thing verification found wrong, naming the file (and line where it has one).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
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

/// What the authorizer saw: the tables written to or created, and any sandbox refusal.
#[derive(Default)]
struct Watch {
    written: BTreeSet<String>,
    created: BTreeSet<String>,
    /// Names of schema objects (and their tables) that DDL created or dropped.
    ddl: BTreeSet<String>,
    /// Whether an `ALTER TABLE` ran: a rename rewrites other objects too.
    altered: bool,
    refused: Option<String>,
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
    let mut verifier = Verifier::new(declaration).map_err(|error| {
        vec![Finding {
            file: String::new(),
            line: None,
            message: format!("cannot open the in-memory database to verify migrations: {error}"),
        }]
    })?;
    match verifier.run(table) {
        Ok(()) => Ok(()),
        Err(finding) => Err(vec![finding]),
    }
}

/// The finding for foreign keys that cannot work, each described by
/// [`foreign_keys::Malformed`]'s text; the runtime's [`Error::ForeignKeyMismatch`] carries the
/// same descriptions.
fn malformed_finding(file: &str, malformed: &[String]) -> Finding {
    Finding {
        file: file.to_owned(),
        line: None,
        message: format!(
            "`{file}` leaves a foreign key that cannot work: {}; or, if the service runs with \
             foreign keys off on purpose, declare it: \
             `embed_migrations!(\"…\", foreign_keys = \"unenforced\")`",
            malformed.join("; and ")
        ),
    }
}

fn sandbox_finding(file: &str, line: usize, what: &str) -> Finding {
    Finding {
        file: file.to_owned(),
        line: Some(line),
        message: format!(
            "`{file}` line {line}: {what} is not allowed in a migration verified at compile time, \
             because verifying must not touch the file system or load code: remove it, or turn \
             verification off for this crate (`default-features = false, features = [\"bundled\"]` \
             on `migrate-runtime`)"
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
    /// The declared foreign-key policy of the set.
    foreign_keys: ForeignKeys,
    /// Which tables reference which, for the foreign-key checks.
    foreign_key_index: foreign_keys::Index,
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
        })
    }

    fn run(&mut self, table: &[Migration]) -> Result<(), Finding> {
        let mut reversible = true;
        for migration in table {
            let k = migration.version();
            self.cache_rows()?;
            self.take_written();
            // The value before this migration of every schema entry it changes.
            let mut undo: BTreeMap<(String, String), Option<Entry>> = BTreeMap::new();
            let record = |undo: &mut BTreeMap<_, _>, changes: Vec<Change>| {
                for (key, old) in changes {
                    undo.entry(key).or_insert(old);
                }
            };
            let changes = self.step(table, k, migration, Phase::Up)?;
            self.check_foreign_keys(migration.up().file_name(), &changes)?;
            record(&mut undo, changes);
            let written_up = self.take_written();
            if migration.irreversible().is_some() {
                reversible = false;
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
            let changes = self.step(table, k, migration, Phase::UpAgain)?;
            // Passed after the first up; run to keep the foreign-key index up to date.
            self.check_foreign_keys(migration.up().file_name(), &changes)?;
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
            let differences = schema_differences(&SchemaText::new(), &self.mirror.entries, 0);
            if let Some(first) = differences.first() {
                return Err(Finding {
                    file: last.down().file_name().to_owned(),
                    line: None,
                    message: format!(
                        "running every down from {} back to nothing does not leave an empty \
                         database: it {first}; make each down remove what its up creates",
                        format_version(last.version())
                    ),
                });
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
    ) -> Result<Vec<Change>, Finding> {
        crate::to(table, &self.options, &mut self.conn, target)
            .map_err(|error| self.explain(migration, phase, error))?;
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
            .map_err(internal)
    }

    /// Finds the foreign keys that `file` left malformed, among the tables its changes touched
    /// and the tables that reference them.
    fn check_foreign_keys(&mut self, file: &str, changes: &[Change]) -> Result<(), Finding> {
        if self.foreign_keys == ForeignKeys::Unenforced {
            return Ok(());
        }
        let mut touched = BTreeSet::new();
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

    fn forget(&mut self, written: &BTreeSet<String>) {
        for table in written {
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
        let mut differences = schema_differences(&before, &after, migration.version());
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
                if new.columns != old.columns {
                    // The schema comparison reports the column difference.
                    continue;
                }
                let (shown, total) = schema::row_differences(&table, old, &new, ROWS_SHOWN);
                if total > 0 {
                    let more = if total > shown.len() {
                        format!("; and {} more", total - shown.len())
                    } else {
                        String::new()
                    };
                    rows_differ = true;
                    differences.push(format!(
                        "changes the rows of `{table}`, which existed before {}: {}{more}",
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
            .filter(|t| self.rows.contains_key(*t))
            .cloned()
            .collect();
        if existing.is_empty() {
            return existing;
        }
        let mut out = existing.clone();
        for entry in self.mirror.entries.values().filter(|e| e.kind == "table") {
            let Some(sql) = &entry.sql else { continue };
            let normalized = schema::normalize(sql);
            if existing.iter().any(|parent| {
                normalized.contains(&format!("REFERENCES {}", parent.to_ascii_uppercase()))
            }) {
                out.insert(entry.name.to_ascii_lowercase());
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

/// What to add to SQLite's message: for "no such function: NAME", that the application may
/// register it; for "foreign key mismatch", what it means.
fn function_hint(message: &str) -> String {
    if let Some(tables) = message.strip_prefix("foreign key mismatch - ") {
        return format!(
            "; a foreign key ({}) names parent columns that are neither the parent's PRIMARY KEY \
             nor UNIQUE, so every write through it fails while foreign keys are enforced: \
             reference the primary key or a UNIQUE column; or, if the service runs with foreign \
             keys off on purpose, declare it: `embed_migrations!(\"…\", foreign_keys = \"unenforced\")`",
            tables.replace('"', "`")
        );
    }
    let Some(name) = message.strip_prefix("no such function: ") else {
        return String::new();
    };
    format!(
        "; if the application registers `{name}` on its connections, declare it so verification \
         can run a stand-in: `embed_migrations!(\"…\", functions = [\"{name}/N\"])`, N being its \
         number of arguments (`migrate check --verify --function {name}/N`)"
    )
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
    if let Some(what) = sandbox::refusal(&context.action) {
        watch.lock().unwrap_or_else(PoisonError::into_inner).refused = Some(what);
        return Authorization::Deny;
    }
    let written = match context.action {
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

/// Plain-words differences between two schemas; `version` names the migration in messages
/// (0: the empty database).
pub(crate) fn schema_differences(
    before: &SchemaText,
    after: &SchemaText,
    version: u64,
) -> Vec<String> {
    if before == after {
        return Vec::new();
    }
    let since = if version == 0 {
        "in the empty database".to_owned()
    } else {
        format!("before {}", format_version(version))
    };
    let mut out = Vec::new();
    let keys: BTreeSet<&(String, String)> = before.keys().chain(after.keys()).collect();
    for key in keys {
        let (kind, _) = key;
        match (before.get(key), after.get(key)) {
            (Some(a), Some(b)) if a.sql == b.sql => {}
            (None, Some(b)) => out.push(format!("leaves {kind} `{}` behind", b.name)),
            (Some(a), None) => {
                out.push(format!("drops {kind} `{}`, which existed {since}", a.name))
            }
            (Some(a), Some(b)) if kind == "table" => out.extend(table_differences(a, b, &since)),
            (Some(a), Some(b)) => {
                let (old, new) = (normalized(a), normalized(b));
                if old != new {
                    out.push(format!(
                        "changes {kind} `{}`: it was `{old}` {since} and is `{new}` after the down",
                        a.name
                    ));
                }
            }
            (None, None) => {}
        }
    }
    out
}

fn normalized(entry: &schema::Entry) -> String {
    entry
        .sql
        .as_deref()
        .map(schema::normalize)
        .unwrap_or_default()
}

fn table_differences(before: &schema::Entry, after: &schema::Entry, since: &str) -> Vec<String> {
    let shape = |entry: &schema::Entry| entry.sql.as_deref().map(schema::table_shape);
    let (Some(Ok(old)), Some(Ok(new))) = (shape(before), shape(after)) else {
        return if normalized(before) == normalized(after) {
            Vec::new()
        } else {
            vec![format!("changes table `{}`", before.name)]
        };
    };
    let table = &before.name;
    let mut out = Vec::new();
    let old_columns: BTreeMap<&String, &String> = old.columns.iter().map(|(n, d)| (n, d)).collect();
    let new_columns: BTreeMap<&String, &String> = new.columns.iter().map(|(n, d)| (n, d)).collect();
    for (name, description) in &new.columns {
        match old_columns.get(name) {
            None => out.push(format!("leaves column `{table}.{name}`, added by the up, behind")),
            Some(old) if *old != description => out.push(format!(
                "changes column `{table}.{name}`: it was `{old}` {since} and is `{description}` after the down"
            )),
            Some(_) => {}
        }
    }
    for (name, _) in &old.columns {
        if !new_columns.contains_key(name) {
            out.push(format!(
                "drops column `{table}.{name}`, which existed {since}"
            ));
        }
    }
    if out.is_empty() && old.columns != new.columns {
        let names = |shape: &schema::TableShape| {
            shape
                .columns
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        out.push(format!(
            "reorders the columns of `{table}`: ({}) {since}, ({}) after the down",
            names(&old),
            names(&new)
        ));
    }
    for (label, old_set, new_set) in [
        ("foreign key", &old.foreign_keys, &new.foreign_keys),
        ("constraint", &old.unique, &new.unique),
    ] {
        for gone in old_set.difference(new_set) {
            out.push(format!(
                "drops the {label} `{table} {gone}`, which existed {since}"
            ));
        }
        for added in new_set.difference(old_set) {
            out.push(format!(
                "leaves the {label} `{table} {added}`, added by the up, behind"
            ));
        }
    }
    if old.options != new.options {
        out.push(format!(
            "changes the options of `{table}`: `{}` {since}, `{}` after the down",
            old.options, new.options
        ));
    }
    out
}
