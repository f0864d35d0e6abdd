//! `embed_migrations!` stays in step with the migrations directory across real `cargo build`s.
//!
//! The test builds a scratch crate that embeds its own `migrations/` and prints, for each
//! migration, its version, name and up SQL. Between builds it changes the directory, and it
//! runs the rebuilt binary (or reads the failed build's errors) to prove that the next
//! `cargo build`:
//!
//! 1. re-expands the macro when an existing file is edited: the macro embeds each file with
//!    `include_str!`, so rustc's dependency tracking covers the files it already knows (this
//!    step runs before the crate has a build script, to prove that on its own);
//! 2. picks up a newly added pair only with the build script: no file the compiler knows has
//!    changed, and a proc macro cannot ask cargo (on stable Rust) to watch a directory. The
//!    test first adds a pair with no build script and checks that the rebuilt binary does
//!    *not* list it (the limitation the README documents), then adds the one-line build
//!    script every user's crate needs, `println!("cargo:rerun-if-changed=migrations")`, and
//!    checks that the pair appears, then adds another pair and checks that the next build
//!    lists it (cargo reruns the script, and so rebuilds the crate, when anything in the
//!    directory changes);
//! 3. drops a deleted pair;
//! 4. fails with the macro's compile error naming the file when the directory is broken, and
//!    builds again once it is repaired: first by deleting a down file, then by adding an up
//!    file without its down (which, like step 2, only the build script notices).
//!
//! Without that line (no build script, or one printing only other `rerun-if-changed` lines)
//! the additions in steps 2 and 4 are not seen: cargo keeps the old binary. Deletions are
//! seen either way, because a deleted file the macro had embedded is missing from the
//! dependency list cargo checks. (A build script that prints no `rerun-if` line at all also
//! works, since cargo then reruns it when any file of the package changes.)
//!
//! The scratch crate lives in a fresh temporary directory but builds into a fixed target
//! directory under cargo's `CARGO_TARGET_TMPDIR`, with a copy of the workspace's `Cargo.lock`
//! and `--offline`, so the dependencies are compiled once and later runs only rebuild the
//! scratch crate. Each run embeds a unique marker in its SQL, so a binary left over from an
//! earlier run cannot pass for this run's.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use migrate_core::Problem;
use tempfile::TempDir;

/// The scratch crate's package name, and so its binary's name.
const PACKAGE: &str = "rebuild-scratch";

/// The one-line build script the documentation tells users to add.
const BUILD_SCRIPT: &str = "fn main() {\n    println!(\"cargo:rerun-if-changed=migrations\");\n}\n";

/// Prints one line per embedded migration: version, name and the up SQL as a Rust string
/// literal (so the whole migration stays on one line).
const MAIN: &str = r#"static MIGRATIONS: migrate_runtime::Migrations =
    migrate_runtime::embed_migrations!("migrations");

fn main() {
    for migration in &MIGRATIONS {
        println!("{}", listing_line(migration.version(), migration.name(), migration.up().sql()));
    }
}

fn listing_line(version: u64, name: &str, up: &str) -> String {
    format!("{version} {name} {up:?}")
}
"#;

/// The line the scratch binary prints for one migration (the same format as `MAIN`).
fn listing_line(version: u64, name: &str, up: &str) -> String {
    format!("{version} {name} {up:?}")
}

/// What the scratch binary should print for these `(version, name, up SQL)` migrations.
fn expected_listing(migrations: &[(u64, &str, &str)]) -> String {
    migrations
        .iter()
        .map(|&(version, name, up)| listing_line(version, name, up) + "\n")
        .collect()
}

/// A scratch crate that embeds its own `migrations/` directory, built with real cargo.
struct ScratchCrate {
    /// Holds the crate; deleted when the test ends.
    _dir: TempDir,
    root: PathBuf,
    target_dir: PathBuf,
    /// A file outside the crate, written only to read the file system's clock.
    clock_probe: PathBuf,
    /// Whether a build ran since the file system's clock last moved past the previous one.
    built_since_clock_moved: bool,
}

impl ScratchCrate {
    /// Writes the manifest, `src/main.rs` and an empty `migrations/`, but no build script.
    fn new() -> ScratchCrate {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::Builder::new()
            .prefix("migrate-rebuild-")
            .tempdir()
            .expect("create a temporary directory for the scratch crate");
        let root = dir.path().join(PACKAGE);
        fs::create_dir_all(root.join("src")).expect("create the scratch crate's src/");
        fs::create_dir_all(root.join("migrations")).expect("create the scratch migrations/");
        let runtime = workspace.join("migrate-runtime");
        let manifest = format!(
            "[package]\n\
             name = \"{PACKAGE}\"\n\
             version = \"0.0.0\"\n\
             edition = \"2024\"\n\
             publish = false\n\
             \n\
             [dependencies]\n\
             migrate-runtime = {{ path = {runtime:?} }}\n\
             \n\
             # Its own workspace, not a member of an enclosing one.\n\
             [workspace]\n",
            runtime = runtime
                .to_str()
                .expect("the workspace path is valid UTF-8, so it can go in a manifest"),
        );
        write(&root.join("Cargo.toml"), &manifest);
        write(&root.join("src/main.rs"), MAIN);
        // The workspace's lock file pins the versions its own build already fetched, so the
        // scratch build resolves offline to the same ones.
        fs::copy(workspace.join("Cargo.lock"), root.join("Cargo.lock"))
            .expect("copy the workspace's Cargo.lock into the scratch crate");
        ScratchCrate {
            clock_probe: dir.path().join("clock-probe"),
            _dir: dir,
            root,
            target_dir: Path::new(env!("CARGO_TARGET_TMPDIR")).join("rebuild-scratch"),
            built_since_clock_moved: false,
        }
    }

    /// Adds the one-line build script.
    fn add_build_script(&mut self) {
        self.wait_until_changes_are_newer_than_the_last_build();
        write(&self.root.join("build.rs"), BUILD_SCRIPT);
    }

    fn migration_path(&self, file_name: &str) -> PathBuf {
        self.root.join("migrations").join(file_name)
    }

    /// Writes a migration file, creating or replacing it.
    fn write_migration(&mut self, file_name: &str, sql: &str) {
        self.wait_until_changes_are_newer_than_the_last_build();
        write(&self.migration_path(file_name), sql);
    }

    /// Writes an up/down pair.
    fn add_pair(&mut self, version: u64, name: &str, up: &str, down: &str) {
        self.write_migration(&format!("{version:06}_{name}.up.sql"), up);
        self.write_migration(&format!("{version:06}_{name}.down.sql"), down);
    }

    /// Deletes a migration file.
    fn remove_migration(&mut self, file_name: &str) {
        self.wait_until_changes_are_newer_than_the_last_build();
        let path = self.migration_path(file_name);
        fs::remove_file(&path).unwrap_or_else(|e| panic!("remove {}: {e}", path.display()));
    }

    /// Cargo rebuilds only for files modified strictly after the previous build started, and
    /// a file system may keep times to the second or cache the clock: after a build, waits
    /// until a file written now gets a later time than one written right after the build.
    ///
    /// (Setting a file's time into the future instead would make every later build see it as
    /// changed, and so rebuild whether or not the build script works.)
    fn wait_until_changes_are_newer_than_the_last_build(&mut self) {
        if !self.built_since_clock_moved {
            return;
        }
        let after_build = self.touch_clock_probe();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.touch_clock_probe() <= after_build {
            assert!(
                Instant::now() < deadline,
                "the file system's clock did not move for 10 s"
            );
            thread::sleep(Duration::from_millis(20));
        }
        self.built_since_clock_moved = false;
    }

    /// Writes the clock probe and returns the modification time the file system gave it.
    fn touch_clock_probe(&self) -> SystemTime {
        write(&self.clock_probe, "");
        fs::metadata(&self.clock_probe)
            .and_then(|metadata| metadata.modified())
            .expect("read the clock probe's modification time")
    }

    /// Runs `cargo build`; on failure, returns cargo's standard error.
    fn build(&mut self) -> Result<(), String> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        let output = Command::new(&cargo)
            .args(["build", "--offline", "--color=never", "--manifest-path"])
            .arg(self.root.join("Cargo.toml"))
            .current_dir(&self.root)
            .env("CARGO_TARGET_DIR", &self.target_dir)
            // Would put the binary under a target triple.
            .env_remove("CARGO_BUILD_TARGET")
            // Would make the macro read another directory (only the ui tests set it).
            .env_remove("MIGRATE_MANIFEST_DIR")
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", cargo.to_string_lossy()));
        self.built_since_clock_moved = true;
        if output.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }

    /// Builds and runs the scratch binary, returning what it printed.
    fn build_and_run(&mut self, step: &str) -> String {
        if let Err(stderr) = self.build() {
            panic!("{step}: `cargo build` failed unexpectedly:\n{stderr}");
        }
        let binary = self
            .target_dir
            .join("debug")
            .join(format!("{PACKAGE}{}", std::env::consts::EXE_SUFFIX));
        let output = Command::new(&binary)
            .output()
            .unwrap_or_else(|e| panic!("{step}: run {}: {e}", binary.display()));
        assert!(
            output.status.success(),
            "{step}: the scratch binary failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("the scratch binary prints UTF-8")
    }
}

/// Writes a file, naming it if that fails.
fn write(path: &Path, contents: &str) {
    fs::write(path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// A marker unique to this run, so SQL embedded by an earlier run cannot match.
fn run_marker() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_nanos();
    format!("run {} at {nanos}", std::process::id())
}

/// One scenario, because every step depends on the one before and all share a target
/// directory (so they must not run concurrently).
#[test]
fn cargo_build_follows_edits_additions_deletions_and_breakage_of_the_migrations() {
    let marker = run_marker();
    let users_v1 = format!("-- {marker}\nCREATE TABLE users (id INTEGER PRIMARY KEY);\n");
    let users_v2 =
        format!("-- {marker}\nCREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n");
    let tags = "CREATE TABLE tags (id INTEGER PRIMARY KEY);\n";
    let notes = "CREATE TABLE notes (id INTEGER PRIMARY KEY);\n";
    let labels = "CREATE TABLE labels (id INTEGER PRIMARY KEY);\n";

    let mut scratch = ScratchCrate::new();
    scratch.add_pair(1, "users", &users_v1, "DROP TABLE users;\n");
    scratch.add_pair(2, "tags", tags, "DROP TABLE tags;\n");
    assert_eq!(
        scratch.build_and_run("first build"),
        expected_listing(&[(1, "users", &users_v1), (2, "tags", tags)]),
        "the first build embeds the directory as written"
    );

    // 1. Editing a file the macro embedded, with no build script yet, so only the tracking
    //    of `include_str!` can notice it.
    scratch.write_migration("000001_users.up.sql", &users_v2);
    assert_eq!(
        scratch.build_and_run("after editing 000001_users.up.sql"),
        expected_listing(&[(1, "users", &users_v2), (2, "tags", tags)]),
        "the build after an edit embeds the edited SQL"
    );

    // 2. Adding a pair without the build script: no file the compiler read has changed, so
    //    cargo keeps the previous binary and the new migration is not embedded. This is the
    //    documented limitation the one-line `build.rs` exists for.
    scratch.add_pair(3, "notes", notes, "DROP TABLE notes;\n");
    assert_eq!(
        scratch.build_and_run("after adding 000003_notes without build.rs"),
        expected_listing(&[(1, "users", &users_v2), (2, "tags", tags)]),
        "without the build script's `cargo:rerun-if-changed=migrations`, a build after adding a \
         pair is expected to keep the old binary (the README documents this limitation); if \
         the new pair is listed, something else made cargo rebuild, and the README's Rebuilds \
         section must change"
    );

    // Adding the build script makes cargo run it and rebuild, so the pair added before it
    // appears now.
    scratch.add_build_script();
    assert_eq!(
        scratch.build_and_run("after adding build.rs"),
        expected_listing(&[
            (1, "users", &users_v2),
            (2, "tags", tags),
            (3, "notes", notes)
        ]),
        "the build after adding the build script embeds the pair added before it"
    );

    // With the script in place, a pair added later reaches the next build: only the build
    // script's `rerun-if-changed` can notice this.
    scratch.add_pair(4, "labels", labels, "DROP TABLE labels;\n");
    assert_eq!(
        scratch.build_and_run("after adding 000004_labels"),
        expected_listing(&[
            (1, "users", &users_v2),
            (2, "tags", tags),
            (3, "notes", notes),
            (4, "labels", labels)
        ]),
        "the build after adding a pair lists it; if not, the build script's \
         `cargo:rerun-if-changed=migrations` did not make cargo rebuild"
    );

    // 3. Deleting pairs.
    for name in ["000004_labels", "000003_notes"] {
        scratch.remove_migration(&format!("{name}.up.sql"));
        scratch.remove_migration(&format!("{name}.down.sql"));
    }
    assert_eq!(
        scratch.build_and_run("after deleting 000003_notes and 000004_labels"),
        expected_listing(&[(1, "users", &users_v2), (2, "tags", tags)]),
        "the build after deleting pairs no longer lists them"
    );

    // 4. Breaking the directory: an up without its down.
    scratch.remove_migration("000002_tags.down.sql");
    expect_missing_down(
        scratch.build(),
        "after deleting 000002_tags.down.sql",
        "000002_tags",
    );

    // And repairing it builds again.
    scratch.write_migration("000002_tags.down.sql", "DROP TABLE tags;\n");
    assert_eq!(
        scratch.build_and_run("after restoring 000002_tags.down.sql"),
        expected_listing(&[(1, "users", &users_v2), (2, "tags", tags)]),
        "the build after repairing the directory succeeds"
    );

    // Breaking it by adding a file, which again only the build script notices: if the build
    // succeeds, cargo kept the binary of the previous step.
    scratch.write_migration("000003_notes.up.sql", notes);
    expect_missing_down(
        scratch.build(),
        "after adding 000003_notes.up.sql alone",
        "000003_notes",
    );
}

/// Asserts that the build failed with the macro's error for an up file without its down.
fn expect_missing_down(build: Result<(), String>, step: &str, migration: &str) {
    let up = format!("{migration}.up.sql");
    let down = format!("{migration}.down.sql");
    let Err(stderr) = build else {
        panic!("{step}: the build succeeded although `{down}` is missing");
    };
    let problem = Problem::MissingDown {
        up,
        expected: down.clone(),
    };
    assert!(
        stderr.contains(&format!("error: {problem}")),
        "{step}: the failed build reports `{problem}`; cargo said:\n{stderr}"
    );
    assert!(
        stderr.contains(&format!("missing `{down}`")),
        "{step}: the error names the missing file; cargo said:\n{stderr}"
    );
}
