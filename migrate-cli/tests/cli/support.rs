//! A temporary working directory to run the real `migrate` binary in, and snapshots of what it
//! prints.

use std::fmt;
use std::path::{Path, PathBuf};

use migrate_runtime::rusqlite::Connection;

/// A temporary directory used as the binary's current directory, so every path it prints is
/// relative and snapshots do not depend on where the directory is.
pub(crate) struct Sandbox {
    dir: tempfile::TempDir,
}

/// Three migrations: users, posts (referencing users), tags.
pub(crate) const USERS_POSTS_TAGS: [(&str, &str); 6] = [
    (
        "000001_users.up.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n",
    ),
    ("000001_users.down.sql", "DROP TABLE users;\n"),
    (
        "000002_posts.up.sql",
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id));\n",
    ),
    ("000002_posts.down.sql", "DROP TABLE posts;\n"),
    (
        "000003_tags.up.sql",
        "CREATE TABLE tags (name TEXT PRIMARY KEY);\n",
    ),
    ("000003_tags.down.sql", "DROP TABLE tags;\n"),
];

impl Sandbox {
    /// An empty directory.
    pub(crate) fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    /// A directory whose `migrations/` holds [`USERS_POSTS_TAGS`].
    pub(crate) fn with_migrations() -> Sandbox {
        let sandbox = Sandbox::new();
        for (file, sql) in USERS_POSTS_TAGS {
            sandbox.write(&format!("migrations/{file}"), sql);
        }
        sandbox
    }

    /// The absolute path of `relative`.
    pub(crate) fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// Writes a file, creating its directories.
    pub(crate) fn write(&self, relative: &str, contents: &str) {
        let path = self.path(relative);
        let parent = path.parent().expect("a file in the sandbox");
        std::fs::create_dir_all(parent).expect("creating directories");
        std::fs::write(&path, contents).expect("writing a file");
    }

    /// A file's contents.
    pub(crate) fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative)).expect("reading a file")
    }

    /// Whether a file exists.
    pub(crate) fn exists(&self, relative: &str) -> bool {
        self.path(relative).exists()
    }

    /// The file names in a directory, sorted.
    pub(crate) fn list(&self, relative: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.path(relative))
            .expect("listing a directory")
            .map(|entry| {
                let entry = entry.expect("a directory entry");
                entry.file_name().to_string_lossy().into_owned()
            })
            .collect();
        names.sort();
        names
    }

    /// Every file of the sandbox outside `migrations/`, with its bytes: what a command that
    /// must not write is compared on, before and after.
    pub(crate) fn files(&self) -> std::collections::BTreeMap<String, Vec<u8>> {
        self.list(".")
            .into_iter()
            .filter(|name| name != "migrations")
            .map(|name| {
                let bytes = std::fs::read(self.path(&name)).expect("reading a file");
                (name, bytes)
            })
            .collect()
    }

    /// The `migrate` binary, run here, with an environment that does not leak the developer's
    /// `DATABASE_URL` or colour settings into the test.
    pub(crate) fn command(&self) -> assert_cmd::Command {
        let mut command = assert_cmd::Command::new(env!("CARGO_BIN_EXE_migrate-sqlite"));
        command
            .current_dir(self.dir.path())
            .env_remove("DATABASE_URL")
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("CLICOLOR")
            .env("TERM", "dumb");
        command
    }

    /// Runs `migrate` with `args`.
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.run_command(self.command().args(args))
    }

    /// Runs a prepared command.
    pub(crate) fn run_command(&self, command: &mut assert_cmd::Command) -> Run {
        let output = command.output().expect("running migrate");
        let run = Run {
            code: output.status.code().expect("killed by a signal"),
            stdout: String::from_utf8(output.stdout).expect("UTF-8 on stdout"),
            stderr: String::from_utf8(output.stderr).expect("UTF-8 on stderr"),
        };
        // Neither stream is a terminal here: no colour, no progress line.
        assert!(
            !run.stdout.contains('\x1b') && !run.stderr.contains('\x1b'),
            "escape codes without a terminal:\n{run}"
        );
        let root = self.dir.path().display().to_string();
        Run {
            stdout: run.stdout.replace(&root, "[sandbox]"),
            stderr: run.stderr.replace(&root, "[sandbox]"),
            ..run
        }
    }

    /// A connection to a database file of the sandbox (which must exist).
    pub(crate) fn open(&self, relative: &str) -> Connection {
        assert!(self.exists(relative), "{relative} does not exist");
        Connection::open(self.path(relative)).expect("opening a database")
    }
}

/// What one run of the binary did.
pub(crate) struct Run {
    /// The exit status.
    pub(crate) code: i32,
    /// Everything on stdout.
    pub(crate) stdout: String,
    /// Everything on stderr.
    pub(crate) stderr: String,
}

impl Run {
    /// Asserts the exit status, showing the output when it differs.
    #[track_caller]
    pub(crate) fn code(&self, expected: i32) -> &Run {
        assert_eq!(self.code, expected, "unexpected exit status:\n{self}");
        self
    }

    /// stdout as JSON.
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|error| panic!("stdout is not JSON ({error}):\n{self}"))
    }
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Snapshot settings: durations are the only thing that changes between runs.
pub(crate) fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\(\d+\.\d ms\)", "([duration])");
    settings.add_filter(
        r#""duration_ms": [0-9.e-]+"#,
        r#""duration_ms": "[duration]""#,
    );
    settings.set_prepend_module_to_snapshot(false);
    settings
}

/// Snapshots a [`Run`] (exit status, stdout, stderr) under `name`.
#[macro_export]
macro_rules! snapshot {
    ($name:expr, $run:expr) => {
        $crate::support::settings().bind(|| insta::assert_snapshot!($name, $run.to_string()))
    };
}

/// The path of a file in the workspace, from this crate's directory.
pub(crate) fn workspace_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}
