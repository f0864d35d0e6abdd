//! Verification on a PostgreSQL server: every migration runs, and every down undoes its up,
//! inside one transaction that is rolled back at the end, so the database is never changed.
//!
//! The run: `BEGIN`; a scratch schema, first on the `search_path` (then `public`, where
//! extensions usually live); then, from nothing, for each migration k: read the catalogue and
//! the rows, run up k, run down k, read again and compare, run up k again; at the end, every
//! down back to nothing, compared with the state before the first up. A savepoint before
//! each down lets verification carry on after a down that fails or does not undo its up, so
//! every such migration is reported at once; an up that fails stops it (the migrations after
//! it build on it). Then `ROLLBACK`.
//!
//! - Schema: every object of every user schema, by meaning ([`super::catalog`]).
//! - Rows: of every table the set created before the up, compared as text, by primary key
//!   where there is one. An empty table gets one made-up row first (values from its columns'
//!   types, an enum's first label, a referenced table's first key; defaults where there are
//!   any), so a data migration's down is checked even where the set inserts no rows. An up or a
//!   down that fails on made-up rows is verified again without them; the made-up rows never
//!   outlive their migration's check (the up runs again on the tables as they were). Both are
//!   listed in [`Verified::unfilled`], as are tables that refuse a made-up row.
//! - `-- migrate:irreversible`: up only. `-- migrate:lossy-down`: schema only, no rows.
//! - `-- migrate:no-transaction`: verification cannot leave its transaction. `CREATE INDEX
//!   CONCURRENTLY`, `DROP INDEX CONCURRENTLY` and `REINDEX … CONCURRENTLY` run without
//!   `CONCURRENTLY` (the same index; only the locks differ) and `VACUUM` is skipped (it changes
//!   neither schema nor rows); each is listed in [`Verified::notes`]. Any other statement that
//!   PostgreSQL refuses in a transaction is a finding: that migration and those after it are
//!   not verified.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use migrate_core::Migration;
use migrate_core::name::format_version;
use migrate_core::sql::{excerpt, line_col};
use tokio_postgres::error::{ErrorPosition, SqlState};

use super::catalog::{self, Catalog};
use super::client::Client;
use super::split;
use crate::Finding;
use crate::rows::{self, Rows};

/// What verification proved, and what it adapted to run inside its transaction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified {
    /// How many migrations were run up, down and up again (the irreversible ones: up only).
    pub migrations: usize,
    /// How many of them are irreversible, verified up only.
    pub irreversible: usize,
    /// What verification ran differently from a real run, one line each, naming the file and
    /// line: "`000004_idx.up.sql` line 2: run without `CONCURRENTLY` …".
    pub notes: Vec<String>,
    /// Where rows could not be compared: empty tables verification could not make up a row
    /// for, and migrations that failed on made-up rows and were verified without them.
    pub unfilled: Vec<String>,
}

/// A foreign-key column's made-up value: the first key of the table it references, as SQL
/// (`fill_one`'s query, per column `a` of the table).
const FOREIGN_VALUE: &str = "(SELECT '(SELECT ' || quote_ident(pa.attname) || ' FROM ' \
     || k.confrelid::regclass::text || ' LIMIT 1)' FROM pg_constraint k \
     JOIN pg_attribute pa ON pa.attrelid = k.confrelid AND pa.attnum = k.confkey[1] \
     WHERE k.conrelid = a.attrelid AND k.contype = 'f' AND cardinality(k.conkey) = 1 \
     AND k.conkey[1] = a.attnum LIMIT 1)";

/// A column's made-up value from its type (a domain's: from its base type), as SQL cast to
/// the column's type; NULL where no value fits every type of its kind.
const TYPED_VALUE: &str = "(CASE coalesce(b.typcategory, t.typcategory) \
     WHEN 'N' THEN '''1''' WHEN 'S' THEN '''a''' WHEN 'B' THEN '''true''' \
     WHEN 'D' THEN CASE WHEN coalesce(b.typname, t.typname) IN ('time', 'timetz') \
        THEN '''12:00''' ELSE '''2000-01-01 12:00''' END \
     WHEN 'T' THEN '''1 day''' WHEN 'I' THEN '''127.0.0.1''' WHEN 'A' THEN '''{}''' \
     WHEN 'E' THEN (SELECT quote_literal(e.enumlabel) FROM pg_enum e \
        WHERE e.enumtypid = coalesce(b.oid, t.oid) ORDER BY e.enumsortorder LIMIT 1) \
     WHEN 'U' THEN CASE coalesce(b.typname, t.typname) \
        WHEN 'uuid' THEN '''00000000-0000-4000-8000-000000000001''' \
        WHEN 'json' THEN '''{}''' WHEN 'jsonb' THEN '''{}''' WHEN 'bytea' THEN '''\\x00''' END \
     END || '::' || format_type(a.atttypid, a.atttypmod))";

/// How many row differences to show per table.
const ROWS_SHOWN: usize = 3;

/// Verifies a checked set (versions in order, as [`migrate_core::check()`] returns it) on the
/// server `client` is connected to, in one transaction rolled back at the end.
///
/// # Errors
/// Every finding: each down that fails or does not undo its up, and the first up that fails
/// (verification stops there, since the migrations after it build on it). A server that
/// cannot be reached or refuses to start the transaction is one finding without a file.
pub async fn verify<C: Client>(
    table: &[Migration],
    client: &mut C,
) -> Result<Verified, Vec<Finding>> {
    let scratch = scratch_name();
    let begin =
        format!("BEGIN; CREATE SCHEMA {scratch}; SET LOCAL search_path TO {scratch}, public");
    client
        .batch(&begin)
        .await
        .map_err(|error| vec![server_finding("start verification's transaction", &error)])?;
    let result = Verifier {
        client: &mut *client,
        scratch: &scratch,
        findings: Vec::new(),
        verified: Verified::default(),
    }
    .run(table)
    .await;
    let rollback = client.batch("ROLLBACK").await;
    let mut result = result;
    if let Err(error) = rollback {
        let finding = server_finding("roll verification's transaction back", &error);
        match &mut result {
            Ok(_) => result = Err(vec![finding]),
            Err(findings) => findings.push(finding),
        }
    }
    result
}

/// [`verify`] on the `postgres` crate's blocking client.
///
/// # Errors
/// As [`verify`].
#[cfg(feature = "postgres")]
pub fn verify_blocking(
    table: &[Migration],
    client: &mut postgres::Client,
) -> Result<Verified, Vec<Finding>> {
    super::client::block_on(verify(table, client))
}

/// A schema name of this verification's own: several may run on one database at once.
fn scratch_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "migrate_verify_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn server_finding(doing: &str, error: &tokio_postgres::Error) -> Finding {
    Finding {
        file: String::new(),
        line: None,
        message: format!(
            "verification could not {doing} on the PostgreSQL server: {}",
            describe(error)
        ),
    }
}

/// The server's message with its detail and hint, or the client's error.
fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => {
            let mut out = db.message().to_owned();
            if let Some(detail) = db.detail() {
                out.push_str(&format!(" ({detail})"));
            }
            if let Some(hint) = db.hint() {
                out.push_str(&format!("; PostgreSQL's hint: {hint}"));
            }
            out
        }
        None => {
            // The client's own error: its causes say what happened ("connection closed").
            let mut out = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                out.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            out
        }
    }
}

/// The step a statement failed in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Up,
    Down,
    UpAgain,
    /// Every down, from the last back to nothing.
    AllDowns,
}

/// Why the loop stops.
enum Stop {
    /// A finding that leaves the set unverifiable from there on.
    Finding(Finding),
    /// The server or the connection failed outside a migration's statements.
    Server(Finding),
    /// The up or the down failed on rows verification made up (the server's message): verify
    /// the migration again without them.
    Refill(String),
}

struct Verifier<'a, C> {
    client: &'a mut C,
    scratch: &'a str,
    findings: Vec<Finding>,
    verified: Verified,
}

impl<C: Client> Verifier<'_, C> {
    async fn run(mut self, table: &[Migration]) -> Result<Verified, Vec<Finding>> {
        match self.each(table).await {
            Ok(()) => {}
            Err(Stop::Finding(finding) | Stop::Server(finding)) => self.findings.push(finding),
            // Only a migration's own loop asks for this, and handles it.
            Err(Stop::Refill(message)) => self.findings.push(Finding {
                file: String::new(),
                line: None,
                message,
            }),
        }
        if self.findings.is_empty() {
            Ok(self.verified)
        } else {
            Err(self.findings)
        }
    }

    async fn each(&mut self, table: &[Migration]) -> Result<(), Stop> {
        let start = self.catalog().await?;
        for migration in table {
            // Rows are compared, and so made up for empty tables, only where a down must give
            // them back, inside verification's transaction.
            let mut fill = migration.irreversible().is_none()
                && migration.lossy_down().is_none()
                && !migration.up().no_transaction()
                && !migration.down().no_transaction();
            loop {
                self.sql("SAVEPOINT migrate_verify_migration").await?;
                let filled = if fill {
                    self.fill(&start, migration).await?
                } else {
                    Vec::new()
                };
                match self.migration(migration, &start, &filled).await {
                    Ok(()) if filled.is_empty() => {
                        self.sql("RELEASE SAVEPOINT migrate_verify_migration")
                            .await?;
                    }
                    // The rows verification made up go, and the up runs again on the tables
                    // as they were: what a deployment finds.
                    Ok(()) => {
                        self.sql(
                            "ROLLBACK TO SAVEPOINT migrate_verify_migration; \
                             RELEASE SAVEPOINT migrate_verify_migration",
                        )
                        .await?;
                        self.script(migration, Phase::Up).await?;
                    }
                    Err(Stop::Refill(error)) => {
                        self.sql(
                            "ROLLBACK TO SAVEPOINT migrate_verify_migration; \
                             RELEASE SAVEPOINT migrate_verify_migration",
                        )
                        .await?;
                        self.verified.unfilled.push(format!(
                            "`{}` failed on the rows verification made up for {}, so it was \
                             verified on the tables as they were: {error}",
                            migration.up().file_name(),
                            filled
                                .iter()
                                .map(|t| format!("`{t}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                        fill = false;
                        continue;
                    }
                    Err(stop) => return Err(stop),
                }
                break;
            }
        }
        if self.findings.is_empty() && self.verified.irreversible == 0 {
            self.all_downs(table, &start).await?;
        }
        Ok(())
    }

    /// Up, then (unless irreversible) down, compare, up again. With `filled` tables, a failing
    /// up or down asks to verify the migration again without them.
    async fn migration(
        &mut self,
        migration: &Migration,
        start: &Catalog,
        filled: &[String],
    ) -> Result<(), Stop> {
        let before = self.catalog().await?;
        let rows_before = if migration.lossy_down().is_none() {
            self.rows(start, &before).await?
        } else {
            BTreeMap::new()
        };
        if let Err(finding) = self.script(migration, Phase::Up).await {
            return Err(if filled.is_empty() {
                Stop::Finding(finding)
            } else {
                Stop::Refill(finding.message)
            });
        }
        if migration.irreversible().is_some() {
            self.verified.migrations += 1;
            self.verified.irreversible += 1;
            return Ok(());
        }
        self.sql("SAVEPOINT migrate_verify_down").await?;
        match self
            .round_trip(migration, start, &before, &rows_before, filled)
            .await
        {
            Ok(()) => self.sql("RELEASE SAVEPOINT migrate_verify_down").await?,
            Err(Stop::Finding(finding)) => {
                self.findings.push(finding);
                // Back to the state after the up, which is right: carry on from there.
                self.sql(
                    "ROLLBACK TO SAVEPOINT migrate_verify_down; \
                     RELEASE SAVEPOINT migrate_verify_down",
                )
                .await?;
            }
            Err(other) => return Err(other),
        }
        self.verified.migrations += 1;
        Ok(())
    }

    /// Inserts one made-up row into each empty table the set created, so a down that loses
    /// or changes rows is seen even where the set inserts none: values from each column's type
    /// (an enum's first label, a referenced table's first key), defaults where there are any.
    /// Returns the tables filled; a table that refuses its row stays empty (noted).
    async fn fill(&mut self, start: &Catalog, migration: &Migration) -> Result<Vec<String>, Stop> {
        let now = self.catalog().await?;
        let rows = self.rows(start, &now).await?;
        let mut empty: Vec<(String, String)> = now
            .tables()
            .filter(|t| t.options.starts_with("table") || t.options.starts_with("partitioned"))
            .filter(|t| rows.get(&t.name).is_some_and(|r| r.rows.is_empty()))
            .map(|t| (t.name.clone(), t.sql_name.clone()))
            .collect();
        let mut filled = Vec::new();
        let mut refused: BTreeMap<String, String> = BTreeMap::new();
        // A table whose foreign key needs another's row is filled in a later pass.
        while !empty.is_empty() {
            let mut progress = false;
            let mut left = Vec::new();
            for (name, sql_name) in empty {
                match self.fill_one(&sql_name).await? {
                    Ok(()) => {
                        progress = true;
                        refused.remove(&name);
                        filled.push(name);
                    }
                    Err(error) => {
                        refused.insert(name.clone(), error);
                        left.push((name, sql_name));
                    }
                }
            }
            empty = left;
            if !progress {
                break;
            }
        }
        for (table, error) in refused {
            self.verified.unfilled.push(format!(
                "before `{}`: `{table}` was left empty: verification could not make up a row \
                 for it: {error}",
                migration.up().file_name()
            ));
        }
        Ok(filled)
    }

    /// One made-up row into `table`, in a savepoint of its own; the server's refusal as text.
    async fn fill_one(&mut self, table: &str) -> Result<Result<(), String>, Stop> {
        let query = format!(
            "SELECT coalesce(string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum), ''), \
             coalesce(string_agg(coalesce({FOREIGN_VALUE}, {TYPED_VALUE}, 'NULL'), ', ' \
                ORDER BY a.attnum), '') \
             FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid \
             LEFT JOIN pg_type b ON b.oid = t.typbasetype \
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE a.attrelid = '{}'::regclass AND a.attnum > 0 AND NOT a.attisdropped \
             AND a.attidentity = '' AND a.attgenerated = '' AND d.adbin IS NULL",
            table.replace('\'', "''")
        );
        let rows = self
            .client
            .query(&query, &[])
            .await
            .map_err(|error| Stop::Server(server_finding("read a table's columns", &error)))?;
        let (columns, values): (String, String) = match rows.first() {
            Some(row) => (row.get(0), row.get(1)),
            None => (String::new(), String::new()),
        };
        let insert = if columns.is_empty() {
            format!("INSERT INTO {table} DEFAULT VALUES")
        } else {
            format!("INSERT INTO {table} ({columns}) VALUES ({values})")
        };
        self.sql("SAVEPOINT migrate_verify_fill").await?;
        match self.client.batch(&insert).await {
            Ok(()) => {
                self.sql("RELEASE SAVEPOINT migrate_verify_fill").await?;
                Ok(Ok(()))
            }
            Err(error) => {
                self.sql(
                    "ROLLBACK TO SAVEPOINT migrate_verify_fill; \
                     RELEASE SAVEPOINT migrate_verify_fill",
                )
                .await?;
                Ok(Err(describe(&error)))
            }
        }
    }

    /// Every down from the last back to nothing leaves the database as verification found it
    /// (each down was checked on its own; this catches a down that relies on a later up).
    async fn all_downs(&mut self, table: &[Migration], start: &Catalog) -> Result<(), Stop> {
        let Some(last) = table.last() else {
            return Ok(());
        };
        for migration in table.iter().rev() {
            self.script(migration, Phase::AllDowns).await?;
        }
        let now = self.catalog().await?;
        let differences = catalog::differences(start, &now, 0, false);
        if let Some(first) = differences.first() {
            return Err(Stop::Finding(Finding {
                file: last.down().file_name().to_owned(),
                line: None,
                message: format!(
                    "running every down from {} back to nothing does not leave the database as \
                     it was before the first up: it {first}; make each down remove what its up \
                     creates",
                    format_version(last.version())
                ),
            }));
        }
        Ok(())
    }

    /// Down, compare with `before` (and `rows_before`), up again.
    async fn round_trip(
        &mut self,
        migration: &Migration,
        start: &Catalog,
        before: &Catalog,
        rows_before: &BTreeMap<String, Rows>,
        filled: &[String],
    ) -> Result<(), Stop> {
        if let Err(finding) = self.script(migration, Phase::Down).await {
            // A down that fails on made-up rows may not fail on users' data.
            return Err(if filled.is_empty() {
                Stop::Finding(finding)
            } else {
                Stop::Refill(finding.message)
            });
        }
        let after = self.catalog().await?;
        let mut differences = catalog::differences(
            before,
            &after,
            migration.version(),
            migration.lossy_down().is_some(),
        );
        let rows_after = self.rows(start, &after).await?;
        let mut rows_differ = false;
        for (name, old) in rows_before {
            // A table dropped or reshaped by the down is the schema comparison's to report.
            let Some(new) = rows_after.get(name) else {
                continue;
            };
            let Some(new) = new.aligned_to(&old.columns, |a, b| a == b) else {
                continue;
            };
            let (shown, total) = rows::differences(old, &new, ROWS_SHOWN);
            if total > 0 {
                rows_differ = true;
                let more = if total > shown.len() {
                    format!("; and {} more", total - shown.len())
                } else {
                    String::new()
                };
                let made_up = if filled.contains(name) {
                    " (it was empty, so verification made up a row for it from its columns' types)"
                } else {
                    ""
                };
                differences.push(format!(
                    "changes the rows of `{name}`, which existed before {}{made_up}: {}{more}",
                    format_version(migration.version()),
                    shown.join(", ")
                ));
            }
        }
        if !differences.is_empty() {
            let down = migration.down().file_name();
            return Err(Stop::Finding(Finding {
                file: down.to_owned(),
                line: None,
                message: format!(
                    "`{down}` does not undo `{}`: it {}; make the down undo exactly what the up \
                     does{}",
                    migration.up().file_name(),
                    differences.join("; it "),
                    if rows_differ {
                        ", or, if losing those rows is intended, add `-- migrate:lossy-down \
                         <reason>` to it"
                    } else {
                        ""
                    }
                ),
            }));
        }
        self.script(migration, Phase::UpAgain)
            .await
            .map_err(Stop::Finding)
    }

    /// Runs one script statement by statement, so a failure names its line.
    async fn script(&mut self, migration: &Migration, phase: Phase) -> Result<(), Finding> {
        let script = match phase {
            Phase::Up | Phase::UpAgain => migration.up(),
            Phase::Down | Phase::AllDowns => migration.down(),
        };
        let file = script.file_name();
        let sql = script.sql();
        for statement in split::statements(sql) {
            let line = line_col(sql, statement.start).0;
            if let Some(keyword) = transaction_control(statement.text) {
                return Err(Finding {
                    file: file.to_owned(),
                    line: Some(line),
                    message: format!(
                        "`{file}` line {line}: `{keyword}` controls the transaction, which is not \
                         the migration's: every migration runs inside the runtime's transaction \
                         (and verification inside one it rolls back): remove it, and mark the \
                         file `-- migrate:no-transaction` if it must not run in a transaction"
                    ),
                });
            }
            let mut text = statement.text.to_owned();
            if script.no_transaction() {
                match adapt(statement.text) {
                    Adapted::AsIs => {}
                    Adapted::Skip(what) => {
                        if matches!(phase, Phase::Up | Phase::Down) {
                            self.note(format!(
                                "`{file}` line {line}: `{what}` skipped: it cannot run in \
                                 verification's transaction, and changes neither schema nor rows"
                            ));
                        }
                        continue;
                    }
                    Adapted::Rewritten(sql) => {
                        if matches!(phase, Phase::Up | Phase::Down) {
                            self.note(format!(
                                "`{file}` line {line}: run without `CONCURRENTLY`, inside \
                                 verification's transaction (the same index; only the locks \
                                 taken differ)"
                            ));
                        }
                        text = sql;
                    }
                }
            }
            if let Err(error) = self.client.batch(&text).await {
                return Err(self.failure(migration, phase, file, sql, &statement, &error));
            }
        }
        Ok(())
    }

    /// Records what verification ran differently, once (an up may run more than once).
    fn note(&mut self, note: String) {
        if !self.verified.notes.contains(&note) {
            self.verified.notes.push(note);
        }
    }

    /// The finding for a statement that failed.
    fn failure(
        &self,
        migration: &Migration,
        phase: Phase,
        file: &str,
        sql: &str,
        statement: &split::Statement<'_>,
        error: &tokio_postgres::Error,
    ) -> Finding {
        let mut offset = statement.start;
        let mut column = None;
        if let Some(ErrorPosition::Original(position)) =
            error.as_db_error().and_then(|db| db.position())
        {
            // A character position, 1-based, in the statement as sent.
            let within = statement
                .text
                .char_indices()
                .nth((*position as usize).saturating_sub(1))
                .map_or(0, |(i, _)| i);
            offset += within;
            column = Some(line_col(sql, offset).1);
        }
        let line = line_col(sql, offset).0;
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
        let hint = if error.code() == Some(&SqlState::ACTIVE_SQL_TRANSACTION) {
            if migration.script(direction(phase)).no_transaction() {
                "; verification runs every migration inside one transaction that it rolls back, \
                 so it cannot run this statement: this migration and the ones after it are not \
                 verified"
            } else {
                "; if it must run outside a transaction, add `-- migrate:no-transaction` to the \
                 file (verification then runs `CREATE INDEX CONCURRENTLY` without `CONCURRENTLY`)"
            }
        } else if error.code() == Some(&SqlState::UNSAFE_NEW_ENUM_VALUE_USAGE) {
            "; verification runs the whole set in one transaction, and PostgreSQL refuses a \
             label in the transaction that added it: a migration that uses a label an earlier \
             one adds cannot be verified (at deploy time, add the label in a \
             `-- migrate:no-transaction` migration, so that it is committed before it is used)"
        } else {
            ""
        };
        Finding {
            file: file.to_owned(),
            line: Some(line),
            message: format!(
                "`{file}` {place}: {} (in `{}`){context}{hint}",
                // The scratch schema is verification's, not the user's.
                describe(error).replace(&format!("{}.", self.scratch), ""),
                excerpt(statement.text, 60)
            ),
        }
    }

    async fn sql(&mut self, sql: &str) -> Result<(), Stop> {
        self.client
            .batch(sql)
            .await
            .map_err(|error| Stop::Server(server_finding("run its own statements", &error)))
    }

    async fn catalog(&mut self) -> Result<Catalog, Stop> {
        catalog::read(self.client, self.scratch)
            .await
            .map_err(|error| Stop::Server(server_finding("read the catalogue", &error)))
    }

    /// The rows of each table in `now` that the set created (not in `start`).
    async fn rows(
        &mut self,
        start: &Catalog,
        now: &Catalog,
    ) -> Result<BTreeMap<String, Rows>, Stop> {
        let existing: Vec<&String> = start.tables().map(|t| &t.name).collect();
        let mut out = BTreeMap::new();
        for table in now.tables() {
            if existing.contains(&&table.name) || table.options.starts_with("foreign") {
                continue;
            }
            if table.columns.is_empty() {
                continue;
            }
            let columns: Vec<String> = table
                .columns
                .iter()
                .map(|c| format!("\"{}\"::text", c.replace('"', "\"\"")))
                .collect();
            let query = format!("SELECT {} FROM {}", columns.join(", "), table.sql_name);
            let rows = self
                .client
                .query(&query, &[])
                .await
                .map_err(|error| Stop::Server(server_finding("read the rows", &error)))?;
            let mut rows: Vec<Vec<String>> = rows
                .iter()
                .map(|row| {
                    (0..table.columns.len())
                        .map(|i| literal(row.get::<_, Option<String>>(i)))
                        .collect()
                })
                .collect();
            rows.sort();
            let key = table
                .primary_key
                .iter()
                .filter_map(|k| table.columns.iter().position(|c| c == k))
                .collect();
            out.insert(
                table.name.clone(),
                Rows {
                    columns: table.columns.clone(),
                    key,
                    rows,
                },
            );
        }
        Ok(out)
    }
}

impl From<Finding> for Stop {
    fn from(finding: Finding) -> Stop {
        Stop::Finding(finding)
    }
}

fn direction(phase: Phase) -> migrate_core::Direction {
    match phase {
        Phase::Up | Phase::UpAgain => migrate_core::Direction::Up,
        Phase::Down | Phase::AllDowns => migrate_core::Direction::Down,
    }
}

/// A value as messages show it: a number as is, text quoted, `NULL`.
fn literal(value: Option<String>) -> String {
    match value {
        None => "NULL".to_owned(),
        Some(v)
            if v.parse::<f64>().is_ok() && !v.is_empty() && !v.contains(char::is_whitespace) =>
        {
            v
        }
        Some(v) => format!("'{}'", v.replace('\'', "''")),
    }
}

/// What verification does with a statement of a `-- migrate:no-transaction` script.
#[derive(Debug, PartialEq, Eq)]
enum Adapted {
    AsIs,
    /// Not run: it changes nothing verification compares, and cannot run in a transaction.
    Skip(String),
    /// Run as this text instead.
    Rewritten(String),
}

fn adapt(statement: &str) -> Adapted {
    let words = leading_words(statement);
    let upper: Vec<String> = words.iter().map(|(_, w)| w.to_ascii_uppercase()).collect();
    let first = upper.first().map_or("", String::as_str);
    if first == "VACUUM" {
        return Adapted::Skip(excerpt(statement, 60));
    }
    let concurrent = matches!(first, "CREATE" | "DROP" | "REINDEX")
        && (upper.get(1).is_some_and(|w| w == "INDEX")
            || first == "REINDEX"
            || (upper.get(1).is_some_and(|w| w == "UNIQUE")
                && upper.get(2).is_some_and(|w| w == "INDEX")));
    if concurrent && let Some(index) = upper.iter().position(|w| w == "CONCURRENTLY") {
        let (start, word) = words[index];
        return Adapted::Rewritten(format!(
            "{}{}",
            &statement[..start],
            &statement[start + word.len()..]
        ));
    }
    Adapted::AsIs
}

/// The keyword of a statement that starts, ends or prepares a transaction (`BEGIN`, `START
/// TRANSACTION`, `COMMIT`, `END`, `ROLLBACK` but not `ROLLBACK TO`, `ABORT`, `PREPARE
/// TRANSACTION`), uppercased.
fn transaction_control(statement: &str) -> Option<String> {
    let words = leading_words(statement);
    let upper: Vec<String> = words.iter().map(|(_, w)| w.to_ascii_uppercase()).collect();
    let second = upper.get(1).map_or("", String::as_str);
    let controls = match upper.first().map_or("", String::as_str) {
        "BEGIN" | "COMMIT" | "END" | "ABORT" => true,
        "START" | "PREPARE" => second == "TRANSACTION",
        "ROLLBACK" => second != "TO",
        _ => false,
    };
    controls.then(|| {
        let take = if matches!(upper[0].as_str(), "START" | "PREPARE") {
            2
        } else {
            1
        };
        upper[..take].join(" ")
    })
}

/// The leading words of a statement with their offsets, up to the first token that is not a
/// plain word.
fn leading_words(statement: &str) -> Vec<(usize, &str)> {
    let mut words = Vec::new();
    let mut rest = statement;
    while words.len() < 6 {
        let trimmed = rest.trim_start();
        let skipped = rest.len() - trimmed.len();
        let len = trimmed
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(trimmed.len());
        if len == 0 {
            break;
        }
        let start = statement.len() - rest.len() + skipped;
        words.push((start, &trimmed[..len]));
        rest = &trimmed[len..];
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrently_is_taken_out_of_index_statements_only() {
        assert_eq!(
            adapt("CREATE UNIQUE INDEX CONCURRENTLY orders_ref ON orders (ref)"),
            Adapted::Rewritten("CREATE UNIQUE INDEX  orders_ref ON orders (ref)".to_owned())
        );
        assert_eq!(
            adapt("drop index concurrently if exists orders_ref"),
            Adapted::Rewritten("drop index  if exists orders_ref".to_owned())
        );
        assert_eq!(
            adapt("REINDEX INDEX CONCURRENTLY orders_ref"),
            Adapted::Rewritten("REINDEX INDEX  orders_ref".to_owned())
        );
        assert_eq!(
            adapt("VACUUM ANALYZE orders"),
            Adapted::Skip("VACUUM ANALYZE orders".to_owned())
        );
        assert_eq!(adapt("ALTER TYPE s ADD VALUE 'x'"), Adapted::AsIs);
        assert_eq!(adapt("CREATE TABLE concurrently (a int)"), Adapted::AsIs);
    }

    #[test]
    fn transaction_control_is_recognised_by_its_first_words() {
        for (sql, keyword) in [
            ("BEGIN", Some("BEGIN")),
            ("commit", Some("COMMIT")),
            ("END", Some("END")),
            ("ROLLBACK", Some("ROLLBACK")),
            ("ROLLBACK TO SAVEPOINT a", None),
            (
                "START TRANSACTION ISOLATION LEVEL SERIALIZABLE",
                Some("START TRANSACTION"),
            ),
            ("PREPARE TRANSACTION 'x'", Some("PREPARE TRANSACTION")),
            ("PREPARE q AS SELECT 1", None),
            (
                "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql",
                None,
            ),
        ] {
            assert_eq!(transaction_control(sql).as_deref(), keyword, "{sql}");
        }
    }

    #[test]
    fn values_are_shown_as_literals() {
        assert_eq!(literal(None), "NULL");
        assert_eq!(literal(Some("42.50".to_owned())), "42.50");
        assert_eq!(literal(Some("it's".to_owned())), "'it''s'");
    }
}
