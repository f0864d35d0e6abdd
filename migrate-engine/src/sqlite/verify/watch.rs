//! The verifier's authorizer: refuses what would reach outside the in-memory database (through
//! [`crate::sqlite::sandbox`]), and records what each migration writes, creates and changes, which the
//! verifier compares and fills.

use std::collections::BTreeSet;
use std::sync::{Mutex, PoisonError};

use rusqlite::hooks::{AuthAction, AuthContext, Authorization};

use crate::sqlite::sandbox;

/// What the authorizer saw: the tables written to or created, and any sandbox refusal.
#[derive(Default)]
pub(super) struct Watch {
    pub(super) written: BTreeSet<String>,
    pub(super) created: BTreeSet<String>,
    /// Names of schema objects (and their tables) that DDL created or dropped.
    pub(super) ddl: BTreeSet<String>,
    /// Whether an `ALTER TABLE` ran: a rename rewrites other objects too.
    pub(super) altered: bool,
    pub(super) refused: Option<String>,
    /// The pragmas set on the connection (their lowercase names), but `foreign_keys`, which a
    /// run makes a no-op: a setting outlives the migration that made it.
    pub(super) pragmas: BTreeSet<String>,
}

/// The authorizer: refuses what would reach outside the in-memory database, and records every
/// table written to.
pub(super) fn authorize(
    watch: &Mutex<Watch>,
    engine_tables: &[String; 2],
    context: &AuthContext<'_>,
) -> Authorization {
    if let Some(what) = sandbox::refusal(&context.action) {
        watch.lock().unwrap_or_else(PoisonError::into_inner).refused = Some(what);
        return Authorization::Deny;
    }
    let written = match context.action {
        // `VACUUM` attaches SQLite's own temporary database, which has no file name (the
        // sandbox refuses every other attach): it renumbers `sqlite_master`, so the schema
        // mirror must read it all again.
        AuthAction::Attach { .. } => {
            watch.lock().unwrap_or_else(PoisonError::into_inner).altered = true;
            return Authorization::Allow;
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
        AuthAction::Pragma {
            pragma_name,
            pragma_value: Some(_),
        } if sets_state(pragma_name) => {
            watch
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pragmas
                .insert(pragma_name.to_ascii_lowercase());
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

/// Whether `PRAGMA name = value` (or `PRAGMA name(value)`) changes the connection or the
/// database: not the pragmas whose argument names what to read (`table_info(t)`), nor
/// `foreign_keys`, which a run makes a no-op.
fn sets_state(name: &str) -> bool {
    const READS: [&str; 12] = [
        "foreign_keys",
        "foreign_key_check",
        "foreign_key_list",
        "index_info",
        "index_list",
        "index_xinfo",
        "integrity_check",
        "quick_check",
        "table_info",
        "table_list",
        "table_xinfo",
        "wal_checkpoint",
    ];
    !READS.iter().any(|read| name.eq_ignore_ascii_case(read))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rusqlite::Connection;

    use super::*;

    /// An in-memory database with the verifier's authorizer, and what it saw.
    fn watched() -> (Connection, Arc<Mutex<Watch>>) {
        let mut conn = Connection::open_in_memory().unwrap();
        let watch = Arc::new(Mutex::new(Watch::default()));
        let seen = Arc::clone(&watch);
        let engine_tables = [
            "schema_migrations_history".to_owned(),
            "schema_migrations".to_owned(),
        ];
        conn.authorizer(Some(move |context: AuthContext<'_>| {
            authorize(&seen, &engine_tables, &context)
        }))
        .unwrap();
        (conn, watch)
    }

    #[test]
    fn records_created_tables_ddl_and_writes() {
        let (conn, watch) = watched();
        conn.execute_batch(
            "CREATE TABLE Tags (id INTEGER PRIMARY KEY, name TEXT);
             CREATE INDEX tags_name ON tags (name);
             CREATE VIEW named AS SELECT name FROM tags;
             INSERT INTO tags (name) VALUES ('a');",
        )
        .unwrap();
        let watch = watch.lock().unwrap();
        assert!(watch.created.contains("tags"), "{:?}", watch.created);
        for name in ["tags", "tags_name", "named"] {
            assert!(watch.ddl.contains(name), "{name}: {:?}", watch.ddl);
        }
        assert!(watch.written.contains("tags"), "{:?}", watch.written);
        assert!(!watch.altered);
        assert_eq!(watch.refused, None);
    }

    #[test]
    fn the_engines_own_tables_are_not_the_migrations_writes() {
        let (conn, watch) = watched();
        conn.execute_batch(
            "CREATE TABLE schema_migrations (version uint64, dirty bool);
             INSERT INTO schema_migrations VALUES (1, 0);
             CREATE TABLE schema_migrations_history (version INTEGER);
             INSERT INTO schema_migrations_history VALUES (1);",
        )
        .unwrap();
        let watch = watch.lock().unwrap();
        assert!(watch.written.is_empty(), "{:?}", watch.written);
    }

    #[test]
    fn alter_table_marks_the_schema_altered() {
        let (conn, watch) = watched();
        conn.execute_batch("CREATE TABLE t (x); ALTER TABLE t RENAME TO u;")
            .unwrap();
        let watch = watch.lock().unwrap();
        assert!(watch.altered);
        assert!(watch.ddl.contains("t"), "{:?}", watch.ddl);
    }

    #[test]
    fn refuses_an_attach_and_says_what_was_refused() {
        let (conn, watch) = watched();
        let error = conn
            .execute_batch("ATTACH 'elsewhere.db' AS elsewhere;")
            .unwrap_err();
        assert!(error.to_string().contains("not authorized"), "{error}");
        let refused = watch.lock().unwrap().refused.clone();
        assert!(refused.is_some_and(|what| what.contains("elsewhere.db")));
    }
}
