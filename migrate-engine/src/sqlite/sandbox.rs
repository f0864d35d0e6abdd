//! The compile-time sandbox: the in-memory database that verification runs migrations in,
//! built so that no statement can reach the file system or load code, whatever its spelling.
//!
//! What holds it, each by construction rather than by recognising statements:
//! - the database is `:memory:`;
//! - every `ATTACH` is refused by the authorizer, whatever its argument (a literal, an
//!   expression, a URI), except the nameless temporary database `VACUUM` attaches for itself:
//!   that one is held in memory (below). `VACUUM INTO 'file'` attaches its file the same way,
//!   so it is refused too, as is every `DETACH`;
//! - at most one database can be attached (`SQLITE_LIMIT_ATTACHED = 1`, the slot `VACUUM`
//!   needs), and attached databases can be neither created nor written
//!   (`SQLITE_DBCONFIG_ENABLE_ATTACH_CREATE` and `…_ATTACH_WRITE` off; `VACUUM` lifts both for
//!   its own temporary database only);
//! - temporary storage is memory (`PRAGMA temp_store = MEMORY`): sorts, temporary tables and
//!   indexes, statement journals and `VACUUM`'s copy never spill to temporary files, and a
//!   migration cannot set `temp_store` (nor the deprecated directory pragmas);
//! - extension loading stays off (the connection never enables it, and the authorizer refuses
//!   `load_extension()`).

use rusqlite::config::DbConfig;
use rusqlite::ffi;
use rusqlite::hooks::AuthAction;
use rusqlite::limits::Limit;
use rusqlite::{Connection, OpenFlags};

/// Opens the sandboxed in-memory database. The caller installs an authorizer that consults
/// [`refusal`] for every action.
pub(crate) fn open() -> rusqlite::Result<Connection> {
    // Without SQLITE_OPEN_URI (the bundled SQLite accepts URI names everywhere anyway, which is
    // why every ATTACH is refused rather than only some names).
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(":memory:", flags)?;
    // One slot, for the nameless temporary database `VACUUM` attaches.
    conn.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 1)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_ATTACH_CREATE, false)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_ATTACH_WRITE, false)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(conn)
}

/// A sandboxed scratch database for reading back a schema object's text alone: the text comes
/// from the verified database's `sqlite_master`, which a migration can rewrite
/// (`PRAGMA writable_schema`), so it gets the same sandbox and refuses what [`refusal`] names.
pub(crate) fn scratch() -> rusqlite::Result<Connection> {
    let mut conn = open()?;
    conn.authorizer(Some(
        |context: rusqlite::hooks::AuthContext<'_>| match refusal(&context.action) {
            Some(_) => rusqlite::hooks::Authorization::Deny,
            None => rusqlite::hooks::Authorization::Allow,
        },
    ))?;
    Ok(conn)
}

/// Why the sandbox refuses an action, in words for the message (`None`: allowed).
pub(crate) fn refusal(action: &AuthAction<'_>) -> Option<String> {
    match action {
        // `VACUUM` attaches SQLite's own nameless temporary database, held in memory.
        AuthAction::Attach { filename: "" } => None,
        AuthAction::Attach { filename } => Some(format!(
            "attaching the database file `{filename}` (`ATTACH`, `VACUUM INTO`)"
        )),
        // SQLite gives no file name when it is an expression: refused just the same.
        AuthAction::Unknown {
            code: ffi::SQLITE_ATTACH,
            ..
        } => Some("`ATTACH` of a file named by an expression".to_owned()),
        AuthAction::Detach { .. }
        | AuthAction::Unknown {
            code: ffi::SQLITE_DETACH,
            ..
        } => Some("`DETACH`".to_owned()),
        AuthAction::Function { function_name }
            if function_name.eq_ignore_ascii_case("load_extension") =>
        {
            Some("`load_extension()`".to_owned())
        }
        AuthAction::Pragma {
            pragma_name,
            pragma_value,
        } => {
            let sets_directory = ["temp_store_directory", "data_store_directory"]
                .iter()
                .any(|p| pragma_name.eq_ignore_ascii_case(p));
            let sets_temp_store =
                pragma_name.eq_ignore_ascii_case("temp_store") && pragma_value.is_some();
            (sets_directory || sets_temp_store)
                .then(|| format!("`PRAGMA {}` (it would let SQLite write files)", pragma_name))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_storage_is_memory() {
        let conn = open().unwrap();
        let store: i64 = conn
            .query_row("PRAGMA temp_store", [], |r| r.get(0))
            .unwrap();
        assert_eq!(store, 2);
    }

    #[test]
    fn scratch_databases_refuse_attach() {
        let conn = scratch().unwrap();
        let error = conn
            .execute_batch("CREATE TABLE t (x); ATTACH '' || 'x.db' AS p;")
            .unwrap_err();
        assert!(error.to_string().contains("not authorized"), "{error}");
    }

    #[test]
    fn refuses_every_attach_but_vacuums_own() {
        assert_eq!(refusal(&AuthAction::Attach { filename: "" }), None);
        for filename in ["/tmp/x.db", ":memory:", "file:x?mode=memory"] {
            assert!(refusal(&AuthAction::Attach { filename }).is_some());
        }
        let expression = AuthAction::Unknown {
            code: ffi::SQLITE_ATTACH,
            arg1: None,
            arg2: None,
        };
        assert!(refusal(&expression).is_some());
    }
}
