//! `migrate-sqlite --help` and `completions` documents the commands, the database forms and the exit statuses.

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

#[test]
fn completions_name_every_command_for_each_shell() {
    let sandbox = Sandbox::new();
    for (shell, marker) in [
        ("bash", "-o default migrate-sqlite"),
        ("zsh", "#compdef migrate-sqlite"),
        ("fish", "complete -c migrate-sqlite"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[migrate-sqlite]"),
    ] {
        let run = sandbox.run(&["completions", shell]);
        run.code(0);
        assert!(run.stdout.contains(marker), "{shell}: {}", run.stdout);
        for command in [
            "new",
            "adopt",
            "check",
            "status",
            "version",
            "up",
            "down",
            "to",
            "goto",
            "force",
            "completions",
        ] {
            assert!(
                run.stdout.contains(command),
                "{shell} completion lacks `{command}`"
            );
        }
        // fish spells them `-l database`, the others `--database`.
        for option in ["database", "dir", "progress", "all", "allow-changed"] {
            assert!(
                run.stdout.contains(option),
                "{shell} completion lacks `{option}`"
            );
        }
    }
    let run = sandbox.run(&["completions", "tcsh"]);
    run.code(2);
    assert!(run.stderr.contains("invalid value 'tcsh'"), "{run}");
}
