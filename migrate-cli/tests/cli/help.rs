//! `migrate --help` documents the commands, the database forms and the exit statuses.

use crate::snapshot;
use crate::support::Sandbox;

#[test]
fn help_documents_commands_database_forms_and_exit_codes() {
    let run = Sandbox::new().run(&["--help"]);
    run.code(0);
    snapshot!("help", run);
}

#[test]
fn no_command_is_a_usage_error() {
    let run = Sandbox::new().run(&[]);
    run.code(2);
    assert!(run.stderr.contains("Usage: migrate"), "{run}");
}

#[test]
fn unknown_argument_is_a_usage_error() {
    let run = Sandbox::new().run(&["up", "--databse", "app.db"]);
    run.code(2);
    snapshot!("unknown_argument", run);
}

#[test]
fn down_zero_is_a_usage_error() {
    let sandbox = Sandbox::with_migrations();
    let run = sandbox.run(&["down", "0", "--database", "app.db"]);
    run.code(2);
    assert!(!sandbox.exists("app.db"));
    snapshot!("down_zero", run);
}
