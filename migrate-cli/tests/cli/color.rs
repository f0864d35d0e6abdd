//! Colour follows the terminal conventions clap's anstream implements: `CLICOLOR_FORCE` gives
//! colour even through a pipe, `NO_COLOR` takes it away, and a pipe alone gets none.

use crate::support::Sandbox;

/// Runs `args` with `env` set, returning (stdout, stderr), without the support's check that
/// no escape code is printed.
fn colored(sandbox: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> (String, String) {
    let mut command = sandbox.command();
    command.args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("running migrate-sqlite");
    (
        String::from_utf8(output.stdout).expect("UTF-8"),
        String::from_utf8(output.stderr).expect("UTF-8"),
    )
}

#[test]
fn clicolor_force_colours_a_pipe() {
    let sandbox = Sandbox::with_migrations();
    let (stdout, _) = colored(
        &sandbox,
        &["up", "--database", "app.db"],
        &[("CLICOLOR_FORCE", "1")],
    );
    // `up` in green, as on a terminal.
    assert!(
        stdout.contains("\x1b[32mup  \x1b[0m 000001_users"),
        "{stdout:?}"
    );
    let (stdout, _) = colored(
        &sandbox,
        &["status", "--database", "app.db"],
        &[("CLICOLOR_FORCE", "1")],
    );
    assert!(stdout.contains("\x1b[1mversion\x1b[0m"), "{stdout:?}");
    // Errors too: the label on stderr.
    let (_, stderr) = colored(
        &sandbox,
        &["to", "9", "--database", "app.db"],
        &[("CLICOLOR_FORCE", "1")],
    );
    assert!(
        stderr.starts_with("\x1b[1m\x1b[31merror\x1b[0m: "),
        "{stderr:?}"
    );
}

#[test]
fn no_color_wins_over_clicolor_force() {
    let sandbox = Sandbox::with_migrations();
    for args in [
        &["up", "--database", "app.db"][..],
        &["status", "--database", "app.db"],
        &["to", "9", "--database", "app.db"],
    ] {
        let (stdout, stderr) = colored(
            &sandbox,
            args,
            &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
        );
        assert!(
            !stdout.contains('\x1b') && !stderr.contains('\x1b'),
            "{args:?}: {stdout:?} {stderr:?}"
        );
        assert!(!stdout.is_empty() || !stderr.is_empty());
    }
}

#[test]
fn clicolor_zero_and_a_pipe_give_no_colour() {
    let sandbox = Sandbox::with_migrations();
    for env in [&[][..], &[("CLICOLOR", "0")]] {
        let (stdout, _) = colored(&sandbox, &["up", "--database", "app.db"], env);
        assert!(!stdout.contains('\x1b'), "{env:?}: {stdout:?}");
    }
}
