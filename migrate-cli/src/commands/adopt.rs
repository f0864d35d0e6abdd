//! `migrate-sqlite adopt [DIR] [--write]`: the first sitting with a golang-migrate directory. For
//! every file, what stands between it and a clean `migrate-sqlite check --verify`: the mechanical
//! edits (made with `--write`) and the problems that need a person, all at once.
//!
//! The edits only add what golang-migrate already meant, as SQL comments golang-migrate
//! ignores, so the files still run the same under golang-migrate:
//!
//! - `-- migrate:irreversible <reason>` on an empty or comment-only down (golang-migrate ran
//!   it and recorded the lower version, rolling nothing back), keeping the comment as the
//!   reason;
//! - a down file holding only that line where golang-migrate had none (it rolled nothing
//!   back either);
//! - `-- migrate:no-transaction` on a file that manages its own transaction (`BEGIN` first,
//!   `COMMIT` last), as files written for `x-no-tx-wrap=true` do.
//!
//! It never renames or renumbers a file and never changes a line of SQL.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use migrate_core::name::{self, Direction, FileName, VersionStyle};
use migrate_core::source::{self, SourceFile};
use migrate_core::{directive, sql};
use serde::Serialize;

use crate::failure::Failure;
use crate::output::{Color, Document, Style};

/// What `adopt` found and did.
#[derive(Debug, Serialize)]
pub(crate) struct Adoption {
    /// The directory.
    dir: PathBuf,
    /// Whether the edits were made (`--write`).
    written: bool,
    /// The versions' style, when the names give one.
    style: Option<&'static str>,
    /// Every migration file (and every file `--write` creates), by name.
    files: Vec<FileReport>,
    /// Whether verification ran (it needs a set that passes every rule).
    verified: bool,
    /// Whether nothing stands between the directory, with the edits made, and a clean
    /// `migrate-sqlite check --verify`.
    clean: bool,
}

/// One file: its edits and its problems.
#[derive(Debug, Serialize)]
struct FileReport {
    /// The file name, relative to the directory.
    file: String,
    /// Whether the file does not exist yet and the edit creates it.
    created: bool,
    /// The lines the edit adds at the top of the file.
    edits: Vec<String>,
    /// What needs a person: the messages `check --verify` gives.
    problems: Vec<Problem>,
}

/// One problem, as `check --verify` reports it.
#[derive(Debug, Serialize)]
struct Problem {
    /// 1-based line within the file (with the edits made), where it has one.
    line: Option<usize>,
    /// The message, exactly as the macro and `check --verify` give it.
    message: String,
}

impl Adoption {
    fn edits(&self) -> usize {
        self.files.iter().filter(|f| !f.edits.is_empty()).count()
    }

    fn problems(&self) -> usize {
        self.files.iter().map(|f| f.problems.len()).sum()
    }
}

impl Document for Adoption {
    fn human(&self, style: Style) -> String {
        let dir = self.dir.display();
        let migrations = self
            .files
            .iter()
            .filter(|f| f.file.ends_with(".up.sql"))
            .count();
        let mut out = format!(
            "`{dir}`: {} files, {migrations} migrations{}\n",
            self.files.len(),
            self.style
                .map(|s| format!(", {s} versions"))
                .unwrap_or_default()
        );
        let width = self
            .files
            .iter()
            .map(|f| f.file.chars().count())
            .max()
            .unwrap_or(0);
        let (add, create) = if self.written {
            ("added", "created with")
        } else {
            ("add", "create with")
        };
        for file in &self.files {
            let padding = " ".repeat(width - file.file.chars().count() + 2);
            let mut items: Vec<String> = Vec::new();
            for edit in &file.edits {
                let verb = if file.created { create } else { add };
                items.push(style.paint(Color::Yellow, &format!("{verb} `{edit}`")));
            }
            for problem in &file.problems {
                items.push(format!(
                    "{}: {}",
                    style.paint(Color::Red, "needs a person"),
                    problem.message
                ));
            }
            if items.is_empty() {
                items.push(style.paint(Color::Green, "ok"));
            }
            for (i, item) in items.iter().enumerate() {
                if i == 0 {
                    out.push_str(&format!("  {}{padding}{item}\n", file.file));
                } else {
                    out.push_str(&format!("  {}{item}\n", " ".repeat(width + 2)));
                }
            }
        }
        let (edits, problems) = (self.edits(), self.problems());
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        if edits > 0 && self.written {
            out.push_str(&format!("{} made\n", plural(edits, "file edit")));
        } else if edits > 0 {
            out.push_str(&format!(
                "{} to make: run `migrate-sqlite adopt {dir} --write` to make {}\n",
                plural(edits, "file edit"),
                if edits == 1 { "it" } else { "them" }
            ));
        }
        if problems > 0 {
            out.push_str(&format!(
                "{} {} a person: fix {}, then run `migrate-sqlite check --verify --dir {dir}`\n",
                plural(problems, "problem"),
                if problems == 1 { "needs" } else { "need" },
                if problems == 1 { "it" } else { "them" },
            ));
        }
        if !self.verified {
            out.push_str(
                "verification (each up, its down and the up again, as `check --verify` runs \
                 them) runs once the problems above are fixed\n",
            );
        }
        if self.clean {
            out.push_str(&format!(
                "{}: {} stands between `{dir}` and a clean `migrate-sqlite check --verify`\n",
                style.paint(Color::Green, "ok"),
                if edits > 0 && !self.written {
                    "with these edits, nothing else"
                } else {
                    "nothing"
                }
            ));
        }
        out
    }
}

/// A file as it will be once the edits are made.
struct Planned {
    file: SourceFile,
    created: bool,
    edits: Vec<String>,
}

/// Reads `dir`, plans the edits, checks and verifies the set as it will be, and with `write`
/// makes the edits.
///
/// # Errors
/// A directory that cannot be listed, or a file that cannot be written.
pub(crate) fn adopt(dir: &Path, write: bool) -> Result<Adoption, Failure> {
    let files = source::read_dir(dir).map_err(|problem| Failure::directory(dir, vec![problem]))?;
    let mut planned: Vec<Planned> = files.into_iter().map(plan).collect();
    planned.extend(missing_downs(&planned));
    // Migration by migration, the up before its down; misnamed files last.
    planned.sort_by_cached_key(|p| {
        let name = &p.file.file_name;
        match name::parse(name) {
            Ok(parsed) => (false, parsed.version, parsed.direction, name.clone()),
            Err(_) => (true, 0, Direction::Up, name.clone()),
        }
    });

    let edited: Vec<SourceFile> = planned.iter().map(|p| p.file.clone()).collect();
    let mut problems: BTreeMap<String, Vec<Problem>> = BTreeMap::new();
    let verified = match migrate_core::check(&edited) {
        Err(found) => {
            for problem in found {
                problems.entry(problem.file()).or_default().push(Problem {
                    line: problem.line(),
                    message: problem.to_string(),
                });
            }
            false
        }
        Ok(_) => {
            for finding in verify_all(&edited) {
                problems.entry(finding.file).or_default().push(Problem {
                    line: finding.line,
                    message: finding.message,
                });
            }
            true
        }
    };

    if write {
        for file in planned.iter().filter(|p| !p.edits.is_empty()) {
            write_file(dir, file)?;
        }
    }

    let styles: std::collections::BTreeSet<VersionStyle> = planned
        .iter()
        .filter_map(|p| name::parse(&p.file.file_name).ok())
        .map(|n| VersionStyle::of(n.version))
        .collect();
    let style = match styles.iter().collect::<Vec<_>>().as_slice() {
        [only] => Some(only.as_str()),
        _ => None,
    };
    let mut reports: Vec<FileReport> = planned
        .into_iter()
        .map(|p| FileReport {
            problems: problems.remove(&p.file.file_name).unwrap_or_default(),
            file: p.file.file_name,
            created: p.created,
            edits: p.edits,
        })
        .collect();
    // A problem about something other than a listed file (the directory itself).
    for (file, problems) in problems {
        reports.push(FileReport {
            file,
            created: false,
            edits: Vec::new(),
            problems,
        });
    }
    let clean = verified && reports.iter().all(|r| r.problems.is_empty());
    Ok(Adoption {
        dir: dir.to_path_buf(),
        written: write,
        style,
        files: reports,
        verified,
        clean,
    })
}

/// The edits one file needs: nothing for a file that does not parse, is not UTF-8 or has
/// directive errors (`check` reports those, and a person decides).
fn plan(file: SourceFile) -> Planned {
    let mut planned = Planned {
        file,
        created: false,
        edits: Vec::new(),
    };
    let Ok(parsed) = name::parse(&planned.file.file_name) else {
        return planned;
    };
    let Some(text) = planned
        .file
        .contents
        .as_ref()
        .ok()
        .and_then(|bytes| std::str::from_utf8(bytes).ok())
    else {
        return planned;
    };
    let (bom, text) = match text.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", text),
    };
    let (directives, errors) = directive::parse(text);
    if !errors.is_empty() {
        return planned;
    }
    let mut lines = Vec::new();
    if parsed.direction == Direction::Down
        && directives.irreversible.is_none()
        && directives.lossy_down.is_none()
        && !sql::has_code(text)
    {
        let reason = comment_reason(text).unwrap_or_else(|| {
            "the down file was empty: golang-migrate ran it and rolled nothing back".to_owned()
        });
        lines.push(format!("-- migrate:irreversible {reason}"));
    }
    if !directives.no_transaction && directive::own_transaction(text).is_some() {
        lines.push("-- migrate:no-transaction".to_owned());
    }
    if lines.is_empty() {
        return planned;
    }
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut edited = String::from(bom);
    for line in &lines {
        edited.push_str(line);
        edited.push_str(newline);
    }
    edited.push_str(text);
    planned.file.contents = Ok(edited.into_bytes());
    planned.edits = lines;
    planned
}

/// The text of a comment-only file's `--` comments, on one line: the author's reason why the
/// down is empty.
fn comment_reason(text: &str) -> Option<String> {
    let words: Vec<&str> = text
        .lines()
        .filter_map(|line| line.trim().strip_prefix("--"))
        .map(|comment| comment.trim_start_matches('-').trim())
        .filter(|comment| !comment.is_empty())
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// A down file for every up that has none: golang-migrate rolls such a migration back by
/// recording the lower version and running nothing.
fn missing_downs(planned: &[Planned]) -> Vec<Planned> {
    let mut by_version: BTreeMap<u64, Vec<FileName>> = BTreeMap::new();
    for p in planned {
        if let Ok(parsed) = name::parse(&p.file.file_name) {
            by_version.entry(parsed.version).or_default().push(parsed);
        }
    }
    by_version
        .values()
        .filter_map(|names| match names.as_slice() {
            [only] if only.direction == Direction::Up => Some(only),
            _ => None,
        })
        .map(|up| {
            let line = "-- migrate:irreversible golang-migrate had no down file for this \
                        migration: going down ran nothing"
                .to_owned();
            let file_name = format!(
                "{}_{}{}",
                // The up's own digits, so the pair shares them exactly.
                up_digits(planned, up),
                up.name,
                Direction::Down.suffix()
            );
            Planned {
                file: SourceFile {
                    file_name,
                    contents: Ok(format!("{line}\n").into_bytes()),
                },
                created: true,
                edits: vec![line],
            }
        })
        .collect()
}

/// The version digits of `up`'s file name as written (`20240731203656`, or `1` for `1_x`).
fn up_digits(planned: &[Planned], up: &FileName) -> String {
    planned
        .iter()
        .map(|p| p.file.file_name.as_str())
        .find(|file| name::parse(file).as_ref() == Ok(up))
        .and_then(|file| file.split('_').next())
        .map_or_else(|| up.version.to_string(), str::to_owned)
}

/// Every verification finding `check --verify` would give, and more: verification stops at
/// the first migration that fails, so a down that does not undo its up is set aside (as if
/// irreversible) and the rest verified again, until no down fails.
fn verify_all(files: &[SourceFile]) -> Vec<migrate_runtime::Finding> {
    let mut files = files.to_vec();
    let mut all = Vec::new();
    loop {
        let Ok(migrations) = migrate_core::check(&files) else {
            return all;
        };
        let Err(findings) = migrate_runtime::verify(&migrations) else {
            return all;
        };
        let mut set_aside = false;
        for finding in findings {
            let already = all
                .iter()
                .any(|f: &migrate_runtime::Finding| f.file == finding.file);
            if finding.file.ends_with(".down.sql")
                && !already
                && let Some(file) = files.iter_mut().find(|f| f.file_name == finding.file)
            {
                file.contents =
                    Ok(b"-- migrate:irreversible set aside by migrate adopt\n".to_vec());
                set_aside = true;
            }
            if !already {
                all.push(finding);
            }
        }
        if !set_aside {
            return all;
        }
    }
}

/// Writes one planned file: a new down never overwrites anything; an edited file is
/// replaced whole.
fn write_file(dir: &Path, planned: &Planned) -> Result<(), Failure> {
    let path = dir.join(&planned.file.file_name);
    let contents = planned.file.contents.as_deref().unwrap_or_default();
    let written = if planned.created {
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut file| file.write_all(contents))
    } else {
        fs::write(&path, contents)
    };
    written.map_err(|error| {
        Failure::failed(
            "write_file",
            format!(
                "cannot write `{}`: {error}; the files listed before it were written, the \
                 others were not: fix the cause and run `migrate-sqlite adopt --write` again (it only \
                 adds what is still missing)",
                path.display()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned(name: &str, text: &str) -> Planned {
        plan(SourceFile {
            file_name: name.to_owned(),
            contents: Ok(text.as_bytes().to_vec()),
        })
    }

    fn text(p: &Planned) -> String {
        String::from_utf8(p.file.contents.clone().unwrap()).unwrap()
    }

    #[test]
    fn a_comment_only_down_keeps_its_comment_as_the_reason() {
        let p = planned(
            "20240101000000_x.down.sql",
            "-- sessions are dropped with the users table\n-- nothing to do\n",
        );
        assert_eq!(
            p.edits,
            ["-- migrate:irreversible sessions are dropped with the users table nothing to do"]
        );
        assert!(
            text(&p)
                .ends_with("\n-- sessions are dropped with the users table\n-- nothing to do\n")
        );
    }

    #[test]
    fn an_empty_down_says_what_golang_migrate_did() {
        let p = planned("1_x.down.sql", "");
        assert_eq!(
            text(&p),
            "-- migrate:irreversible the down file was empty: golang-migrate ran it and rolled \
             nothing back\n"
        );
    }

    #[test]
    fn a_file_managing_its_own_transaction_gets_no_transaction_keeping_bom_and_crlf() {
        let p = planned(
            "1_x.up.sql",
            "\u{feff}BEGIN;\r\nCREATE TABLE a (x);\r\nCOMMIT;\r\n",
        );
        assert_eq!(p.edits, ["-- migrate:no-transaction"]);
        assert_eq!(
            text(&p),
            "\u{feff}-- migrate:no-transaction\r\nBEGIN;\r\nCREATE TABLE a (x);\r\nCOMMIT;\r\n"
        );
    }

    #[test]
    fn files_already_right_or_beyond_mechanical_edits_are_left_alone() {
        for (name, sql) in [
            ("1_x.up.sql", "CREATE TABLE a (x);"),
            ("1_x.down.sql", "DROP TABLE a;"),
            ("1_x.down.sql", "-- migrate:irreversible gone\n"),
            (
                "1_x.up.sql",
                "-- migrate:no-transaction\nBEGIN;\nSELECT 1;\nCOMMIT;",
            ),
            ("1_x.down.sql", "-- migrate:irreversable typo\n"),
            (
                "1_x.up.sql",
                "BEGIN;\nCREATE TABLE a (x);\nCOMMIT;\nVACUUM;",
            ),
        ] {
            assert!(planned(name, sql).edits.is_empty(), "{name}: {sql}");
        }
    }
}
