//! Reading a real migrations directory: entries named like migrations that are not regular
//! files are refused by name, without being opened (a named pipe would block the build, the
//! CLI and the runtime forever); links to regular files are followed.

#![cfg(unix)]

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use migrate_core::{Problem, load_dir};

/// A fresh directory under the system's temporary directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "migrate-core-source-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("migrations")).expect("creating a scratch directory");
        Scratch(dir)
    }

    fn migrations(&self) -> PathBuf {
        self.0.join("migrations")
    }

    fn write(&self, name: &str, sql: &str) {
        fs::write(self.migrations().join(name), sql).expect("writing a file");
    }

    /// One good migration, 000001, whose down is left for each test to provide.
    fn with_up(self) -> Scratch {
        self.write("000001_users.up.sql", "CREATE TABLE users (id INTEGER);\n");
        self
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The messages of every problem of `dir`.
fn problems(dir: &Path) -> Vec<String> {
    load_dir(dir)
        .expect_err("the directory must be refused")
        .0
        .iter()
        .map(Problem::to_string)
        .collect()
}

#[test]
fn a_named_pipe_is_refused_without_being_opened() {
    let scratch = Scratch::new().with_up();
    let fifo = scratch.migrations().join("000001_users.down.sql");
    let status = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("running mkfifo");
    assert!(status.success());
    // Opening the pipe for reading would block here forever: nothing ever writes to it.
    assert_eq!(
        problems(&scratch.migrations()),
        [
            "cannot read `000001_users.down.sql`: it is a named pipe (FIFO), not a regular file; a \
          migration must be a regular file (or a link to one): replace it with the migration's \
          SQL file, or move it out of the migrations directory"
        ]
    );
}

#[test]
fn a_directory_named_like_a_migration_is_refused_not_reported_missing() {
    let scratch = Scratch::new().with_up();
    fs::create_dir(scratch.migrations().join("000001_users.down.sql")).unwrap();
    assert_eq!(
        problems(&scratch.migrations()),
        [
            "cannot read `000001_users.down.sql`: it is a directory, not a regular file; a \
          migration must be a regular file (or a link to one): replace it with the migration's \
          SQL file, or move it out of the migrations directory"
        ]
    );
}

#[test]
fn a_link_to_a_directory_is_refused_naming_its_target() {
    let scratch = Scratch::new().with_up();
    fs::create_dir(scratch.0.join("elsewhere")).unwrap();
    symlink(
        "../elsewhere",
        scratch.migrations().join("000001_users.down.sql"),
    )
    .unwrap();
    assert_eq!(
        problems(&scratch.migrations()),
        [
            "cannot read `000001_users.down.sql`: it is a symbolic link to `../elsewhere`, which is \
          a directory, not a regular file; a migration must be a regular file (or a link to \
          one): replace it with the migration's SQL file, or move it out of the migrations \
          directory"
        ]
    );
}

#[test]
fn a_dangling_link_is_refused_naming_its_target() {
    let scratch = Scratch::new().with_up();
    symlink(
        "../shared/000001_users.down.sql",
        scratch.migrations().join("000001_users.down.sql"),
    )
    .unwrap();
    assert_eq!(
        problems(&scratch.migrations()),
        [
            "cannot read `000001_users.down.sql`: it is a symbolic link to \
          `../shared/000001_users.down.sql`, which points to nothing: make it point to the \
             migration's SQL file, replace it with that file, or move it out of the migrations \
             directory"
        ]
    );
}

#[test]
fn a_link_to_a_regular_file_is_read_through() {
    let scratch = Scratch::new().with_up();
    fs::create_dir(scratch.0.join("shared")).unwrap();
    fs::write(
        scratch.0.join("shared/users.down.sql"),
        "DROP TABLE users;\n",
    )
    .unwrap();
    symlink(
        "../shared/users.down.sql",
        scratch.migrations().join("000001_users.down.sql"),
    )
    .unwrap();
    let table = load_dir(&scratch.migrations()).expect("a link to a file is a migration file");
    assert_eq!(table.len(), 1);
    assert_eq!(table[0].down().sql(), "DROP TABLE users;\n");
}

#[test]
fn every_non_file_is_reported_at_once_and_other_names_are_not_looked_at() {
    let scratch = Scratch::new().with_up();
    fs::create_dir(scratch.migrations().join("000001_users.down.sql")).unwrap();
    let status = Command::new("mkfifo")
        .arg(scratch.migrations().join("000002_posts.up.sql"))
        .status()
        .expect("running mkfifo");
    assert!(status.success());
    scratch.write("000002_posts.down.sql", "DROP TABLE posts;\n");
    // Not a candidate name: a pipe or a directory here is none of the rules' business.
    fs::create_dir(scratch.migrations().join("seeds")).unwrap();
    Command::new("mkfifo")
        .arg(scratch.migrations().join("notes.txt"))
        .status()
        .expect("running mkfifo");
    let problems = problems(&scratch.migrations());
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems[0].starts_with("cannot read `000001_users.down.sql`: it is a directory"));
    assert!(problems[1].starts_with("cannot read `000002_posts.up.sql`: it is a named pipe"));
}
