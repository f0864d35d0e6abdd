//! `migration_tests!`: the generated per-migration tests run on the repository's migrations
//! (fresh database, upgrade from the previous version, rollback and re-apply, and the rows of
//! `migrations/fixtures/*.sql` kept), and they catch a down that loses a fixture row.

migrate_runtime::migration_tests!("migrations");

/// A set whose down loses a row that only users' data has: the seeds survive (and `posts` is
/// not empty, so verification builds no rows for it), so the compile-time verification passes;
/// the fixture catches it. Generated `ignore`d, and run below.
mod loses_a_fixture_row {
    migrate_runtime::migration_tests!("tests/fixtures/loses-fixture-row", ignore);
}

fn panic_message(result: std::thread::Result<()>) -> String {
    let payload = result.expect_err("the generated test should fail");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

#[test]
fn the_generated_tests_catch_a_down_that_loses_a_fixture_row() {
    use loses_a_fixture_row::migrations::m000002_slugs;
    let message = panic_message(std::panic::catch_unwind(
        m000002_slugs::keeps_the_fixture_rows,
    ));
    assert_eq!(
        message,
        "000002_slugs: the down does not give back the rows of `fixtures/000002.sql` in `posts`: row (id = 7) is missing"
    );
    // The other generated tests of that set pass: only the fixture shows the bug.
    m000002_slugs::upgrades_from_the_previous_version();
    m000002_slugs::rolls_back_and_reapplies();
    loses_a_fixture_row::migrations::fresh_database_reaches_the_latest_version();
}

#[test]
fn compile_time_verification_alone_lets_that_set_pass() {
    // The README's claim, checked: the down keeps the rows with `id <= 3`, so the seeds (ids 1
    // and 2) come back and verification passes; the fixture's row 7 does not. Verification
    // proves what happens to the rows it has (seeds, and rows it builds for empty tables),
    // and fixtures add rows shaped like users' data.
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/loses-fixture-row");
    let table = migrate_core::load_dir(&dir).unwrap_or_else(|p| panic!("{p}"));
    migrate_runtime::verify(&table).unwrap_or_else(|f| panic!("{f:?}"));
}
