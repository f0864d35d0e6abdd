//! What the self-spawning integration tests (`tests/crash.rs`, `tests/concurrency.rs`) share:
//! the trial count, loading a migration set written at run time, preparing a database file
//! in a journal mode, and worker processes.
//!
//! A worker process is the test binary itself, run again with
//! `--ignored --exact <worker test> --nocapture` (which works under `cargo test` and
//! `cargo nextest`): the worker entry points are `#[ignore]`d tests, so a plain `cargo test`
//! never counts them as passing tests. The worker reads its inputs from environment
//! variables, reports on its standard output one line at a time, and (where the test needs
//! it) waits for a line on its standard input before going on.
//!
//! Each test binary uses a part of this module, so items one of them does not use are not
//! dead code.
#![allow(dead_code)]

use std::env;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::{self, JoinHandle};

use migrate_runtime::Migrations;
use migrate_runtime::rusqlite::Connection;

/// The number of trials: `default`, or the positive number in the environment variable `var`.
pub fn trials(var: &str, default: usize) -> usize {
    match env::var(var) {
        Ok(value) => value
            .trim()
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .unwrap_or_else(|| panic!("{var} must be a positive number, not {value:?}")),
        Err(_) => default,
    }
}

/// A migration set the test wrote to `dir`.
pub fn load_migration_set(dir: &Path) -> Migrations {
    Migrations::from_dir(dir).unwrap_or_else(|problems| panic!("{problems}"))
}

/// How a trial's database file is journaled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JournalMode {
    /// SQLite's default rollback journal: no file is prepared, the first connection creates
    /// it.
    Delete,
    /// Write-ahead logging: the file is created and switched to WAL beforehand.
    Wal,
}

impl JournalMode {
    /// What `PRAGMA journal_mode` says for this mode.
    pub fn pragma_value(self) -> &'static str {
        match self {
            JournalMode::Delete => "delete",
            JournalMode::Wal => "wal",
        }
    }
}

/// Prepares `database` for `mode` (see [`JournalMode`]).
pub fn prepare_database(database: &Path, mode: JournalMode) {
    if mode == JournalMode::Wal {
        let conn = Connection::open(database).expect("creating the database");
        let set: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .expect("switching to WAL");
        assert_eq!(set, "wal");
    }
}

/// The journal mode the database file is in.
pub fn journal_mode_of(database: &Path) -> String {
    let conn = Connection::open(database).expect("opening the database");
    conn.pragma_query_value(None, "journal_mode", |row| row.get(0))
        .expect("reading the journal mode")
}

/// Removes a trial's database file and whatever SQLite left beside it.
pub fn remove_database(database: &Path) {
    for suffix in ["", "-journal", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", database.display()));
    }
}

/// What a worker's reader thread forwards: a line of its standard output, or its end.
#[derive(Debug)]
pub enum Output {
    /// One line, without its line ending.
    Line(String),
    /// The worker closed its standard output (it exited or was killed).
    End,
}

/// A worker process: this test binary running the `#[ignore]`d test `worker_test`.
pub struct WorkerProcess {
    /// The test's name for the worker.
    pub id: u32,
    child: Child,
    stdin: Option<ChildStdin>,
    /// Everything it printed on its standard error, once it ended.
    stderr: Option<JoinHandle<String>>,
    /// Everything it printed on its standard output, as forwarded so far.
    pub transcript: String,
}

impl WorkerProcess {
    /// Starts the worker with `vars` set (and every variable in `cleared` removed); each line
    /// it prints goes to `output` as `(id, line)`, followed by [`Output::End`].
    pub fn spawn(
        worker_test: &str,
        id: u32,
        vars: &[(&str, &OsStr)],
        cleared: &[&str],
        output: Sender<(u32, Output)>,
    ) -> WorkerProcess {
        let exe: PathBuf = env::current_exe().expect("the test binary's path");
        let mut command = Command::new(exe);
        command.args(["--ignored", "--exact", worker_test, "--nocapture"]);
        for var in cleared {
            command.env_remove(var);
        }
        for (var, value) in vars {
            command.env(var, value);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting a worker process");
        let stdout = child.stdout.take().expect("piped standard output");
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if output.send((id, Output::Line(line))).is_err() {
                    return;
                }
            }
            let _ = output.send((id, Output::End));
        });
        let mut stderr = child.stderr.take().expect("piped standard error");
        let stderr = thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        WorkerProcess {
            id,
            stdin: child.stdin.take(),
            child,
            stderr: Some(stderr),
            transcript: String::new(),
        }
    }

    /// Records a line the worker printed in its transcript.
    pub fn record(&mut self, line: &str) {
        self.transcript.push_str(line);
        self.transcript.push('\n');
    }

    /// Sends the worker one line on its standard input (a worker that already ended is not
    /// an error: the test learns that from its output).
    pub fn send(&mut self, line: &str) {
        if let Some(stdin) = self.stdin.as_mut() {
            let _ = writeln!(stdin, "{line}").and_then(|()| stdin.flush());
        }
    }

    /// Kills the worker with SIGKILL ([`Child::kill`] on Unix) and waits for it.
    pub fn kill(&mut self) {
        // Fails only if the process was already reaped, which nothing here does; a worker
        // that already exited is not an error.
        let _ = self.child.kill();
        self.child.wait().expect("waiting for the killed worker");
    }

    /// Waits for the worker to exit; returns its status and what it printed on standard
    /// error.
    pub fn wait(&mut self) -> (ExitStatus, String) {
        drop(self.stdin.take());
        let status = self.child.wait().expect("waiting for a worker");
        let stderr = self
            .stderr
            .take()
            .map(|reader| reader.join().unwrap_or_default())
            .unwrap_or_default();
        (status, stderr)
    }

    /// A report of a worker that failed, with everything it printed.
    pub fn describe_failure(&mut self, why: &str) -> String {
        let (status, stderr) = self.wait();
        format!(
            "worker {} {why} ({status})\n--- stdout ---\n{}\n--- stderr ---\n{stderr}",
            self.id, self.transcript
        )
    }
}

/// The worker side: reads one line from standard input, the test's go-ahead. Exits the
/// process if the test closed the pipe (it ended or failed), rather than carry on unattended.
pub fn await_go_ahead() {
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(n) if n > 0 => {}
        _ => std::process::exit(3),
    }
}

/// The worker side: prints one line on standard output at once (the test waits for it).
pub fn report(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
}

/// What workers send the test: a worker's id and one piece of its output.
pub type Message = (u32, Output);

/// A channel for the output of one or several workers.
pub fn output_channel() -> (Sender<Message>, Receiver<Message>) {
    channel()
}
