//! Timestamped versions on real database files: a set named the way golang-migrate's
//! `migrate create` names files (`20240731203656_init.up.sql`) runs up, down and to any of its
//! versions, and a migration merged late with a version older than the database's is refused
//! instead of skipped forever.

use std::path::{Path, PathBuf};

use migrate_runtime::rusqlite::Connection;
use migrate_runtime::{Error, Migrations};
use tempfile::TempDir;

use super::runtime::dump;

const USERS: (&str, &str, &str) = (
    "20240731203656_create_users",
    "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);",
    "DROP TABLE users;",
);
const SESSIONS: (&str, &str, &str) = (
    "20240802091500_create_sessions",
    "CREATE TABLE sessions (\n    token TEXT PRIMARY KEY,\n    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE\n);",
    "DROP TABLE sessions;",
);
/// Written on a branch on 2024-08-05, merged after `PASSKEYS` had been deployed.
const AUDIT: (&str, &str, &str) = (
    "20240805110000_audit_log",
    "CREATE TABLE audit_log (id INTEGER PRIMARY KEY, user_id INTEGER, action TEXT NOT NULL);",
    "DROP TABLE audit_log;",
);
const PASSKEYS: (&str, &str, &str) = (
    "20240912174233_passkey_backup_flags.",
    "ALTER TABLE users ADD COLUMN passkey_backup_eligible INTEGER NOT NULL DEFAULT 0;",
    "ALTER TABLE users DROP COLUMN passkey_backup_eligible;",
);

/// A migrations directory and a database file beside it.
struct Project {
    dir: TempDir,
}

impl Project {
    fn new(migrations: &[(&str, &str, &str)]) -> Project {
        let project = Project {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir(project.migrations_dir()).unwrap();
        for migration in migrations {
            project.add(*migration);
        }
        project
    }

    fn migrations_dir(&self) -> PathBuf {
        self.dir.path().join("migrations")
    }

    fn add(&self, (name, up, down): (&str, &str, &str)) {
        let dir = self.migrations_dir();
        std::fs::write(dir.join(format!("{name}.up.sql")), up).unwrap();
        std::fs::write(dir.join(format!("{name}.down.sql")), down).unwrap();
    }

    fn rename(&self, from: &str, to: &str) {
        let dir = self.migrations_dir();
        for direction in ["up", "down"] {
            std::fs::rename(
                dir.join(format!("{from}.{direction}.sql")),
                dir.join(format!("{to}.{direction}.sql")),
            )
            .unwrap();
        }
    }

    fn migrations(&self) -> Migrations {
        Migrations::from_dir(self.migrations_dir()).unwrap_or_else(|p| panic!("{p}"))
    }

    fn open(&self) -> Connection {
        open(&self.dir.path().join("app.db"))
    }
}

fn open(path: &Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.pragma_update(None, "foreign_keys", true).unwrap();
    conn
}

fn tables(conn: &Connection) -> Vec<String> {
    let mut statement = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'schema_migrations%' ORDER BY name",
        )
        .unwrap();
    statement
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn a_timestamped_set_goes_up_down_and_to_each_of_its_versions() {
    let project = Project::new(&[USERS, SESSIONS, AUDIT, PASSKEYS]);
    let migrations = project.migrations();
    let mut conn = project.open();

    let report = migrations.up(&mut conn).unwrap();
    assert_eq!(report.steps.len(), 4);
    assert_eq!(
        migrations.version(&conn).unwrap().version,
        Some(20240912174233)
    );

    // One step down lands on the previous migration's version, not on version − 1.
    let report = migrations.down(&mut conn, 1).unwrap();
    assert_eq!(report.to, Some(20240805110000));
    assert_eq!(
        migrations.version(&conn).unwrap().version,
        Some(20240805110000)
    );
    migrations.down(&mut conn, 2).unwrap();
    assert_eq!(
        migrations.version(&conn).unwrap().version,
        Some(20240731203656)
    );
    assert_eq!(tables(&conn), ["users"]);

    migrations.to(&mut conn, 20240805110000).unwrap();
    assert_eq!(tables(&conn), ["audit_log", "sessions", "users"]);
    migrations.to(&mut conn, 0).unwrap();
    assert_eq!(migrations.version(&conn).unwrap().version, None);
    assert!(tables(&conn).is_empty());
    migrations.up(&mut conn).unwrap();
    assert_eq!(tables(&conn), ["audit_log", "sessions", "users"]);
    assert!(matches!(
        migrations.down(&mut conn, 5),
        Err(Error::TooManySteps { steps: 5, .. })
    ));
}

#[test]
fn a_version_between_two_migrations_is_refused_and_changes_nothing() {
    let project = Project::new(&[USERS, SESSIONS, PASSKEYS]);
    let migrations = project.migrations();
    let mut conn = project.open();
    migrations.up(&mut conn).unwrap();
    let before = dump(&conn);
    // A mistyped version (a day too early) must not take the database down to nothing.
    let error = migrations.to(&mut conn, 20240731).unwrap_err();
    assert_eq!(
        error.to_string(),
        "there is no migration 20240731: this binary knows migrations up to 20240912174233; \
         nothing was changed"
    );
    assert!(matches!(
        migrations.force(&mut conn, 20240731),
        Err(Error::TargetOutOfRange {
            target: 20240731,
            ..
        })
    ));
    assert!(matches!(
        migrations.to(&mut conn, 20240801000000),
        Err(Error::TargetOutOfRange {
            target: 20240801000000,
            ..
        })
    ));
    assert_eq!(dump(&conn), before);
}

#[test]
fn a_migration_merged_late_with_an_older_version_is_refused_and_changes_nothing() {
    let project = Project::new(&[USERS, SESSIONS, PASSKEYS]);
    let mut conn = project.open();
    project.migrations().up(&mut conn).unwrap();

    project.add(AUDIT);
    let migrations = project.migrations();
    let before = dump(&conn);
    let error = migrations.up(&mut conn).unwrap_err();
    assert_eq!(
        error.to_string(),
        "`20240805110000_audit_log.up.sql` is older than the database's version 20240912174233 \
         but not applied to it (`schema_migrations_history` shows the database below its \
         version after a run it recorded, and no up of it since): it was most likely merged \
         after newer migrations were applied, and golang-migrate would skip it forever; nothing \
         was changed. Give it a version newer than 20240912174233 (rename the up and the down \
         file), so that the next `up` runs it. (A migration older than every run the history \
         table records, such as one golang-migrate applied before this tool was used, is taken \
         as applied: nothing tells whether it ran.)"
    );
    assert!(matches!(
        &error,
        Error::Skipped { skipped, database: 20240912174233, .. }
            if skipped == &[(20240805110000, "20240805110000_audit_log.up.sql".to_owned())]
    ));
    // `status` does not call it applied.
    let status = migrations.status(&conn).unwrap();
    let applied: Vec<(u64, bool)> = status
        .migrations
        .iter()
        .map(|m| (m.migration.version(), m.applied))
        .collect();
    assert_eq!(
        applied,
        [
            (20240731203656, true),
            (20240802091500, true),
            (20240805110000, false),
            (20240912174233, true)
        ]
    );
    // Going down would run the down of a migration that never ran: refused too.
    assert!(matches!(
        migrations.to(&mut conn, 0),
        Err(Error::Skipped { .. })
    ));
    assert!(matches!(
        migrations.down(&mut conn, 1),
        Err(Error::Skipped { .. })
    ));
    assert_eq!(dump(&conn), before);

    // What the message says to do works.
    project.rename(AUDIT.0, "20241001080000_audit_log");
    let migrations = project.migrations();
    let report = migrations.up(&mut conn).unwrap();
    assert_eq!(report.steps.len(), 1);
    assert_eq!(report.steps[0].version, 20241001080000);
    assert_eq!(tables(&conn), ["audit_log", "sessions", "users"]);
    // And the set, down and up again, is whole.
    migrations.to(&mut conn, 0).unwrap();
    migrations.up(&mut conn).unwrap();
    assert_eq!(tables(&conn), ["audit_log", "sessions", "users"]);
}

#[test]
fn older_migrations_of_a_database_without_history_are_taken_as_applied() {
    // A database golang-migrate migrated to PASSKEYS: a version table, no history table. The
    // late AUDIT cannot be told apart from a migration golang-migrate applied, so it is taken
    // as applied, as the README and the refusal's message say.
    let project = Project::new(&[USERS, SESSIONS, AUDIT, PASSKEYS]);
    let mut conn = project.open();
    conn.execute_batch(&format!(
        "{}\n{}\n{}\n\
         CREATE TABLE schema_migrations (version uint64,dirty bool);\n\
         CREATE UNIQUE INDEX version_unique ON schema_migrations (version);\n\
         INSERT INTO schema_migrations (version, dirty) VALUES (20240912174233, 0);",
        USERS.1, SESSIONS.1, PASSKEYS.1
    ))
    .unwrap();
    let migrations = project.migrations();
    let report = migrations.up(&mut conn).unwrap();
    assert!(report.steps.is_empty());
    assert_eq!(tables(&conn), ["sessions", "users"]);

    // From then on the history records every run: a migration merged late below the newest
    // one, but above a run the history records, is refused.
    migrations.down(&mut conn, 1).unwrap();
    migrations.up(&mut conn).unwrap();
    project.add((
        "20241101000000_login_attempts",
        "CREATE TABLE login_attempts (id INTEGER PRIMARY KEY);",
        "DROP TABLE login_attempts;",
    ));
    project.migrations().up(&mut conn).unwrap();
    project.add((
        "20241001000000_user_settings",
        "CREATE TABLE user_settings (user_id INTEGER PRIMARY KEY);",
        "DROP TABLE user_settings;",
    ));
    assert!(matches!(
        project.migrations().up(&mut conn),
        Err(Error::Skipped { skipped, .. }) if skipped[0].0 == 20241001000000
    ));
}

/// The golang-migrate set `tests/golang-migrate/authd` as `migrate-sqlite adopt --write` leaves it
/// (`migrate-cli/tests/cli/adopt.rs` proves the two are the same, byte for byte): the macro
/// checks and verifies it at compile time.
static AUTHD: Migrations = migrate_runtime::embed_migrations!("tests/golang-migrate/authd.adopted");

#[test]
fn the_macro_embeds_an_adopted_golang_migrate_set() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golang-migrate/authd.adopted");
    assert_eq!(AUTHD, Migrations::from_dir(&dir).unwrap());
    assert_eq!(AUTHD.len(), 8);
    let flags = AUTHD.get(20240912174233).unwrap();
    assert_eq!(flags.name(), "passkey_backup_flags.");
    assert!(AUTHD.get(20241105110000).unwrap().up().no_transaction());
    assert_eq!(
        AUTHD.get(20241020093000).unwrap().irreversible(),
        Some("display names stay: the v2.1 clients already show them")
    );
    let project = Project::new(&[]);
    let mut conn = project.open();
    AUTHD.up(&mut conn).unwrap();
    conn.execute("INSERT INTO users (email) VALUES ('ada@example.com')", [])
        .unwrap();
    conn.execute(
        "INSERT INTO sessions (token, user_id, expires_at) VALUES ('t', 1, '2025-01-01')",
        [],
    )
    .unwrap();
    // Down through the table recreation (its own transaction) and up again keeps the session.
    AUTHD.to(&mut conn, 20241028160000).unwrap();
    AUTHD.up(&mut conn).unwrap();
    let device: String = conn
        .query_row(
            "SELECT device_name FROM sessions WHERE token = 't'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(device, "");
    assert!(matches!(
        AUTHD.to(&mut conn, 0),
        Err(Error::Irreversible {
            version: 20241028160000,
            ..
        })
    ));
}

#[test]
fn several_late_migrations_are_named_in_one_message() {
    let project = Project::new(&[USERS, PASSKEYS]);
    let mut conn = project.open();
    project.migrations().up(&mut conn).unwrap();
    project.add(SESSIONS);
    project.add(AUDIT);
    let error = project.migrations().up(&mut conn).unwrap_err();
    assert_eq!(
        error.to_string(),
        "`20240802091500_create_sessions.up.sql`, `20240805110000_audit_log.up.sql` are older \
         than the database's version 20240912174233 but not applied to it \
         (`schema_migrations_history` shows the database below their version after a run it \
         recorded, and no up of them since): they were most likely merged after newer \
         migrations were applied, and golang-migrate would skip them forever; nothing was \
         changed. Give each a version newer than 20240912174233 (rename the up and the down \
         file), so that the next `up` runs them. (A migration older than every run the history \
         table records, such as one golang-migrate applied before this tool was used, is taken \
         as applied: nothing tells whether it ran.)"
    );
}

/// A database golang-migrate left dirty at a timestamp: the message names the migrations
/// around it, not the timestamp minus or plus one, which name no migration.
#[test]
fn a_dirty_timestamped_database_names_the_migrations_around_its_version() {
    let project = Project::new(&[USERS, SESSIONS, PASSKEYS]);
    let mut conn = project.open();
    conn.execute_batch(&format!(
        "{}\n\
         CREATE TABLE schema_migrations (version uint64,dirty bool);\n\
         CREATE UNIQUE INDEX version_unique ON schema_migrations (version);\n\
         INSERT INTO schema_migrations (version, dirty) VALUES (20240802091500, 1);",
        USERS.1
    ))
    .unwrap();
    let before = dump(&conn);
    let message = project.migrations().up(&mut conn).unwrap_err().to_string();
    assert!(
        message.contains(
            "the schema most likely is still that of version 20240731203656 (or of version \
             20240912174233 if a down from 20240912174233 failed)"
        ) && message.contains("usually `force 20240731203656`"),
        "{message}"
    );
    assert_eq!(dump(&conn), before, "the refusal changes nothing");
}
