//! `embed_migrations!` on valid directories: the embedded table equals what the core reads
//! from the same directory at run time, and carries every directive and checksum.

use example_service::MIGRATIONS;
use migrate_runtime::{Checksum, Migrations, embed_migrations};

fn read(relative: &str) -> Migrations {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    Migrations::from_dir(&dir).unwrap_or_else(|problems| panic!("{problems}"))
}

#[test]
fn embedded_table_equals_the_directory_read_at_run_time() {
    assert_eq!(MIGRATIONS, read("migrations"));
}

#[test]
fn introspection_lists_versions_names_and_sql() {
    assert_eq!(MIGRATIONS.len(), 4);
    assert!(!MIGRATIONS.is_empty());
    assert_eq!(MIGRATIONS.latest(), Some(4));
    let versions: Vec<(u64, &str)> = MIGRATIONS.iter().map(|m| (m.version(), m.name())).collect();
    assert_eq!(
        versions,
        [
            (1, "initial_schema"),
            (2, "quality_profile_upgrade_policy"),
            (3, "add_user_preferences"),
            (4, "movie_transition_trigger")
        ]
    );
    let second = MIGRATIONS.get(2).expect("version 2");
    assert_eq!(
        second.up().file_name(),
        "000002_quality_profile_upgrade_policy.up.sql"
    );
    assert!(
        second
            .up()
            .sql()
            .contains("ALTER TABLE \"quality_profile_new\" RENAME TO")
    );
    assert!(second.down().sql().contains("COALESCE"));
    assert!(second.up().disables_foreign_keys());
    assert!(!MIGRATIONS.get(3).unwrap().up().disables_foreign_keys());
    assert!(MIGRATIONS.get(0).is_none());
    assert!(MIGRATIONS.get(5).is_none());
    assert_eq!(MIGRATIONS.iter().next_back().map(|m| m.version()), Some(4));
}

#[test]
fn checksums_are_computed_at_compile_time_from_the_files() {
    for migration in &MIGRATIONS {
        for script in [migration.up(), migration.down()] {
            assert_eq!(
                script.checksum(),
                Checksum::of(script.sql()),
                "{}",
                script.file_name()
            );
        }
    }
}

#[test]
fn works_in_a_const_and_in_a_static() {
    const AS_CONST: Migrations = embed_migrations!("migrations");
    static AS_STATIC: Migrations = embed_migrations!("migrations");
    assert_eq!(AS_CONST, AS_STATIC);
    assert_eq!(AS_CONST.len(), MIGRATIONS.len());
}

#[test]
fn strips_the_byte_order_mark_and_keeps_crlf() {
    static BOM: Migrations = embed_migrations!("tests/fixtures/bom-crlf");
    let up = BOM.get(1).unwrap().up();
    assert!(
        up.sql().starts_with("-- saved by an editor"),
        "{:?}",
        up.sql()
    );
    assert!(up.sql().contains("\r\n"));
    assert_eq!(up.checksum(), Checksum::of(&up.sql().replace("\r\n", "\n")));
    assert_eq!(BOM, read("tests/fixtures/bom-crlf"));
}

#[test]
fn carries_directives() {
    static SET: Migrations = embed_migrations!("tests/fixtures/directives");
    assert_eq!(SET, read("tests/fixtures/directives"));
    let compact = SET.get(2).unwrap();
    assert!(compact.up().no_transaction());
    assert_eq!(
        compact.irreversible(),
        Some("VACUUM rewrites the file; there is nothing to undo")
    );
    let rebuild = SET.get(3).unwrap();
    assert!(rebuild.up().disables_foreign_keys());
    assert_eq!(rebuild.lossy_down(), Some("emails are dropped"));
    assert_eq!(SET.get(1).unwrap().irreversible(), None);
}

#[test]
fn an_empty_directory_is_an_empty_set() {
    static EMPTY: Migrations = embed_migrations!("tests/fixtures/empty");
    assert!(EMPTY.is_empty());
    assert_eq!(EMPTY.latest(), None);
}
