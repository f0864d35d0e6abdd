//! Verification is skipped when this exact set, under this declaration and this release of the
//! macro, already passed it in an earlier build of the same crate.
//!
//! The crate that embeds the set recompiles after any edit of its own code, and every
//! recompilation expands the macro again; verifying 1000 migrations costs seconds. A passing
//! verification leaves a marker in the crate's `OUT_DIR` (cargo's build-output directory of
//! the crate, set when the crate has a build script, which the README recommends for new
//! files to trigger a rebuild). The marker's name stands for the call site (the directory
//! and the declaration) and its content is the key: the macro's version, the declaration and,
//! for every script, its file name, its SHA-256, its exact text (the checksum normalises line
//! endings) and what the macro read from it, compared byte for byte. Any edited, added,
//! removed or renamed file changes the key, so a stale marker is never trusted: the set is
//! verified again and the marker replaced. Without `OUT_DIR` there is no cache and every
//! expansion verifies. Only passing verifications are recorded.
//!
//! The verifier's code is in the key through the macro's release only: a development build of
//! `migrate-engine` under an unchanged version number (a path dependency, as in this
//! workspace) reuses the passes recorded before; `cargo clean -p <crate>` clears them.

use std::path::{Path, PathBuf};

use migrate_core::{Checksum, Migration};

use crate::out_dir::{self, put_bytes, put_u64};

/// Whether [`verify`] ran the verification or found the set's pass recorded.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verified {
    /// Verified now (and recorded when there is an `OUT_DIR`).
    Ran,
    /// This exact set passed in an earlier expansion: not verified again.
    Recorded,
}

/// Verifies `migrations` under `declaration` unless `out_dir` records that this exact set
/// passed, and records a pass. `out_dir`: the embedding crate's `OUT_DIR`, if any.
pub(crate) fn verify(
    out_dir: Option<&Path>,
    dir: &Path,
    declaration: &migrate_engine::Declaration,
    migrations: &[Migration],
) -> Result<Verified, Vec<migrate_engine::Finding>> {
    let entry = Entry::new(out_dir, dir, &format!("{declaration:?}"), migrations);
    if entry.as_ref().is_some_and(Entry::verified) {
        return Ok(Verified::Recorded);
    }
    migrate_engine::verify_declared(migrations, declaration)?;
    if let Some(entry) = entry {
        entry.record();
    }
    Ok(Verified::Ran)
}

/// The directory under `OUT_DIR` that holds the markers.
const DIR: &str = "migrate-verified";

/// Where a call site's marker lives, and the key it must hold for verification to be skipped.
pub(crate) struct Entry {
    marker: PathBuf,
    key: Vec<u8>,
}

impl Entry {
    /// The entry of the set read from `dir` under `declaration` (its `Debug` form), kept under
    /// `out_dir`; `None` without an `OUT_DIR` (no build script): no cache.
    pub(crate) fn new(
        out_dir: Option<&Path>,
        dir: &Path,
        declaration: &str,
        migrations: &[Migration],
    ) -> Option<Entry> {
        let out_dir = out_dir?;
        let site = Checksum::of(&format!("{}\n{declaration}", dir.display())).to_hex();
        let marker = out_dir.join(DIR).join(&site[..32]);
        Some(Entry {
            marker,
            key: key(declaration, migrations),
        })
    }

    /// Whether this set passed verification in an earlier expansion (the marker holds this
    /// key). An unreadable or different marker means no.
    pub(crate) fn verified(&self) -> bool {
        std::fs::read(&self.marker).is_ok_and(|held| held == self.key)
    }

    /// Records a passing verification (see [`out_dir::write`]).
    pub(crate) fn record(&self) {
        out_dir::write(&self.marker, &self.key);
    }
}

/// Everything verification's outcome depends on, byte for byte: the format, the macro's
/// release, the declaration and, for every migration, what the macro read from its files with
/// each script's exact text (`Checksum` normalises a BOM and CRLF, which SQLite would not).
/// Not hashed: building it is a copy and comparing it a `memcmp`, where hashing every script
/// and writing checksums in hexadecimal ran in the unoptimised macro at every rebuild.
fn key(declaration: &str, migrations: &[Migration]) -> Vec<u8> {
    let header = format!(
        "embed_migrations! verification cache 2\nmigrate-macros {}\n",
        env!("CARGO_PKG_VERSION")
    );
    let total: usize = migrations
        .iter()
        .map(|m| m.up().sql().len() + m.down().sql().len() + 256)
        .sum();
    let mut key = Vec::with_capacity(header.len() + declaration.len() + total);
    key.extend_from_slice(header.as_bytes());
    put_bytes(&mut key, declaration.as_bytes());
    put_u64(&mut key, migrations.len() as u64);
    for migration in migrations {
        put_u64(&mut key, migration.version());
        put_bytes(&mut key, migration.name().as_bytes());
        for reason in [migration.irreversible(), migration.lossy_down()] {
            match reason {
                Some(reason) => {
                    key.push(1);
                    put_bytes(&mut key, reason.as_bytes());
                }
                None => key.push(0),
            }
        }
        key.extend_from_slice(&migration.lineage().0);
        for script in [migration.up(), migration.down()] {
            put_bytes(&mut key, script.file_name().as_bytes());
            key.extend_from_slice(&script.checksum().0);
            key.push(u8::from(script.no_transaction()));
            key.push(u8::from(script.disables_foreign_keys()));
            put_bytes(&mut key, script.sql().as_bytes());
        }
    }
    key
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::path::Path;

    use super::{Entry, Verified};

    /// One expansion's verification, as the macro runs it; `runs` counts the verifications
    /// that really ran.
    fn expand(out_dir: &Path, dir: &Path, runs: &Cell<u32>) -> Result<(), String> {
        let migrations = migrate_core::load_dir(dir).map_err(|p| format!("{p:?}"))?;
        let declaration = migrate_engine::Declaration::new();
        let verified = super::verify(Some(out_dir), dir, &declaration, &migrations);
        if verified != Ok(Verified::Recorded) {
            runs.set(runs.get() + 1);
        }
        verified
            .map(drop)
            .map_err(|findings| format!("{findings:?}"))
    }

    fn write(dir: &Path, file: &str, sql: &str) {
        std::fs::write(dir.join(file), sql).expect("write a migration");
    }

    #[test]
    fn a_second_expansion_of_an_unchanged_set_skips_verification_and_an_edit_verifies_again() {
        let scratch = tempfile::tempdir().expect("scratch");
        let (dir, out) = (
            scratch.path().join("migrations"),
            scratch.path().join("out"),
        );
        std::fs::create_dir_all(&dir).expect("migrations dir");
        write(
            &dir,
            "000001_users.up.sql",
            "CREATE TABLE users (id INTEGER);\n",
        );
        write(&dir, "000001_users.down.sql", "DROP TABLE users;\n");
        write(
            &dir,
            "000002_tags.up.sql",
            "CREATE TABLE tags (id INTEGER);\n",
        );
        write(&dir, "000002_tags.down.sql", "DROP TABLE tags;\n");
        let runs = Cell::new(0);

        expand(&out, &dir, &runs).expect("the set verifies");
        assert_eq!(runs.get(), 1);
        expand(&out, &dir, &runs).expect("the set verifies");
        assert_eq!(runs.get(), 1, "an unchanged set was verified again");

        // An edit that breaks the down: verified again, refused, and not recorded.
        write(&dir, "000002_tags.down.sql", "SELECT 1;\n");
        expand(&out, &dir, &runs).expect_err("a down that undoes nothing");
        assert_eq!(runs.get(), 2);
        expand(&out, &dir, &runs).expect_err("still refused: failures are not cached");
        assert_eq!(runs.get(), 3);

        // Back to the content that passed: the failures did not replace its marker.
        write(&dir, "000002_tags.down.sql", "DROP TABLE tags;\n");
        expand(&out, &dir, &runs).expect("the verified content");
        assert_eq!(runs.get(), 3);

        // Fixed another way: verified once more, then skipped again.
        write(&dir, "000002_tags.down.sql", "DROP TABLE IF EXISTS tags;\n");
        expand(&out, &dir, &runs).expect("fixed");
        assert_eq!(runs.get(), 4);
        expand(&out, &dir, &runs).expect("fixed");
        assert_eq!(runs.get(), 4);

        // A line-ending-only edit keeps the checksum but not the bytes: verified again.
        write(
            &dir,
            "000002_tags.down.sql",
            "DROP TABLE IF EXISTS tags;\r\n",
        );
        expand(&out, &dir, &runs).expect("CRLF");
        assert_eq!(runs.get(), 5);

        // A new migration: verified again.
        write(
            &dir,
            "000003_posts.up.sql",
            "CREATE TABLE posts (id INTEGER);\n",
        );
        write(&dir, "000003_posts.down.sql", "DROP TABLE posts;\n");
        expand(&out, &dir, &runs).expect("three");
        assert_eq!(runs.get(), 6);
    }

    #[test]
    fn the_key_covers_the_declaration_and_no_out_dir_means_no_cache() {
        let scratch = tempfile::tempdir().expect("scratch");
        let dir = scratch.path().join("migrations");
        std::fs::create_dir_all(&dir).expect("migrations dir");
        write(&dir, "000001_a.up.sql", "CREATE TABLE a (id INTEGER);\n");
        write(&dir, "000001_a.down.sql", "DROP TABLE a;\n");
        let migrations = migrate_core::load_dir(&dir).expect("load");
        let out = scratch.path().join("out");
        let enforced = Entry::new(Some(&out), &dir, "enforced", &migrations).expect("entry");
        enforced.record();
        assert!(enforced.verified());
        let unenforced = Entry::new(Some(&out), &dir, "unenforced", &migrations).expect("entry");
        assert!(
            !unenforced.verified(),
            "another declaration reused the pass"
        );
        assert!(Entry::new(None, &dir, "enforced", &migrations).is_none());
    }
}
