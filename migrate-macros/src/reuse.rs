//! The checks of a set are not run again when the files are byte for byte those of the last
//! expansion that passed them in the same crate.
//!
//! The crate that embeds the set recompiles after any edit of its own code, and every
//! recompilation expands the macro again. The macro runs in the dev profile, unoptimised unless
//! the service's `Cargo.toml` says otherwise, where scanning the SQL of 1000 migrations and
//! computing their SHA-256 checksums takes about 0.1 s: most of what an incremental rebuild of
//! the crate costs beyond its `include_str!`s. So a passing check leaves a record in the
//! crate's `OUT_DIR` (set when the crate has a build script, which the README recommends for
//! new files to trigger a rebuild; without one nothing is recorded and every expansion checks):
//! the exact bytes of every file the check read, with their names, and what the check derived
//! from them (versions, names, checksums, directives, lineages). The next expansion reads the
//! files as always and, when the record holds the same database, the same release of the macro
//! and the same names and bytes, takes the derived parts from it and the SQL from the files it
//! has just read. Any edited, added, removed or renamed file is a miss, and a miss checks the
//! set and replaces the record. Failing checks are never recorded, so every problem is reported
//! at every expansion. Comparing the bytes costs a `memcmp`, not a hash.
//!
//! As with the verification cache, the rules' code is in the record through the macro's
//! release only: a development build of `migrate-core` under an unchanged version number (a
//! path dependency, as in this workspace) reuses records made before; `cargo clean -p <crate>`
//! clears them.

use std::path::{Path, PathBuf};

use migrate_core::source::SourceFile;
use migrate_core::{Checksum, Database, Migration, Problem, Script};

use crate::out_dir::{self, put_bytes, put_u64};

/// Whether [`check`] ran the checks or took them from the record of an earlier expansion.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Checked {
    /// Checked now (and recorded when there is an `OUT_DIR` and the set passed).
    Ran,
    /// The same files passed in an earlier expansion: taken from its record.
    Recorded,
}

/// Checks `files` (read from `dir`) for `database` unless `out_dir` holds the record of a
/// passing check of exactly these files, and records a pass. `out_dir`: the embedding crate's
/// `OUT_DIR`, if any.
pub(crate) fn check(
    out_dir: Option<&Path>,
    dir: &Path,
    files: &[SourceFile],
    database: Database,
) -> (Result<Vec<Migration>, Vec<Problem>>, Checked) {
    let record = out_dir.and_then(|out_dir| Record::new(out_dir, dir, files, database));
    if let Some(migrations) = record.as_ref().and_then(|record| record.read(files)) {
        return (Ok(migrations), Checked::Recorded);
    }
    let checked = migrate_core::check::check_for(files, database);
    if let (Some(record), Ok(migrations)) = (&record, &checked) {
        record.write(migrations, files);
    }
    (checked, Checked::Ran)
}

/// The directory under `OUT_DIR` that holds the records.
const DIR: &str = "migrate-checked";

/// What a record must start with: the format, the macro's release and the database.
fn header(database: Database) -> String {
    format!(
        "embed_migrations! check record 1\nmigrate-macros {}\n{database:?}\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// A call site's record: where it lives and the key it must start with.
struct Record {
    path: PathBuf,
    /// The header, then every file's name and length and bytes, in the order read.
    key: Vec<u8>,
}

impl Record {
    /// `None` when a file could not be read (the check reports it; nothing is recorded).
    fn new(out_dir: &Path, dir: &Path, files: &[SourceFile], database: Database) -> Option<Record> {
        let site = Checksum::of(&format!("{}\n{database:?}", dir.display())).to_hex();
        let mut key = header(database).into_bytes();
        let total: usize = files
            .iter()
            .map(|file| file.file_name.len() + file.contents.as_ref().map_or(0, Vec::len) + 24)
            .sum();
        key.reserve(total);
        put_u64(&mut key, files.len() as u64);
        for file in files {
            let contents = file.contents.as_ref().ok()?;
            put_str(&mut key, &file.file_name);
            put_bytes(&mut key, contents);
        }
        Some(Record {
            path: out_dir.join(DIR).join(&site[..32]),
            key,
        })
    }

    /// The migrations recorded for exactly these files, with their SQL taken from `files`;
    /// `None` for no record, another key, or a record that does not parse.
    fn read(&self, files: &[SourceFile]) -> Option<Vec<Migration>> {
        let held = std::fs::read(&self.path).ok()?;
        let rest = held.strip_prefix(self.key.as_slice())?;
        let mut reader = Reader { rest };
        let count = usize::try_from(reader.u64()?).ok()?;
        let mut migrations = Vec::with_capacity(count);
        for _ in 0..count {
            let version = reader.u64()?;
            let name = reader.string()?;
            let up = reader.script(files)?;
            let down = reader.script(files)?;
            let irreversible = reader.option()?;
            let lossy_down = reader.option()?;
            let lineage = Checksum(reader.checksum()?);
            migrations.push(Migration::__from_checked_parts(
                version,
                name,
                up,
                down,
                irreversible,
                lossy_down,
                lineage,
            ));
        }
        reader.rest.is_empty().then_some(migrations)
    }

    /// Records a passing check. A record that cannot be written only costs the next expansion
    /// a check, so failures are ignored; the write goes through a temporary file and a rename,
    /// so a reader never sees a partial record.
    fn write(&self, migrations: &[Migration], files: &[SourceFile]) {
        let mut value = Vec::with_capacity(migrations.len() * 200);
        put_u64(&mut value, migrations.len() as u64);
        for migration in migrations {
            put_u64(&mut value, migration.version());
            put_str(&mut value, migration.name());
            for script in [migration.up(), migration.down()] {
                // `read_dir` sorts the files by name.
                let name = script.file_name();
                let Ok(index) = files.binary_search_by(|file| file.file_name.as_str().cmp(name))
                else {
                    return;
                };
                put_u64(&mut value, index as u64);
                value.extend_from_slice(&script.checksum().0);
                value.push(u8::from(script.no_transaction()));
                value.push(u8::from(script.disables_foreign_keys()));
            }
            for reason in [migration.irreversible(), migration.lossy_down()] {
                match reason {
                    Some(reason) => {
                        value.push(1);
                        put_str(&mut value, reason);
                    }
                    None => value.push(0),
                }
            }
            value.extend_from_slice(&migration.lineage().0);
        }
        let mut record = Vec::with_capacity(self.key.len() + value.len());
        record.extend_from_slice(&self.key);
        record.extend_from_slice(&value);
        out_dir::write(&self.path, &record);
    }
}

fn put_str(out: &mut Vec<u8>, text: &str) {
    put_bytes(out, text.as_bytes());
}

/// Reads what [`Record::write`] wrote; every method returns `None` past the end or on a value
/// that cannot be what was written.
struct Reader<'a> {
    rest: &'a [u8],
}

impl Reader<'_> {
    fn take(&mut self, len: usize) -> Option<&[u8]> {
        if self.rest.len() < len {
            return None;
        }
        let (taken, rest) = self.rest.split_at(len);
        self.rest = rest;
        Some(taken)
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn flag(&mut self) -> Option<bool> {
        match self.byte()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    fn checksum(&mut self) -> Option<[u8; 32]> {
        self.take(32)?.try_into().ok()
    }

    fn string(&mut self) -> Option<String> {
        let len = usize::try_from(self.u64()?).ok()?;
        String::from_utf8(self.take(len)?.to_vec()).ok()
    }

    fn option(&mut self) -> Option<Option<String>> {
        match self.flag()? {
            false => Some(None),
            true => Some(Some(self.string()?)),
        }
    }

    /// A script: the index of its file in `files` (whose bytes are in the key, so they are
    /// the ones checked), its checksum and its two flags. The SQL is the file's text without
    /// a byte-order mark, as the check takes it.
    fn script(&mut self, files: &[SourceFile]) -> Option<Script> {
        let index = usize::try_from(self.u64()?).ok()?;
        let file = files.get(index)?;
        let text = std::str::from_utf8(file.contents.as_ref().ok()?).ok()?;
        let sql = text.strip_prefix('\u{feff}').unwrap_or(text);
        let checksum = Checksum(self.checksum()?);
        let no_transaction = self.flag()?;
        let disables_foreign_keys = self.flag()?;
        Some(Script::__from_checked_parts(
            file.file_name.clone(),
            sql.to_owned(),
            checksum,
            no_transaction,
            disables_foreign_keys,
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use migrate_core::Database;

    use super::{Checked, check};

    /// One expansion's check as the macro runs it: read the directory, then [`check`].
    fn expand(
        out: &Path,
        dir: &Path,
        database: Database,
    ) -> (Result<Vec<String>, String>, Checked) {
        let files = migrate_core::source::read_dir(dir).expect("read the directory");
        let (checked, how) = check(Some(out), dir, &files, database);
        let fresh = migrate_core::check::check_for(&files, database);
        // Whatever the path, the result is exactly what checking the files gives.
        assert_eq!(checked, fresh);
        let listing = checked
            .map(|migrations| migrations.iter().map(|m| format!("{m:?}")).collect())
            .map_err(|problems| format!("{problems:?}"));
        (listing, how)
    }

    fn write(dir: &Path, file: &str, sql: &str) {
        std::fs::write(dir.join(file), sql).expect("write a migration");
    }

    #[test]
    fn an_unchanged_set_is_taken_from_the_record_and_any_change_is_checked_again() {
        let scratch = tempfile::tempdir().expect("scratch");
        let (dir, out) = (
            scratch.path().join("migrations"),
            scratch.path().join("out"),
        );
        std::fs::create_dir_all(&dir).expect("mkdir");
        write(
            &dir,
            "000001_users.up.sql",
            "\u{feff}CREATE TABLE users (id INTEGER);\r\n",
        );
        write(&dir, "000001_users.down.sql", "DROP TABLE users;");
        write(
            &dir,
            "000002_vacuum.up.sql",
            "-- migrate:no-transaction\nPRAGMA foreign_keys = OFF;\nVACUUM;",
        );
        write(
            &dir,
            "000002_vacuum.down.sql",
            "-- migrate:irreversible nothing to undo\n",
        );
        let sqlite = Database::Sqlite;

        let (first, how) = expand(&out, &dir, sqlite);
        assert!(first.is_ok(), "{first:?}");
        assert_eq!(how, Checked::Ran);
        let (again, how) = expand(&out, &dir, sqlite);
        assert_eq!(how, Checked::Recorded);
        assert_eq!(again, first);

        // A change the checksum does not see (CRLF against LF) is still a change of the SQL.
        write(
            &dir,
            "000001_users.up.sql",
            "\u{feff}CREATE TABLE users (id INTEGER);\n",
        );
        assert_eq!(expand(&out, &dir, sqlite).1, Checked::Ran);
        assert_eq!(expand(&out, &dir, sqlite).1, Checked::Recorded);

        // Another database is another check.
        assert_eq!(expand(&out, &dir, Database::Postgres).1, Checked::Ran);

        // A new pair is checked; a broken set reports its problems at every expansion and
        // replaces nothing.
        write(
            &dir,
            "000003_more.up.sql",
            "CREATE TABLE more (id INTEGER);",
        );
        let (broken, how) = expand(&out, &dir, sqlite);
        assert!(broken.is_err(), "{broken:?}");
        assert_eq!(how, Checked::Ran);
        assert!(expand(&out, &dir, sqlite).0.is_err());
        write(&dir, "000003_more.down.sql", "DROP TABLE more;");
        assert_eq!(expand(&out, &dir, sqlite).1, Checked::Ran);
        assert_eq!(expand(&out, &dir, sqlite).1, Checked::Recorded);

        // A removed pair and a renamed file are changes too.
        std::fs::remove_file(dir.join("000003_more.up.sql")).expect("rm");
        std::fs::remove_file(dir.join("000003_more.down.sql")).expect("rm");
        assert_eq!(expand(&out, &dir, sqlite).1, Checked::Ran);
        std::fs::rename(
            dir.join("000001_users.up.sql"),
            dir.join("000001_people.up.sql"),
        )
        .expect("rename");
        std::fs::rename(
            dir.join("000001_users.down.sql"),
            dir.join("000001_people.down.sql"),
        )
        .expect("rename");
        assert_eq!(expand(&out, &dir, sqlite).1, Checked::Ran);
        assert_eq!(expand(&out, &dir, sqlite).1, Checked::Recorded);
    }

    #[test]
    fn a_damaged_record_is_a_miss_and_no_out_dir_means_no_record() {
        let scratch = tempfile::tempdir().expect("scratch");
        let (dir, out) = (
            scratch.path().join("migrations"),
            scratch.path().join("out"),
        );
        std::fs::create_dir_all(&dir).expect("mkdir");
        write(
            &dir,
            "000001_users.up.sql",
            "CREATE TABLE users (id INTEGER);",
        );
        write(&dir, "000001_users.down.sql", "DROP TABLE users;");
        assert_eq!(expand(&out, &dir, Database::Sqlite).1, Checked::Ran);
        let record = std::fs::read_dir(out.join(super::DIR))
            .expect("the record's directory")
            .next()
            .expect("a record")
            .expect("an entry")
            .path();
        let mut bytes = std::fs::read(&record).expect("read the record");
        bytes.truncate(bytes.len() - 1);
        std::fs::write(&record, &bytes).expect("damage the record");
        assert_eq!(expand(&out, &dir, Database::Sqlite).1, Checked::Ran);
        assert_eq!(expand(&out, &dir, Database::Sqlite).1, Checked::Recorded);

        let files = migrate_core::source::read_dir(&dir).expect("read");
        assert_eq!(check(None, &dir, &files, Database::Sqlite).1, Checked::Ran);
        assert_eq!(check(None, &dir, &files, Database::Sqlite).1, Checked::Ran);
    }
}
