//! `migrate check --verify` with what a set declares, as the macro's arguments declare it:
//! `--foreign-keys unenforced` and `--function NAME/N`; and the messages of the checks that
//! came with them (NUL bytes, malformed foreign keys, undeclared functions), exactly the
//! macro's.

use crate::check::assert_same_errors_as_the_macro;
use crate::support::{Sandbox, workspace_file};

/// A first migration whose foreign key points at a column that is not unique, with rows
/// written through it: it only works with enforcement off.
fn unenforced_set(sandbox: &Sandbox) {
    sandbox.write(
        "migrations/000001_profiles.up.sql",
        "CREATE TABLE profiles (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n\
         CREATE TABLE items (id INTEGER PRIMARY KEY, profile_name TEXT REFERENCES profiles (name));\n\
         INSERT INTO profiles (name) VALUES ('sd');\n\
         INSERT INTO items (profile_name) VALUES ('sd');\n",
    );
    sandbox.write(
        "migrations/000001_profiles.down.sql",
        "DROP TABLE items;\nDROP TABLE profiles;\n",
    );
}

#[test]
fn check_verify_honours_foreign_keys_unenforced() {
    let sandbox = Sandbox::new();
    unenforced_set(&sandbox);
    let run = sandbox.run(&["check", "--verify"]);
    run.code(3);
    assert!(
        run.stderr.contains("leaves a foreign key that cannot work")
            && run.stderr.contains("foreign_keys = \"unenforced\""),
        "{run}"
    );
    sandbox
        .run(&["check", "--verify", "--foreign-keys", "unenforced"])
        .code(0);
    sandbox
        .run(&["check", "--verify", "--foreign-keys", "enforced"])
        .code(3);
}

#[test]
fn check_verify_runs_declared_functions_as_stand_ins() {
    let sandbox = Sandbox::new();
    let fixture = workspace_file("tests/ui/fixtures/verify-app-function");
    let dir = fixture.to_str().expect("a UTF-8 path");
    let run = sandbox.run(&["check", "--verify", "--dir", dir]);
    run.code(3);
    assert!(
        run.stderr.contains("no such function: slugify")
            && run.stderr.contains("--function slugify/N"),
        "{run}"
    );
    sandbox
        .run(&["check", "--verify", "--function", "slugify/1", "--dir", dir])
        .code(0);
    sandbox
        .run(&[
            "check",
            "--verify",
            "--function",
            "slugify/*",
            "--function",
            "other/0",
            "--dir",
            dir,
        ])
        .code(0);
}

#[test]
fn declarations_are_usage_errors_when_malformed_or_without_verify() {
    let sandbox = Sandbox::new();
    unenforced_set(&sandbox);
    let run = sandbox.run(&["check", "--verify", "--function", "slugify"]);
    run.code(2);
    assert!(
        run.stderr.contains("`slugify` has no number of arguments"),
        "{run}"
    );
    let run = sandbox.run(&["check", "--verify", "--foreign-keys", "off"]);
    run.code(2);
    assert!(run.stderr.contains("unenforced"), "{run}");
    // Without --verify nothing would honour them: refused rather than ignored.
    sandbox
        .run(&["check", "--foreign-keys", "unenforced"])
        .code(2);
    sandbox.run(&["check", "--function", "slugify/1"]).code(2);
}

/// `check` (and `check --verify`) print exactly the compile errors of the macro's ui cases.
#[test]
fn the_new_checks_say_exactly_what_the_macro_says() {
    assert_same_errors_as_the_macro(&["nul-byte"], &[]);
    assert_same_errors_as_the_macro(
        &[
            "verify-malformed-foreign-key",
            "verify-app-function",
            "verify-sandbox",
        ],
        &["--verify"],
    );
}
