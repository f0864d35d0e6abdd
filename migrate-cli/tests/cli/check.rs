//! `migrate check`: every rule, every problem, the macro's exact messages.

use crate::snapshot;
use crate::support::{Sandbox, workspace_file};

#[test]
fn check_passes_a_valid_directory() {
    let sandbox = Sandbox::with_migrations();
    let run = sandbox.run(&["check"]);
    run.code(0);
    snapshot!("check_ok", run);
    let run = sandbox.run(&["check", "--json"]);
    run.code(0);
    snapshot!("check_ok_json", run);
}

#[test]
fn check_passes_an_empty_directory() {
    let sandbox = Sandbox::new();
    std::fs::create_dir(sandbox.path("migrations")).unwrap();
    let run = sandbox.run(&["check"]);
    run.code(0);
    snapshot!("check_empty", run);
}

/// The directory of the macro's `multiple-problems` ui case, recreated here.
fn several_problems(sandbox: &Sandbox) {
    sandbox.write(
        "migrations/000001_users.up.sql",
        "CREATE TABLE users (id INTEGER);\n",
    );
    sandbox.write("migrations/000001_users.down.sql", "");
    sandbox.write(
        "migrations/000002_tags.up.sql",
        "CREATE TABLE tags (name TEXT);\n",
    );
    sandbox.write("migrations/000004-labels.up.sql", "SELECT 1;\n");
    sandbox.write(
        "migrations/000005_audit.up.sql",
        "CREATE TABLE audit (x INTEGER);\n",
    );
    sandbox.write("migrations/000005_audit.down.sql", "DROP TABLE audit;\n");
}

#[test]
fn check_lists_every_problem_at_once() {
    let sandbox = Sandbox::new();
    several_problems(&sandbox);
    let run = sandbox.run(&["check"]);
    run.code(3);
    snapshot!("check_problems", run);
}

#[test]
fn check_json_lists_every_problem_with_file_and_line() {
    let sandbox = Sandbox::new();
    several_problems(&sandbox);
    sandbox.write(
        "migrations/000005_audit.up.sql",
        "-- migrate:no-transation\nCREATE TABLE audit (x INTEGER);\n",
    );
    let run = sandbox.run(&["--json", "check"]);
    run.code(3);
    snapshot!("check_problems_json", run);
}

#[test]
fn check_reports_a_missing_directory() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["check", "--dir", "no-such-dir"]);
    run.code(3);
    snapshot!("check_missing_directory", run);
}

/// Runs `check` with `options` on each of the macro's ui fixture directories and asserts that
/// its `error:` lines are, in order, the compile errors in `tests/ui/cases/<case>.stderr`.
pub(crate) fn assert_same_errors_as_the_macro(cases: &[&str], options: &[&str]) {
    let errors = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|line| line.starts_with("error: "))
            .map(str::to_owned)
            .collect()
    };
    let sandbox = Sandbox::new();
    for case in cases {
        let fixture = workspace_file(&format!("tests/ui/fixtures/{case}"));
        let compiler =
            std::fs::read_to_string(workspace_file(&format!("tests/ui/cases/{case}.stderr")))
                .expect("the ui case's .stderr");
        let mut args = vec!["check"];
        args.extend_from_slice(options);
        args.extend(["--dir", fixture.to_str().expect("a UTF-8 path")]);
        let run = sandbox.run(&args);
        run.code(3);
        let macro_errors = errors(&compiler);
        assert!(!macro_errors.is_empty(), "{case}: no error in the .stderr");
        assert_eq!(errors(&run.stderr), macro_errors, "{case}");
    }
}

/// The macro's rule cases: `check` prints exactly the macro's compile errors.
#[test]
fn check_says_exactly_what_the_macro_says() {
    assert_same_errors_as_the_macro(
        &[
            "bad-name",
            "directive-missing-reason",
            "duplicate-version",
            "empty-down",
            "empty-up",
            "gap",
            "irreversible-with-sql",
            "misplaced-directive",
            "missing-down",
            "missing-up",
            "multiple-problems",
            "name-mismatch",
            "not-utf8",
            "transaction-control",
            "unknown-directive",
            "version-too-large",
            "version-zero",
        ],
        &[],
    );
}

/// The macro's verification cases: each directory passes the rules, and `check --verify`
/// prints exactly the macro's compile errors.
#[test]
fn check_verify_says_exactly_what_the_macro_says() {
    let cases = [
        "verify-data-loss",
        "verify-drops-table",
        "verify-index-trigger-view",
        "verify-leaves-column",
        "verify-leaves-table",
        "verify-runtime-error",
        "verify-sandbox",
        "verify-syntax-error",
    ];
    let sandbox = Sandbox::new();
    for case in cases {
        let fixture = workspace_file(&format!("tests/ui/fixtures/{case}"));
        sandbox
            .run(&["check", "--dir", fixture.to_str().unwrap()])
            .code(0);
    }
    assert_same_errors_as_the_macro(&cases, &["--verify"]);
}

#[test]
fn check_verify_passes_the_repository_migrations() {
    let sandbox = Sandbox::new();
    let dir = workspace_file("migrations");
    let run = sandbox.run(&["check", "--verify", "--dir", dir.to_str().unwrap()]);
    run.code(0);
    assert!(
        run.stdout
            .contains("no problems; each runs, and each down undoes its up"),
        "{run}"
    );
    let json = sandbox.run(&[
        "check",
        "--verify",
        "--json",
        "--dir",
        dir.to_str().unwrap(),
    ]);
    json.code(0);
    assert!(json.stdout.contains("\"verified\": true"), "{json}");
}

/// `check --postgres`: the set is checked by PostgreSQL's rules, as
/// `embed_migrations!("…", database = "postgres")` checks it.
#[test]
fn check_postgres_passes_the_postgres_test_set() {
    let sandbox = Sandbox::new();
    let dir = workspace_file("tests/sets/postgres_shop");
    let dir = dir.to_str().expect("a UTF-8 path");
    let run = sandbox.run(&["check", "--postgres", dir]);
    run.code(0);
    assert_eq!(
        run.stdout,
        format!(
            "ok: 8 migrations (000001 to 000008) in `{dir}`, no problems by PostgreSQL's rules\n"
        ),
        "{run}"
    );
    let json = sandbox.run(&["check", "--postgres", "--json", "--dir", dir]);
    json.code(0);
    assert!(json.stdout.contains("\"database\": \"postgres\""), "{json}");
    // By SQLite's rules, the `END;` of each PL/pgSQL body ends a statement.
    let sqlite = sandbox.run(&["check", dir]);
    sqlite.code(3);
    assert!(
        sqlite.stderr.contains(
            "`000004_products_updated_at.up.sql` line 7: `END` would end the transaction"
        ),
        "{sqlite}"
    );
}

/// The macro's PostgreSQL cases: `check --postgres` prints exactly its compile errors.
#[test]
fn check_postgres_says_exactly_what_the_macro_says() {
    assert_same_errors_as_the_macro(
        &["postgres-unterminated", "postgres-transaction-control"],
        &["--postgres"],
    );
}

/// Verification runs the set on SQLite, and the SQLite declarations mean nothing on PostgreSQL:
/// `--postgres` refuses them, as the macro refuses them with `database = "postgres"`.
#[test]
fn check_postgres_refuses_the_sqlite_only_options() {
    let sandbox = Sandbox::new();
    let dir = workspace_file("tests/sets/postgres_shop");
    let dir = dir.to_str().expect("a UTF-8 path");
    // --verify on a PostgreSQL set needs its server.
    let run = sandbox.run(&["check", "--postgres", dir, "--verify"]);
    run.code(2);
    assert!(
        run.stderr
            .contains("--verify on a PostgreSQL set runs every migration on a PostgreSQL server")
            && run.stderr.contains("--database postgres://"),
        "{run}"
    );
    for options in [
        &["--foreign-keys", "unenforced", "--verify"][..],
        &["--function", "normalize/2", "--verify"],
    ] {
        let mut args = vec!["check", "--postgres", dir];
        args.extend_from_slice(options);
        let run = sandbox.run(&args);
        run.code(2);
        assert!(
            run.stderr.contains("cannot be used with") && run.stderr.contains("--postgres"),
            "{options:?}: {run}"
        );
    }
}
