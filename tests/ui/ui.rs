//! Compile-fail tests: every mistake in a migrations directory is a compile error that names
//! the file and says what to do. Each `tests/ui/<case>.rs` embeds `fixtures/<case>/`.

#[test]
fn ui() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
    // SAFETY: this test binary holds this one test, so no other thread reads the environment.
    // trybuild's cargo and the macro it runs inherit the variable.
    unsafe { std::env::set_var("MIGRATE_MANIFEST_DIR", fixtures) };
    let cases = trybuild::TestCases::new();
    cases.compile_fail("cases/*.rs");
}
