//! Validation of a whole migrations directory: every rule, every problem at once.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::checksum::Checksum;
use crate::directive::{self, Directives};
use crate::name::{self, Direction, FileName, VersionStyle};
use crate::problem::Problem;
use crate::source::SourceFile;
use crate::sql;
use crate::table::{Migration, Script, strip_bom};

/// A file whose name follows the grammar, with its text when it could be read as UTF-8.
struct Entry<'a> {
    file: &'a str,
    name: FileName,
    text: Option<&'a str>,
    directives: Directives,
}

/// Checks a directory's files (as read by [`read_dir`](crate::source::read_dir)) against every
/// rule and returns the migrations in version order.
///
/// # Errors
/// Every problem found, sorted by file name, when there is at least one.
///
/// # Example
/// ```
/// use migrate_core::{check, source::SourceFile};
/// let file = |name: &str, sql: &str| SourceFile { file_name: name.into(), contents: Ok(sql.into()) };
/// let problems = check(&[file("000001_a.up.sql", "CREATE TABLE a (x);")]).unwrap_err();
/// assert_eq!(
///     problems[0].to_string(),
///     "missing `000001_a.down.sql` for `000001_a.up.sql`: add it with the SQL that undoes the up, \
///      or, if the migration cannot be undone, with the line `-- migrate:irreversible <reason>`"
/// );
/// ```
pub fn check(files: &[SourceFile]) -> Result<Vec<Migration>, Vec<Problem>> {
    check_keeping(files, |_| true)
}

/// [`check()`] for a PostgreSQL set, until the scanner knows PostgreSQL's lexical rules
/// (dollar quoting, nested comments): the rules that read SQL with SQLite's (transaction
/// control, an unclosed comment) are left out, since a PL/pgSQL body's `END;` or a nested
/// comment would trip them. PostgreSQL verification refuses transaction control itself.
///
/// # Errors
/// Every other problem, as [`check()`].
#[doc(hidden)]
pub fn check_postgres_interim(files: &[SourceFile]) -> Result<Vec<Migration>, Vec<Problem>> {
    check_keeping(files, |problem| {
        !matches!(
            problem,
            Problem::TransactionControl { .. }
                | Problem::OwnTransaction { .. }
                | Problem::UnclosedComment { .. }
        )
    })
}

/// [`check()`], reporting only the problems `keep` accepts.
fn check_keeping(
    files: &[SourceFile],
    keep: impl Fn(&Problem) -> bool,
) -> Result<Vec<Migration>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut by_version: BTreeMap<u64, Vec<Entry<'_>>> = BTreeMap::new();
    for file in files {
        if let Some(entry) = check_file(file, &mut problems) {
            by_version
                .entry(entry.name.version)
                .or_default()
                .push(entry);
        }
    }
    check_versions(&by_version, &mut problems);
    let mut migrations = Vec::with_capacity(by_version.len());
    let mut lineage = Checksum([0; 32]);
    for (version, entries) in &by_version {
        if let Some((up, down)) = check_pair(*version, entries, &mut problems) {
            let migration = build(up, down, lineage);
            lineage = migration.lineage;
            migrations.push(migration);
        }
    }
    problems.retain(|problem| keep(problem));
    if problems.is_empty() {
        Ok(migrations)
    } else {
        problems.sort_by_key(|p| (p.file(), p.line()));
        Err(problems)
    }
}

/// Everything that can be checked of one file on its own: readable, named by the grammar,
/// UTF-8, directives, and content.
fn check_file<'a>(file: &'a SourceFile, problems: &mut Vec<Problem>) -> Option<Entry<'a>> {
    let file_name = file.file_name.as_str();
    // A misnamed file is never silently skipped: golang-migrate's users lose migrations that way.
    let name = match name::parse(file_name) {
        Ok(name) => name,
        Err(error) => {
            problems.push(Problem::BadName {
                file: file_name.to_owned(),
                error,
            });
            return None;
        }
    };
    let text = match &file.contents {
        Err(error) => {
            problems.push(Problem::Unreadable {
                file: file_name.to_owned(),
                error: error.clone(),
            });
            None
        }
        Ok(bytes) => check_utf8(file_name, bytes, problems),
    };
    let mut directives = Directives::default();
    if let Some(text) = text {
        let before = problems.len();
        directives = check_directives(file_name, &name, text, problems);
        let directives_ok = problems.len() == before;
        check_content(
            file_name,
            name.direction,
            text,
            &directives,
            directives_ok,
            problems,
        );
        check_transaction_control(file_name, text, &directives, problems);
        check_applied_whole(file_name, text, problems);
    }
    Some(Entry {
        file: file_name,
        name,
        text,
        directives,
    })
}

/// SQLite reads text; a file in another encoding would run as garbage.
fn check_utf8<'a>(file: &str, bytes: &'a [u8], problems: &mut Vec<Problem>) -> Option<&'a str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Some(strip_bom(text)),
        Err(error) => {
            let valid = &bytes[..error.valid_up_to()];
            let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
            problems.push(Problem::NotUtf8 {
                file: file.to_owned(),
                line,
            });
            None
        }
    }
}

/// A mistyped directive must not silently turn a rule off; and the down's directives belong
/// in the down, where a reader looks for them.
fn check_directives(
    file: &str,
    name: &FileName,
    text: &str,
    problems: &mut Vec<Problem>,
) -> Directives {
    let (directives, errors) = directive::parse(text);
    for error in errors {
        problems.push(Problem::Directive {
            file: file.to_owned(),
            line: error.line,
            error: error.kind,
        });
    }
    if name.direction == Direction::Up {
        for (line, directive) in &directives.found {
            if matches!(*directive, "irreversible" | "lossy-down") {
                problems.push(Problem::MisplacedDirective {
                    file: file.to_owned(),
                    line: *line,
                    directive,
                    belongs_in: file.replace(".up.sql", ".down.sql"),
                });
            }
        }
    }
    directives
}

/// An empty up does nothing and is always a mistake; an empty down turns a rollback into a
/// silent no-op (golang-migrate's behaviour), unless the author says it cannot be undone.
/// A down whose directives are wrong is not also called empty: the author most likely meant
/// `irreversible`, and the directive error says what to fix.
fn check_content(
    file: &str,
    direction: Direction,
    text: &str,
    directives: &Directives,
    directives_ok: bool,
    problems: &mut Vec<Problem>,
) {
    let has_code = sql::has_code(text);
    let file = file.to_owned();
    match direction {
        Direction::Up if !has_code => problems.push(Problem::EmptyUp { file }),
        Direction::Up => {}
        Direction::Down => match (&directives.irreversible, has_code) {
            (None, false) if directives_ok => problems.push(Problem::EmptyDown { file }),
            (Some(_), true) => problems.push(Problem::IrreversibleWithSql { file }),
            (Some(_), false) if directives.lossy_down.is_some() => {
                problems.push(Problem::IrreversibleAndLossy { file });
            }
            _ => {}
        },
    }
}

/// A migration runs inside a transaction the runtime owns: a `COMMIT` in it would commit half
/// a migration without its version, and `VACUUM` fails inside a transaction at deploy time.
fn check_transaction_control(
    file: &str,
    text: &str,
    directives: &Directives,
    problems: &mut Vec<Problem>,
) {
    if directives.no_transaction {
        return;
    }
    if let Some(begin) = directive::own_transaction(text) {
        problems.push(Problem::OwnTransaction {
            file: file.to_owned(),
            line: sql::line_col(text, begin).0,
        });
        return;
    }
    for (offset, keyword) in sql::transaction_control(text) {
        problems.push(Problem::TransactionControl {
            file: file.to_owned(),
            line: sql::line_col(text, offset).0,
            keyword,
        });
    }
}

/// A set numbers its migrations in one style ([`VersionStyle`]): mixed styles sort by number,
/// so a sequential `000012` would run before every timestamp forever, and the gap rule could
/// not say what is missing. Sequential sets must then run without a hole; timestamps have
/// holes by nature (the runtime refuses a late-merged older one instead).
fn check_versions(by_version: &BTreeMap<u64, Vec<Entry<'_>>>, problems: &mut Vec<Problem>) {
    let mut styles: BTreeMap<VersionStyle, Vec<String>> = BTreeMap::new();
    for (version, entries) in by_version {
        styles
            .entry(VersionStyle::of(*version))
            .or_default()
            .push(representative(entries).to_owned());
    }
    match styles.len() {
        0 => {}
        1 if styles.contains_key(&VersionStyle::Sequential) => {
            check_sequence(by_version, problems);
        }
        1 => {}
        _ => problems.push(Problem::MixedVersionStyles {
            styles: styles.into_iter().collect(),
        }),
    }
}

/// SQLite stops reading a script at a NUL byte, and an unclosed `/*` comment runs to the end
/// of the file: either way the statements after it would silently never run, at build time
/// and at deploy time alike, while the migration is recorded as applied.
fn check_applied_whole(file: &str, text: &str, problems: &mut Vec<Problem>) {
    if let Some(offset) = text.find('\0') {
        problems.push(Problem::NulByte {
            file: file.to_owned(),
            line: sql::line_col(text, offset).0,
        });
    }
    if let Some(offset) = sql::unclosed_comment(text) {
        problems.push(Problem::UnclosedComment {
            file: file.to_owned(),
            line: sql::line_col(text, offset).0,
        });
    }
}

/// Versions run 1, 2, 3, …: a hole usually means a migration was lost in a merge or renumbered
/// on one branch only.
fn check_sequence(by_version: &BTreeMap<u64, Vec<Entry<'_>>>, problems: &mut Vec<Problem>) {
    let mut previous: Option<(u64, &str)> = None;
    for (version, entries) in by_version {
        let file = representative(entries);
        let expected = previous.map_or(1, |(v, _)| v + 1);
        if *version > expected {
            problems.push(Problem::Gap {
                from: expected,
                to: version - 1,
                before: previous.map(|(_, f)| f.to_owned()),
                after: file.to_owned(),
            });
        }
        previous = Some((*version, file));
    }
}

/// The file that stands for a version in messages: its up file if it has one.
fn representative<'a>(entries: &[Entry<'a>]) -> &'a str {
    entries
        .iter()
        .find(|e| e.name.direction == Direction::Up)
        .or(entries.first())
        .map_or("", |e| e.file)
}

/// Each version has exactly one up and one down, with the same name: the runtime needs both
/// ways, and two files for one version would make the order depend on the file system.
fn check_pair<'e, 'a>(
    version: u64,
    entries: &'e [Entry<'a>],
    problems: &mut Vec<Problem>,
) -> Option<(&'e Entry<'a>, &'e Entry<'a>)> {
    let ups: Vec<&Entry<'_>> = entries
        .iter()
        .filter(|e| e.name.direction == Direction::Up)
        .collect();
    let downs: Vec<&Entry<'_>> = entries
        .iter()
        .filter(|e| e.name.direction == Direction::Down)
        .collect();
    match (ups.as_slice(), downs.as_slice()) {
        ([up], [down]) if up.name.name != down.name.name => {
            problems.push(Problem::NameMismatch {
                up: up.file.to_owned(),
                down: down.file.to_owned(),
            });
            None
        }
        ([up], [down]) => Some((*up, *down)),
        ([up], []) => {
            problems.push(Problem::MissingDown {
                up: up.file.to_owned(),
                expected: up.file.replace(".up.sql", ".down.sql"),
            });
            None
        }
        ([], [down]) => {
            problems.push(Problem::MissingUp {
                down: down.file.to_owned(),
                expected: down.file.replace(".down.sql", ".up.sql"),
            });
            None
        }
        _ => {
            let mut files: Vec<String> = entries.iter().map(|e| e.file.to_owned()).collect();
            files.sort();
            problems.push(Problem::Duplicate { version, files });
            None
        }
    }
}

/// Builds the table entry of a checked pair, given the lineage of the migration before it.
/// Only used when no problem was found, so both texts are present.
fn build(up: &Entry<'_>, down: &Entry<'_>, previous: Checksum) -> Migration {
    let script = |entry: &Entry<'_>| {
        let text = entry.text.unwrap_or_default();
        Script {
            file_name: Cow::Owned(entry.file.to_owned()),
            sql: Cow::Owned(text.to_owned()),
            checksum: Checksum::of(text),
            no_transaction: entry.directives.no_transaction,
            disables_foreign_keys: sql::disables_foreign_keys(text),
        }
    };
    let up_script = script(up);
    Migration {
        version: up.name.version,
        name: Cow::Owned(up.name.name.clone()),
        lineage: Checksum::lineage(previous, up_script.checksum),
        up: up_script,
        down: script(down),
        irreversible: down.directives.irreversible.clone().map(Cow::Owned),
        lossy_down: down.directives.lossy_down.clone().map(Cow::Owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directive::DirectiveErrorKind;
    use crate::name::NameError;

    fn file(name: &str, sql: &str) -> SourceFile {
        SourceFile {
            file_name: name.into(),
            contents: Ok(sql.as_bytes().to_vec()),
        }
    }

    fn pair(version: u64, name: &str) -> [SourceFile; 2] {
        [
            file(
                &FileName::canonical(version, name, Direction::Up),
                "CREATE TABLE t (x);",
            ),
            file(
                &FileName::canonical(version, name, Direction::Down),
                "DROP TABLE t;",
            ),
        ]
    }

    fn problems(files: &[SourceFile]) -> Vec<Problem> {
        check(files).expect_err("expected problems")
    }

    #[test]
    fn accepts_a_valid_set_in_order() {
        let mut files: Vec<SourceFile> = pair(2, "b").into_iter().chain(pair(1, "a")).collect();
        files.push(file(
            "000003_c.up.sql",
            "-- migrate:no-transaction\nVACUUM;",
        ));
        files.push(file(
            "000003_c.down.sql",
            "-- migrate:irreversible vacuum cannot be undone\n",
        ));
        let set = check(&files).unwrap();
        assert_eq!(
            set.iter().map(Migration::version).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert_eq!(set[0].name(), "a");
        assert!(set[2].up().no_transaction());
        assert_eq!(set[2].irreversible(), Some("vacuum cannot be undone"));
        assert_eq!(set[0].up().checksum(), Checksum::of("CREATE TABLE t (x);"));
        let first = Checksum::lineage(Checksum([0; 32]), set[0].up().checksum());
        assert_eq!(set[0].lineage(), first);
        assert_eq!(
            set[1].lineage(),
            Checksum::lineage(first, set[1].up().checksum())
        );
    }

    #[test]
    fn the_postgres_interim_check_leaves_out_only_sqlite_lexical_rules() {
        let body = "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN NEW;\nEND;\n$$;\n/* a /* nested */ comment */";
        let files = [
            file("000001_f.up.sql", body),
            file("000001_f.down.sql", "DROP FUNCTION f();"),
        ];
        assert!(check(&files).is_err());
        assert_eq!(check_postgres_interim(&files).unwrap()[0].up().sql(), body);
        // Every other rule still applies.
        let problems = check_postgres_interim(&files[..1]).unwrap_err();
        assert!(
            matches!(problems.as_slice(), [Problem::MissingDown { .. }]),
            "{problems:?}"
        );
    }

    #[test]
    fn rejects_misnamed_files() {
        let mut files = pair(1, "a").to_vec();
        files.push(file("000002-tags.up.sql", "SELECT 1;"));
        let p = problems(&files);
        assert_eq!(
            p,
            [Problem::BadName {
                file: "000002-tags.up.sql".into(),
                error: NameError::NoSeparator
            }]
        );
    }

    #[test]
    fn rejects_missing_down() {
        let p = problems(&[file("000001_a.up.sql", "SELECT 1;")]);
        assert_eq!(
            p,
            [Problem::MissingDown {
                up: "000001_a.up.sql".into(),
                expected: "000001_a.down.sql".into()
            }]
        );
    }

    #[test]
    fn rejects_missing_up() {
        let p = problems(&[file("000001_a.down.sql", "SELECT 1;")]);
        assert!(
            matches!(&p[..], [Problem::MissingUp { expected, .. }] if expected == "000001_a.up.sql")
        );
    }

    #[test]
    fn rejects_name_mismatch() {
        let p = problems(&[
            file("000001_a.up.sql", "SELECT 1;"),
            file("000001_b.down.sql", "SELECT 1;"),
        ]);
        assert!(matches!(&p[..], [Problem::NameMismatch { .. }]));
    }

    #[test]
    fn rejects_duplicate_versions() {
        let files: Vec<SourceFile> = pair(1, "a").into_iter().chain(pair(1, "b")).collect();
        let p = problems(&files);
        assert_eq!(
            p,
            [Problem::Duplicate {
                version: 1,
                files: vec![
                    "000001_a.down.sql".into(),
                    "000001_a.up.sql".into(),
                    "000001_b.down.sql".into(),
                    "000001_b.up.sql".into()
                ]
            }]
        );
    }

    #[test]
    fn rejects_gaps_naming_the_neighbours() {
        let files: Vec<SourceFile> = pair(1, "a").into_iter().chain(pair(4, "d")).collect();
        let p = problems(&files);
        assert_eq!(
            p[0].to_string(),
            "versions 000002 to 000003 are missing between `000001_a.up.sql` and `000004_d.up.sql`: \
             versions must run 1, 2, 3, … without a hole; add the missing migration or renumber the ones after it"
        );
    }

    #[test]
    fn rejects_a_set_not_starting_at_one() {
        let p = problems(&pair(2, "b"));
        assert!(
            matches!(
                &p[..],
                [Problem::Gap {
                    from: 1,
                    to: 1,
                    before: None,
                    ..
                }]
            ),
            "{p:?}"
        );
    }

    #[test]
    fn accepts_timestamps_without_the_gap_rule() {
        let files: Vec<SourceFile> = pair(20240731203656, "init")
            .into_iter()
            .chain(pair(20240802091500, "passkey_backup_flags."))
            .chain(pair(20250101000000, "tags"))
            .collect();
        let set = check(&files).unwrap();
        assert_eq!(
            set.iter().map(Migration::version).collect::<Vec<_>>(),
            [20240731203656, 20240802091500, 20250101000000]
        );
        assert_eq!(set[1].name(), "passkey_backup_flags.");
        let unix: Vec<SourceFile> = pair(1722457016, "a")
            .into_iter()
            .chain(pair(1722460000, "b"))
            .collect();
        assert!(check(&unix).is_ok());
    }

    #[test]
    fn rejects_mixed_version_styles_naming_both() {
        let files: Vec<SourceFile> = pair(1, "init")
            .into_iter()
            .chain(pair(2, "users"))
            .chain(pair(20240731203656, "tags"))
            .collect();
        let p = problems(&files);
        assert_eq!(
            p,
            [Problem::MixedVersionStyles {
                styles: vec![
                    (
                        VersionStyle::Sequential,
                        vec!["000001_init.up.sql".into(), "000002_users.up.sql".into()]
                    ),
                    (
                        VersionStyle::Timestamp,
                        vec!["20240731203656_tags.up.sql".into()]
                    ),
                ]
            }]
        );
        assert_eq!(
            p[0].to_string(),
            "the set mixes version styles: sequential (`000001_init.up.sql`, `000002_users.up.sql`) \
             and timestamp (`20240731203656_tags.up.sql`); they sort by number, so the order would \
             be wrong: give the migrations that no database has applied yet versions in the \
             style of the others (applied versions are recorded in databases and must not change)"
        );
    }

    #[test]
    fn an_invalid_timestamp_is_sequential_and_so_mixed() {
        let files: Vec<SourceFile> = pair(20240731203656, "a")
            .into_iter()
            .chain(pair(20241331000000, "month_13"))
            .collect();
        assert!(matches!(
            &problems(&files)[..],
            [Problem::MixedVersionStyles { .. }]
        ));
    }

    #[test]
    fn rejects_version_zero() {
        let p = problems(&[file("000000_a.up.sql", "SELECT 1;")]);
        assert!(matches!(
            &p[..],
            [Problem::BadName {
                error: NameError::VersionZero,
                ..
            }]
        ));
    }

    #[test]
    fn rejects_empty_up() {
        let p = problems(&[
            file("000001_a.up.sql", "-- nothing yet\n"),
            file("000001_a.down.sql", "SELECT 1;"),
        ]);
        assert_eq!(
            p,
            [Problem::EmptyUp {
                file: "000001_a.up.sql".into()
            }]
        );
    }

    #[test]
    fn rejects_empty_down_unless_irreversible() {
        let p = problems(&[
            file("000001_a.up.sql", "SELECT 1;"),
            file("000001_a.down.sql", "  \n-- todo\n"),
        ]);
        assert_eq!(
            p,
            [Problem::EmptyDown {
                file: "000001_a.down.sql".into()
            }]
        );
        let ok = check(&[
            file("000001_a.up.sql", "SELECT 1;"),
            file(
                "000001_a.down.sql",
                "-- migrate:irreversible data is archived",
            ),
        ]);
        assert!(ok.is_ok());
    }

    #[test]
    fn a_bad_directive_in_an_empty_down_is_one_problem() {
        let p = problems(&[
            file("000001_a.up.sql", "SELECT 1;"),
            file("000001_a.down.sql", "-- migrate:irreversable archived"),
        ]);
        assert!(matches!(&p[..], [Problem::Directive { .. }]), "{p:?}");
    }

    #[test]
    fn rejects_transaction_control_unless_no_transaction() {
        let p = problems(&[
            file(
                "000001_a.up.sql",
                "BEGIN;\nCREATE TABLE a (x);\nCOMMIT;\nCREATE TABLE b (x);",
            ),
            file("000001_a.down.sql", "VACUUM;"),
        ]);
        let lines: Vec<(String, Option<usize>)> = p.iter().map(|p| (p.file(), p.line())).collect();
        assert_eq!(
            lines,
            [
                ("000001_a.down.sql".to_owned(), Some(1)),
                ("000001_a.up.sql".to_owned(), Some(1)),
                ("000001_a.up.sql".to_owned(), Some(3))
            ]
        );
        assert!(
            check(&[
                file(
                    "000001_a.up.sql",
                    "-- migrate:no-transaction\nBEGIN;\nCREATE TABLE a (x);\nCOMMIT;"
                ),
                file("000001_a.down.sql", "-- migrate:no-transaction\nVACUUM;"),
            ])
            .is_ok()
        );
    }

    #[test]
    fn a_file_managing_its_own_transaction_is_one_problem_naming_the_directive() {
        let p = problems(&[
            file(
                "000001_a.up.sql",
                "-- written for x-no-tx-wrap\nBEGIN;\nCREATE TABLE a (x);\nCOMMIT;\n",
            ),
            file("000001_a.down.sql", "DROP TABLE a;"),
        ]);
        assert_eq!(
            p,
            [Problem::OwnTransaction {
                file: "000001_a.up.sql".into(),
                line: 2
            }]
        );
        assert_eq!(
            p[0].to_string(),
            "`000001_a.up.sql` line 2: the file manages its own transaction (`BEGIN` … `COMMIT`), \
             as files written for golang-migrate's `x-no-tx-wrap=true` do: add the line \
             `-- migrate:no-transaction` to it (`migrate-sqlite adopt --write` adds it to every such \
             file), or remove its `BEGIN` and `COMMIT` to run it in the transaction the runtime \
             opens, atomically with its version"
        );
    }

    #[test]
    fn rejects_irreversible_down_with_sql() {
        let p = problems(&[
            file("000001_a.up.sql", "SELECT 1;"),
            file(
                "000001_a.down.sql",
                "-- migrate:irreversible no\nDROP TABLE a;",
            ),
        ]);
        assert_eq!(
            p,
            [Problem::IrreversibleWithSql {
                file: "000001_a.down.sql".into()
            }]
        );
    }

    #[test]
    fn rejects_irreversible_and_lossy() {
        let p = problems(&[
            file("000001_a.up.sql", "SELECT 1;"),
            file(
                "000001_a.down.sql",
                "-- migrate:irreversible no\n-- migrate:lossy-down also",
            ),
        ]);
        assert_eq!(
            p,
            [Problem::IrreversibleAndLossy {
                file: "000001_a.down.sql".into()
            }]
        );
    }

    #[test]
    fn rejects_down_directives_in_the_up() {
        let p = problems(&[
            file("000001_a.up.sql", "SELECT 1;\n-- migrate:irreversible oops"),
            file("000001_a.down.sql", "SELECT 1;"),
        ]);
        assert_eq!(
            p,
            [Problem::MisplacedDirective {
                file: "000001_a.up.sql".into(),
                line: 2,
                directive: "irreversible",
                belongs_in: "000001_a.down.sql".into()
            }]
        );
    }

    #[test]
    fn rejects_unknown_directives() {
        let p = problems(&[
            file("000001_a.up.sql", "-- migrate:no-transation\nSELECT 1;"),
            file("000001_a.down.sql", "SELECT 1;"),
        ]);
        assert!(matches!(
            &p[..],
            [Problem::Directive {
                line: 1,
                error: DirectiveErrorKind::Unknown {
                    suggestion: Some("no-transaction"),
                    ..
                },
                ..
            }]
        ));
    }

    #[test]
    fn rejects_nul_bytes_naming_the_line() {
        let p = problems(&[
            file(
                "000001_a.up.sql",
                "CREATE TABLE a (x);\n\0CREATE TABLE b (y);",
            ),
            file("000001_a.down.sql", "DROP TABLE b;\nDROP TABLE a; -- \0"),
        ]);
        assert_eq!(
            p,
            [
                Problem::NulByte {
                    file: "000001_a.down.sql".into(),
                    line: 2
                },
                Problem::NulByte {
                    file: "000001_a.up.sql".into(),
                    line: 2
                }
            ]
        );
        assert_eq!(
            p[1].to_string(),
            "`000001_a.up.sql` line 2: a NUL byte ends the script for SQLite, so nothing after it \
             would run: remove it (for a NUL value in data, write `char(0)` or `x'00'`)"
        );
    }

    #[test]
    fn rejects_unclosed_comments() {
        let p = problems(&[
            file(
                "000001_a.up.sql",
                "CREATE TABLE a (x);\n/* b comes later\nCREATE TABLE b (y);",
            ),
            file("000001_a.down.sql", "DROP TABLE a;"),
        ]);
        assert_eq!(
            p,
            [Problem::UnclosedComment {
                file: "000001_a.up.sql".into(),
                line: 2
            }]
        );
        assert_eq!(
            p[0].to_string(),
            "`000001_a.up.sql` line 2: this `/*` comment is never closed, so SQLite would skip \
             everything after it: close it with `*/`"
        );
    }

    #[test]
    fn rejects_non_utf8_with_line() {
        let mut bad = file("000001_a.up.sql", "");
        bad.contents = Ok(b"SELECT 1;\nSELECT '\xff';".to_vec());
        let p = problems(&[bad, file("000001_a.down.sql", "SELECT 1;")]);
        assert_eq!(
            p,
            [Problem::NotUtf8 {
                file: "000001_a.up.sql".into(),
                line: 2
            }]
        );
    }

    #[test]
    fn rejects_unreadable_files() {
        let mut bad = file("000001_a.up.sql", "");
        bad.contents = Err("permission denied; make it a readable file".into());
        let p = problems(&[bad, file("000001_a.down.sql", "SELECT 1;")]);
        assert_eq!(
            p[0].to_string(),
            "cannot read `000001_a.up.sql`: permission denied; make it a readable file"
        );
    }

    #[test]
    fn reports_every_problem_at_once_sorted_by_file() {
        let files = [
            file("000001_a.up.sql", ""),
            file("000003_c.up.sql", "SELECT 1;"),
            file("tags.up.sql", "SELECT 1;"),
        ];
        let p = problems(&files);
        let kinds: Vec<String> = p
            .iter()
            .map(|p| format!("{}: {:?}", p.file(), std::mem::discriminant(p)))
            .collect();
        assert_eq!(p.len(), 5, "{kinds:?}");
        let files: Vec<String> = p.iter().map(Problem::file).collect();
        let mut sorted = files.clone();
        sorted.sort();
        assert_eq!(files, sorted);
    }

    #[test]
    fn accepts_bom_and_crlf() {
        let set = check(&[
            file("000001_a.up.sql", "\u{feff}CREATE TABLE a (x);\r\n"),
            file("000001_a.down.sql", "DROP TABLE a;\r\n"),
        ])
        .unwrap();
        assert_eq!(set[0].up().sql(), "CREATE TABLE a (x);\r\n");
        assert_eq!(
            set[0].up().checksum(),
            Checksum::of("CREATE TABLE a (x);\n")
        );
    }

    #[test]
    fn records_foreign_keys_off() {
        let set = check(&[
            file(
                "000001_a.up.sql",
                "PRAGMA foreign_keys = OFF;\nCREATE TABLE a (x);\nPRAGMA foreign_keys = ON;",
            ),
            file("000001_a.down.sql", "DROP TABLE a;"),
        ])
        .unwrap();
        assert!(set[0].up().disables_foreign_keys());
        assert!(!set[0].down().disables_foreign_keys());
    }
}
