//! Property tests of the rules every migrations directory goes through: the file-name grammar,
//! the directive parser, the SQL scanner and the set validation, on hostile input. Names are
//! drawn from well-formed ones, near misses (unicode, dots, digits only, very long digit
//! strings, wrong separators and extensions) and arbitrary strings; contents from SQL fragments
//! (strings, comments and quoted identifiers left open, triggers, transaction control,
//! `PRAGMA foreign_keys = OFF`), `-- migrate:` lines with random words, arbitrary bytes
//! (invalid UTF-8), a byte-order mark and CRLF line endings.
//!
//! The promises: nothing panics; a set is either accepted, with every file in exactly one
//! migration, or rejected with problems that each name one of the given files (and say so in
//! their message); conversely, every file that breaks a rule by an oracle written in this file
//! (a name the grammar refuses, unreadable or not UTF-8, a refused directive line, an up
//! without SQL, no file of the other direction, two files for one version and direction) gets
//! the set rejected and is named in a problem, and every line that is a directive by the
//! documented rule is reported by the directive parser; and the scanner's tokens and
//! statements account for every byte of the input.
//!
//! Each property runs proptest's default number of cases (256) and prints how many inputs it
//! tried. For a longer run:
//!
//! ```text
//! PROPTEST_CASES=20000 cargo test -p migrate-core --test properties -- --nocapture
//! ```

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use migrate_core::directive::{self, KNOWN};
use migrate_core::name::{self, Direction, FileName};
use migrate_core::source::SourceFile;
use migrate_core::sql::{self, TokenKind};
use migrate_core::{Checksum, Database, Migration, Problem, check, load_dir};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

// ---------------------------------------------------------------------------------------------
// The runner: proptest's default configuration (so `PROPTEST_CASES` applies), counting inputs.

/// What a property saw, printed when it ends.
#[derive(Default)]
struct Seen {
    inputs: usize,
    /// Named counts (accepted sets, problem kinds, …).
    counts: BTreeMap<String, usize>,
}

impl Seen {
    fn count(&mut self, what: impl Into<String>) {
        *self.counts.entry(what.into()).or_default() += 1;
    }
}

/// Runs `property` on inputs from `strategy`; panics with proptest's shrunk counterexample on
/// failure (a panic inside the property is a failure too), and prints what it tried.
fn run<S>(
    name: &str,
    strategy: S,
    property: impl Fn(S::Value, &mut Seen) -> Result<(), TestCaseError>,
) where
    S: Strategy,
    S::Value: Debug,
{
    // No regression file: a failure prints the shrunk input, which is what to turn into a
    // unit test in the module concerned.
    let config = Config {
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let seen = RefCell::new(Seen::default());
    let result = runner.run(&strategy, |value| {
        let mut seen = seen.borrow_mut();
        seen.inputs += 1;
        property(value, &mut seen)
    });
    let seen = seen.into_inner();
    let counts: Vec<String> = seen
        .counts
        .iter()
        .map(|(what, n)| format!("{what} {n}"))
        .collect();
    eprintln!(
        "{name}: {} inputs tried{}{}",
        seen.inputs,
        if counts.is_empty() { "" } else { "; " },
        counts.join(", ")
    );
    if let Err(failure) = result {
        panic!("{name}: {failure}");
    }
}

// ---------------------------------------------------------------------------------------------
// Strategies

const SMALL_NAMES: [&str; 5] = ["a", "b", "users", "add-tags", "x_1"];

fn direction() -> impl Strategy<Value = Direction> {
    prop_oneof![Just(Direction::Up), Just(Direction::Down)]
}

/// A file name: well-formed (small versions, so pairs, duplicates, gaps and mismatches happen),
/// a near miss built from hostile parts, or anything at all.
fn file_name() -> impl Strategy<Value = String> {
    prop_oneof![
        5 => (1u64..=6, prop::sample::select(SMALL_NAMES.to_vec()), direction(), 1usize..=8)
            .prop_map(|(version, name, direction, width)| {
                format!("{version:0width$}_{name}{}", direction.suffix())
            }),
        4 => (version_part(), separator_part(), name_part(), direction_part(), extension_part())
            .prop_map(|(v, s, n, d, e)| format!("{v}{s}{n}{d}{e}")),
        1 => "[0-9]{1,40}(\\.(up|down))?\\.sql",
        1 => any::<String>(),
    ]
}

fn version_part() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[0-9]{1,6}",
        // Beyond 64 bits, and at the edge of it.
        1 => "[0-9]{19,60}",
        1 => prop_oneof![
            Just("18446744073709551615".to_owned()),
            Just("18446744073709551616".to_owned()),
            Just("0".to_owned()),
            Just("000000".to_owned()),
        ],
        // Leading zeros far beyond the convention.
        1 => "0{7,40}[1-9]",
        // Digits that are not ASCII, signs, fractions.
        1 => "[٠-٩०-९０-９]{1,4}",
        1 => "[+-]?[0-9]{1,3}(\\.[0-9]{1,3})?",
        1 => Just(String::new()),
    ]
}

fn separator_part() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just("_".to_owned()),
        1 => prop::sample::select(vec!["-", "", "__", ".", " ", "\u{2010}"])
            .prop_map(str::to_owned),
    ]
}

fn name_part() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[A-Za-z0-9_-]{1,12}",
        1 => Just(String::new()),
        1 => "\\PC{1,12}",
        1 => "[a-z]{1,4}\\.[a-z]{1,4}",
        1 => "[éß日本😀\u{200b}\u{202e}]{1,4}",
    ]
}

fn direction_part() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![".up", ".down"]).prop_map(str::to_owned),
        1 => prop::sample::select(vec!["", ".UP", ".Down", ".dwn", ".up.down", ".", "..up"])
            .prop_map(str::to_owned),
    ]
}

fn extension_part() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just(".sql".to_owned()),
        1 => prop::sample::select(vec![".SQL", ".Sql", ".sql~", "", ".sql.bak", ".sql "])
            .prop_map(str::to_owned),
    ]
}

/// A file's contents: a script, or an error as if the file could not be read.
fn contents() -> impl Strategy<Value = Result<Vec<u8>, String>> {
    prop_oneof![
        12 => script().prop_map(Ok),
        1 => "\\PC{0,30}".prop_map(Err),
    ]
}

/// Fragments joined, then perhaps CRLF line endings and a byte-order mark.
fn script() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(fragment(), 0..12),
    )
        .prop_map(|(bom, crlf, parts)| {
            let mut bytes: Vec<u8> = parts.concat();
            if crlf {
                let mut with_crlf = Vec::with_capacity(bytes.len());
                for byte in bytes {
                    if byte == b'\n' {
                        with_crlf.push(b'\r');
                    }
                    with_crlf.push(byte);
                }
                bytes = with_crlf;
            }
            if bom {
                bytes.splice(0..0, [0xEF, 0xBB, 0xBF]);
            }
            bytes
        })
}

const SQL_FRAGMENTS: [&str; 40] = [
    "CREATE TABLE t (x INTEGER);\n",
    "DROP TABLE t;\n",
    "INSERT INTO t VALUES ('a;b', \"c;d\", [e;f], `g;h`);\n",
    "SELECT 'it''s; -- not a comment';\n",
    "BEGIN;\n",
    "BEGIN TRANSACTION;\n",
    "COMMIT;\n",
    "END;\n",
    "ROLLBACK;\n",
    "ROLLBACK TO sp;\n",
    "SAVEPOINT sp;\n",
    "VACUUM;\n",
    "CREATE TRIGGER g AFTER INSERT ON t BEGIN SELECT 1; END;\n",
    "CREATE TEMP TRIGGER g BEFORE DELETE ON t BEGIN\n\
     DELETE FROM u;\n\
     SELECT CASE 1 WHEN 1 THEN 2 END;\n\
     END;\n",
    "EXPLAIN CREATE TRIGGER",
    "CREATE TABLE end (begin);",
    "PRAGMA foreign_keys = OFF;\n",
    "PRAGMA main.foreign_keys(0);\n",
    "pragma \"foreign_keys\"='no'",
    "PRAGMA foreign_keys = ON;\n",
    "PRAGMA .",
    "-- a comment\n",
    "-- a comment without a newline",
    "/* a block; comment */",
    "/* unterminated block",
    "*/",
    "'unterminated string",
    "\"unterminated identifier",
    "[unterminated bracket",
    "`unterminated backtick",
    ";",
    ";;\n",
    "\n",
    "\r\n",
    " \t\x0c",
    "\r",
    "\u{feff}",
    "é日本😀",
    "$1 @x :y ?2",
    "--",
];

fn fragment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => prop::sample::select(SQL_FRAGMENTS.to_vec()).prop_map(|s| s.as_bytes().to_vec()),
        4 => directive_line().prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..24),
        1 => any::<String>().prop_map(String::into_bytes),
    ]
}

/// A line that is, or looks like, a directive, starting on a line of its own.
fn directive_line() -> impl Strategy<Value = String> {
    let argument = || {
        prop_oneof![
            Just(String::new()),
            "[ \t]{1,3}[a-z ]{0,20}",
            "[ \t]\\PC{0,20}",
        ]
    };
    let ending = || prop::sample::select(vec!["\n", "\n", "\r\n", "", " \n", "\t\n"]);
    let well_formed = (prop::sample::select(KNOWN.to_vec()), argument(), ending())
        .prop_map(|(word, argument, ending)| format!("\n-- migrate:{word}{argument}{ending}"));
    let opener = prop::sample::select(vec!["--", "--", "--", "-", "---", "/*", "# ", "-- --"]);
    let keyword = prop::sample::select(vec![
        "migrate:",
        "migrate:",
        "migrate:",
        "Migrate:",
        "migrate :",
        "migrate",
        "migrate::",
    ]);
    let word = prop_oneof![
        4 => prop::sample::select(KNOWN.to_vec()).prop_map(str::to_owned),
        2 => prop::sample::select(vec![
            "irreversable", "no-transation", "notransaction", "lossy_down", "IRREVERSIBLE",
            "no-transaction-please", "", "-",
        ])
        .prop_map(str::to_owned),
        1 => "[a-z-]{0,16}",
        1 => "\\PC{0,8}",
    ];
    let mutated = (
        "[ \t]{0,2}",
        opener,
        "[ \t]{0,2}",
        keyword,
        word,
        argument(),
        ending(),
    )
        .prop_map(|(indent, opener, space, keyword, word, argument, ending)| {
            format!("\n{indent}{opener}{space}{keyword}{word}{argument}{ending}")
        });
    prop_oneof![1 => well_formed, 2 => mutated]
}

/// A script as text: a generated one read lossily, or any string.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => script().prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
        1 => any::<String>(),
    ]
}

/// A set of files as `read_dir` would hand it to `check`.
fn file_set() -> impl Strategy<Value = Vec<SourceFile>> {
    prop::collection::vec((file_name(), contents()), 0..10).prop_map(|files| {
        files
            .into_iter()
            .map(|(file_name, contents)| SourceFile {
                file_name,
                contents,
            })
            .collect()
    })
}

/// A set that follows every rule: versions 1..=n, each with an up holding SQL and a down
/// holding SQL or marked irreversible, in any order, with BOMs, CRLF and comments.
fn valid_set() -> impl Strategy<Value = Vec<SourceFile>> {
    let migration = (
        "[A-Za-z0-9_-]{1,16}",
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop::sample::select(vec![
            "CREATE TABLE t (x);",
            "CREATE TRIGGER g AFTER INSERT ON t BEGIN SELECT 1; END;",
            "-- add it\nINSERT INTO t VALUES ('--;');\r\n/* done */",
            "PRAGMA foreign_keys = OFF;\nCREATE TABLE t2 (x);\nPRAGMA foreign_keys = ON;",
            "-- migrate:no-transaction\nVACUUM;",
        ]),
    );
    prop::collection::vec(migration, 0..7)
        .prop_shuffle()
        .prop_map(|migrations| {
            let mut files = Vec::new();
            for (index, (name, bom, crlf, irreversible, up)) in migrations.into_iter().enumerate() {
                let version = index as u64 + 1;
                let down = if irreversible {
                    "-- migrate:irreversible the data is gone\n"
                } else {
                    "DROP TABLE t;"
                };
                let text = |sql: &str| {
                    let sql = if crlf {
                        sql.replace('\n', "\r\n")
                    } else {
                        sql.to_owned()
                    };
                    let sql = if bom { format!("\u{feff}{sql}") } else { sql };
                    Ok(sql.into_bytes())
                };
                files.push(SourceFile {
                    file_name: FileName::canonical(version, &name, Direction::Up),
                    contents: text(up),
                });
                files.push(SourceFile {
                    file_name: FileName::canonical(version, &name, Direction::Down),
                    contents: text(down),
                });
            }
            files
        })
}

// ---------------------------------------------------------------------------------------------
// The set validation

fn problem_kind(problem: &Problem) -> String {
    let debug = format!("{problem:?}");
    debug
        .split([' ', '{', '('])
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The text `check` keeps for a file: valid UTF-8 without its byte-order mark.
fn kept_text(contents: &Result<Vec<u8>, String>) -> Option<&str> {
    let text = std::str::from_utf8(contents.as_ref().ok()?).ok()?;
    Some(text.strip_prefix('\u{feff}').unwrap_or(text))
}

/// The promises of `check` on any set of files.
fn check_is_total(files: &[SourceFile], seen: &mut Seen) -> Result<(), TestCaseError> {
    let names: BTreeSet<&str> = files.iter().map(|f| f.file_name.as_str()).collect();
    match check(files) {
        Ok(migrations) => {
            seen.count("accepted");
            accepted_set_is_faithful(files, &migrations)?;
        }
        Err(problems) => {
            seen.count("rejected");
            prop_assert!(!problems.is_empty(), "rejected without a problem");
            let mut previous: Option<(String, Option<usize>)> = None;
            for problem in &problems {
                seen.count(problem_kind(problem));
                let file = problem.file();
                prop_assert!(
                    names.contains(file.as_str()),
                    "{problem:?} names `{file}`, which is not one of the given files"
                );
                let message = problem.to_string();
                prop_assert!(
                    message.contains(&format!("`{file}`")),
                    "the message does not name `{file}`: {message}"
                );
                if let Some(line) = problem.line() {
                    let lines = files
                        .iter()
                        .filter(|f| f.file_name == file)
                        .filter_map(|f| f.contents.as_ref().ok())
                        .map(|bytes| bytes.iter().filter(|b| **b == b'\n').count() + 1)
                        .max()
                        .unwrap_or(1);
                    prop_assert!(
                        (1..=lines).contains(&line),
                        "{problem:?}: line {line} is outside the file's {lines} lines"
                    );
                }
                let key = (file, problem.line());
                prop_assert!(
                    previous.as_ref().is_none_or(|p| *p <= key),
                    "problems are not sorted by file and line"
                );
                previous = Some(key);
            }
        }
    }
    every_faulty_file_is_named(files, seen)?;
    // The verdict does not depend on the order the directory lists files in.
    let mut reversed = files.to_vec();
    reversed.reverse();
    prop_assert_eq!(check(files).is_ok(), check(&reversed).is_ok());
    if let (Ok(a), Ok(b)) = (check(files), check(&reversed)) {
        prop_assert_eq!(a, b);
    }
    Ok(())
}

/// The converse of the checks above: a file that breaks a rule, as an oracle written here sees
/// it, makes `check` reject the set and is named in one of its problems. (The checks above
/// look only at the problems `check` reports; this one looks for the ones it might miss.)
fn every_faulty_file_is_named(files: &[SourceFile], seen: &mut Seen) -> Result<(), TestCaseError> {
    let parsed: Vec<(u64, Direction)> = files
        .iter()
        .filter_map(|f| name::parse(&f.file_name).ok())
        .map(|n| (n.version, n.direction))
        .collect();
    let mut faults: Vec<(&str, &str)> = Vec::new();
    for file in files {
        let name = file.file_name.as_str();
        let parsed_name = name::parse(name);
        let Ok(parsed_name) = parsed_name else {
            faults.push((name, "a name that breaks the grammar"));
            continue;
        };
        match &file.contents {
            Err(_) => faults.push((name, "unreadable")),
            Ok(bytes) if std::str::from_utf8(bytes).is_err() => faults.push((name, "not UTF-8")),
            Ok(_) => {}
        }
        if let Some(text) = kept_text(&file.contents) {
            let up_sql = parsed_name.direction == Direction::Up;
            if !directive::parse(text).1.is_empty() {
                faults.push((name, "a directive line that is not accepted"));
            } else if up_sql && !sql::has_code(text) {
                faults.push((name, "an up without SQL"));
            }
        }
        let other = match parsed_name.direction {
            Direction::Up => Direction::Down,
            Direction::Down => Direction::Up,
        };
        let count = |direction| {
            parsed
                .iter()
                .filter(|p| **p == (parsed_name.version, direction))
                .count()
        };
        if count(other) == 0 {
            faults.push((name, "no file of the other direction"));
        }
        if count(parsed_name.direction) > 1 {
            faults.push((name, "several files for one version and direction"));
        }
    }
    if faults.is_empty() {
        return Ok(());
    }
    seen.count("sets with a fault the oracle sees");
    let problems = match check(files) {
        Ok(_) => {
            return Err(TestCaseError::fail(format!("accepted although {faults:?}")));
        }
        Err(problems) => problems,
    };
    let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
    for (file, fault) in faults {
        prop_assert!(
            messages.iter().any(|m| m.contains(&format!("`{file}`"))),
            "`{file}` has {fault} but no problem names it: {messages:#?}"
        );
    }
    Ok(())
}

/// An accepted set holds every file exactly once, in version order 1..=n, with its text.
fn accepted_set_is_faithful(
    files: &[SourceFile],
    migrations: &[Migration],
) -> Result<(), TestCaseError> {
    prop_assert_eq!(files.len(), 2 * migrations.len());
    let by_name: BTreeMap<&str, &SourceFile> =
        files.iter().map(|f| (f.file_name.as_str(), f)).collect();
    prop_assert_eq!(
        by_name.len(),
        files.len(),
        "a name given twice was accepted"
    );
    for (index, migration) in migrations.iter().enumerate() {
        prop_assert_eq!(migration.version(), index as u64 + 1);
        for direction in [Direction::Up, Direction::Down] {
            let script = migration.script(direction);
            let parsed = name::parse(script.file_name());
            prop_assert_eq!(
                parsed.map(|n| (n.version, n.name, n.direction)),
                Ok((migration.version(), migration.name().to_owned(), direction))
            );
            let file = by_name.get(script.file_name());
            prop_assert!(file.is_some(), "{} was not given", script.file_name());
            let text = file.and_then(|f| kept_text(&f.contents));
            prop_assert_eq!(Some(script.sql()), text);
            prop_assert_eq!(script.checksum(), Checksum::of(script.sql()));
        }
        prop_assert!(sql::has_code(migration.up().sql()));
        prop_assert!(sql::has_code(migration.down().sql()) || migration.irreversible().is_some());
    }
    Ok(())
}

#[test]
fn check_accepts_or_names_a_given_file_in_every_problem() {
    run("check, hostile sets", file_set(), |files, seen| {
        check_is_total(&files, seen)
    });
}

#[test]
fn check_accepts_every_valid_set_whatever_the_order() {
    run("check, valid sets", valid_set(), |files, seen| {
        let migrations = check(&files);
        prop_assert!(migrations.is_ok(), "{:?}", migrations.err());
        seen.count(format!("{} migrations", files.len() / 2));
        check_is_total(&files, seen)
    });
}

// ---------------------------------------------------------------------------------------------
// The file-name grammar

#[test]
fn name_parse_is_total_and_round_trips_through_canonical() {
    let names = prop_oneof![3 => file_name(), 1 => any::<String>()];
    run("name::parse", names, |file_name, seen| {
        let _ = name::is_candidate(&file_name);
        match name::parse(&file_name) {
            Ok(parsed) => {
                seen.count("accepted");
                let canonical = FileName::canonical(parsed.version, &parsed.name, parsed.direction);
                prop_assert_eq!(name::parse(&canonical), Ok(parsed.clone()));
                prop_assert!(file_name.ends_with(parsed.direction.suffix()));
                prop_assert!(name::check_name(&parsed.name).is_ok());
                prop_assert!(parsed.version >= 1);
                // Only the padding of the version can differ from the canonical form.
                let digits = file_name.len()
                    - file_name
                        .trim_start_matches(|c: char| c.is_ascii_digit())
                        .len();
                prop_assert_eq!(
                    &canonical[canonical.find('_').unwrap_or(0)..],
                    &file_name[digits..]
                );
            }
            Err(error) => {
                seen.count(format!("{error:?}").split('(').next().unwrap_or_default());
                prop_assert!(!error.to_string().is_empty());
            }
        }
        Ok(())
    });
}

#[test]
fn canonical_names_parse_back_to_their_parts() {
    let parts = (1u64.., "[A-Za-z0-9_-]{1,40}", direction());
    run(
        "FileName::canonical",
        parts,
        |(version, name, direction), _| {
            let canonical = FileName::canonical(version, &name, direction);
            prop_assert_eq!(
                name::parse(&canonical),
                Ok(FileName {
                    version,
                    name,
                    direction
                })
            );
            prop_assert!(name::is_candidate(&canonical));
            Ok(())
        },
    );
}

// ---------------------------------------------------------------------------------------------
// Directives

#[test]
fn directive_parse_is_total_and_points_at_directive_lines() {
    run("directive::parse", text(), |text, seen| {
        let (directives, errors) = directive::parse(&text);
        let lines: Vec<&str> = text.lines().collect();
        let mut claimed = BTreeSet::new();
        let reported = directives
            .found
            .iter()
            .map(|(line, _)| *line)
            .chain(errors.iter().map(|e| e.line));
        for line in reported {
            prop_assert!(
                (1..=lines.len()).contains(&line),
                "line {line} of {}",
                lines.len()
            );
            prop_assert!(
                lines[line - 1].contains("migrate:"),
                "line {line} is not a directive: {:?}",
                lines[line - 1]
            );
            prop_assert!(claimed.insert(line), "line {line} reported twice");
        }
        for (_, name) in &directives.found {
            prop_assert!(KNOWN.contains(name));
            seen.count(format!("found {name}"));
        }
        for error in &errors {
            prop_assert!(!error.kind.to_string().is_empty());
            seen.count(
                format!("{:?}", error.kind)
                    .split([' ', '{'])
                    .next()
                    .unwrap_or_default(),
            );
        }
        // The converse: every line that is a directive by the documented rule (first
        // non-blank characters `--`, then optional blanks, then `migrate:`) is reported,
        // found or refused. Written here from the rule, not from the parser.
        let directive_lines: BTreeSet<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, line)| {
                line.trim_start()
                    .strip_prefix("--")
                    .is_some_and(|rest| rest.trim_start().starts_with("migrate:"))
            })
            .map(|(index, _)| index + 1)
            .collect();
        prop_assert_eq!(
            &claimed,
            &directive_lines,
            "the lines reported (left) against the directive lines in the text (right)"
        );
        if !directive_lines.is_empty() {
            seen.count("texts with a directive line");
        }
        let found = |name: &str| directives.found.iter().any(|(_, n)| *n == name);
        prop_assert_eq!(directives.irreversible.is_some(), found("irreversible"));
        prop_assert_eq!(directives.lossy_down.is_some(), found("lossy-down"));
        prop_assert_eq!(directives.no_transaction, found("no-transaction"));
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------------
// The SQL scanner

#[test]
fn tokens_cover_the_input_exactly() {
    run("sql::tokens", text(), |text, seen| {
        let mut end = 0;
        for token in sql::tokens(&text) {
            prop_assert_eq!(token.start, end, "a gap or an overlap before {:?}", token);
            prop_assert!(token.end > token.start, "an empty token {:?}", token);
            prop_assert!(
                text.is_char_boundary(token.end),
                "{:?} splits a character",
                token
            );
            let slice = &text[token.start..token.end];
            let first = slice.as_bytes()[0];
            let consistent = match token.kind {
                TokenKind::Space => slice.bytes().all(|b| b" \t\n\r\x0c".contains(&b)),
                TokenKind::Comment => slice.starts_with("--") || slice.starts_with("/*"),
                TokenKind::String => first == b'\'',
                TokenKind::QuotedIdent => b"\"`[".contains(&first),
                TokenKind::Semicolon => slice == ";",
                TokenKind::Word => slice
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80),
                TokenKind::Punct => slice.chars().count() == 1,
            };
            prop_assert!(consistent, "{:?} is {:?}", slice, token.kind);
            seen.count(format!("{:?}", token.kind));
            end = token.end;
        }
        prop_assert_eq!(end, text.len(), "the tokens stop before the end");
        Ok(())
    });
}

#[test]
fn statements_partition_the_input() {
    run("sql::statements", text(), |text, seen| {
        let statements = sql::statements(&text);
        seen.count(match statements.len() {
            0 => "no statement",
            1 => "1 statement",
            _ => "several statements",
        });
        let mut rebuilt = String::with_capacity(text.len());
        let mut end = 0;
        for (index, statement) in statements.iter().enumerate() {
            let gap = &text[end..statement.text_start];
            prop_assert!(
                !sql::has_code(gap),
                "code dropped between statements: {gap:?}"
            );
            rebuilt.push_str(gap);
            let text_end = statement.text_start + statement.text.len();
            prop_assert_eq!(&text[statement.text_start..text_end], statement.text);
            prop_assert!((statement.text_start..text_end).contains(&statement.start));
            let lead = &text[statement.text_start..statement.start];
            prop_assert!(
                !sql::has_code(lead),
                "code before the statement's start: {lead:?}"
            );
            prop_assert!(sql::has_code(statement.text), "a statement without code");
            let first = sql::tokens(&text[statement.start..]).next();
            prop_assert!(first.is_some_and(|t| t.is_code()), "the start is not code");
            if index + 1 < statements.len() {
                prop_assert!(
                    statement.text.ends_with(';'),
                    "{:?} does not end with ;",
                    statement.text
                );
            }
            let (line, column) = sql::line_col(&text, statement.start);
            prop_assert!(line >= 1 && column >= 1);
            let excerpt = sql::excerpt(statement.text, 60);
            prop_assert!(excerpt.chars().count() <= 61);
            rebuilt.push_str(statement.text);
            end = text_end;
        }
        let tail = &text[end..];
        prop_assert!(
            !sql::has_code(tail),
            "code dropped after the last statement: {tail:?}"
        );
        rebuilt.push_str(tail);
        prop_assert_eq!(&rebuilt, &text);
        prop_assert_eq!(sql::has_code(&text), !statements.is_empty());

        let starts: BTreeSet<usize> = statements.iter().map(|s| s.start).collect();
        for (offset, keyword) in sql::transaction_control(&text) {
            prop_assert!(starts.contains(&offset));
            prop_assert!(
                ["BEGIN", "COMMIT", "END", "ROLLBACK", "VACUUM"].contains(&keyword.as_str())
            );
            seen.count(keyword);
        }
        if sql::disables_foreign_keys(&text) {
            seen.count("foreign_keys = OFF");
        }
        let _ = Checksum::of(&text);
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------------
// A real directory

/// A file-system name: a generated name, made storable (no `/`, no NUL, at most 200 bytes).
fn storable_name() -> impl Strategy<Value = String> {
    file_name().prop_map(|name| {
        let mut name: String = name.replace(['/', '\0'], "_");
        while name.len() > 200 {
            name.pop();
        }
        if name.is_empty() || name == "." || name == ".." {
            name = "x.sql".to_owned();
        }
        name
    })
}

/// A directory of files; some as subdirectories, one perhaps with a name that is not UTF-8.
fn directory() -> impl Strategy<Value = (Vec<(String, bool, Vec<u8>)>, bool)> {
    let entry = (storable_name(), prop::bool::weighted(0.05), script());
    (
        prop::collection::vec(entry, 0..10),
        prop::bool::weighted(0.2),
    )
}

fn scratch_dir() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "migrate-core-properties-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("creating a scratch directory");
    dir
}

fn write_directory(dir: &Path, entries: &[(String, bool, Vec<u8>)], non_utf8: bool) {
    for (name, is_dir, bytes) in entries {
        // A later entry of the same name replaces an earlier one, file or directory.
        let path = dir.join(name);
        let _ = fs::remove_file(&path);
        let _ = fs::remove_dir_all(&path);
        if *is_dir {
            fs::create_dir(&path).expect("creating a subdirectory");
        } else {
            fs::write(&path, bytes).expect("writing a file");
        }
    }
    if non_utf8 {
        let name = std::ffi::OsStr::from_bytes(b"000001_caf\xe9.up.sql");
        fs::write(dir.join(name), "SELECT 1;").expect("writing a non-UTF-8 name");
    }
}

#[test]
fn load_dir_on_a_real_directory_is_total() {
    run("load_dir", directory(), |(entries, non_utf8), seen| {
        let dir = scratch_dir();
        write_directory(&dir, &entries, non_utf8);
        let listed = migrate_core::source::read_dir(&dir).expect("listing the directory");
        let result = load_dir(&dir);
        let _ = fs::remove_dir_all(&dir);
        let names: BTreeSet<String> = listed.iter().map(|f| f.file_name.clone()).collect();
        prop_assert_eq!(result.is_ok(), check(&listed).is_ok());
        match result {
            Ok(_) => seen.count("accepted"),
            Err(problems) => {
                seen.count("rejected");
                for problem in &problems.0 {
                    seen.count(problem_kind(problem));
                    prop_assert!(
                        names.contains(&problem.file()),
                        "{problem:?} names a file the directory does not list"
                    );
                }
                let _ = problems.to_string();
            }
        }
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------------
// The SQL scanner on PostgreSQL

/// Complete PostgreSQL statements as users write them, each with `;` where only a lexer that
/// knows PostgreSQL keeps it inside, and whether it cannot run in a migration's transaction.
const POSTGRES_STATEMENTS: [(&str, bool); 14] = [
    (
        "CREATE TYPE order_status AS ENUM ('pending', 'paid', 'can''t; ship');",
        false,
    ),
    (
        "CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text DEFAULT E'a\\'; b');",
        false,
    ),
    (
        "CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  NEW.updated_at := now(); -- '\n  RETURN NEW;\nEND;\n$$;",
        false,
    ),
    (
        "CREATE FUNCTION audit() RETURNS trigger AS $audit$ BEGIN INSERT INTO log VALUES ('$$;'); RETURN NULL; END $audit$ LANGUAGE plpgsql;",
        false,
    ),
    (
        "CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION set_updated_at();",
        false,
    ),
    (
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'r') THEN CREATE ROLE r; END IF; END $$;",
        false,
    ),
    (
        "CREATE FUNCTION total(o int) RETURNS numeric LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN o > 0 THEN 1 ELSE 0 END; SELECT 2; END;",
        false,
    ),
    (
        "CREATE VIEW paid AS SELECT * FROM orders /* paid /* only; */ */ WHERE status = 'paid';",
        false,
    ),
    (
        "PREPARE q AS SELECT $1::int + \"a;b\".x FROM \"a;b\";",
        false,
    ),
    ("SELECT U&'d\\0061t;', ARRAY[']; ['][1];", false),
    (
        "CREATE INDEX CONCURRENTLY orders_by_status ON orders (status);",
        true,
    ),
    ("DROP INDEX CONCURRENTLY IF EXISTS orders_by_status;", true),
    ("COMMIT;", true),
    (
        "UPDATE orders SET note = $t$it's; done$t$ WHERE id = 1;",
        false,
    ),
];

/// Statements from [`POSTGRES_STATEMENTS`] (their indexes), each after white space or comments.
fn postgres_script() -> impl Strategy<Value = Vec<(usize, &'static str)>> {
    let gap = prop::sample::select(vec![
        "\n",
        " ",
        "\n-- a; b\n",
        "\n/* x; /* y; */ */\n",
        "\r\n\t",
    ]);
    prop::collection::vec((0..POSTGRES_STATEMENTS.len(), gap), 0..10)
}

/// PostgreSQL fragments, complete or left open, and arbitrary text.
fn postgres_text() -> impl Strategy<Value = String> {
    let fragment = prop::sample::select(vec![
        "$$",
        "$a$",
        "$1",
        "E'",
        "e'\\'",
        "U&'",
        "U&\"",
        "'",
        "''",
        "\"",
        "/*",
        "*/",
        "--",
        "\n",
        ";",
        "(",
        ")",
        "BEGIN",
        "ATOMIC",
        "END",
        "CASE",
        "CREATE",
        "FUNCTION",
        "OR",
        "REPLACE",
        "x$",
        " ",
        "\\",
        "é",
        "COMMIT",
        "START TRANSACTION",
        "CONCURRENTLY",
    ]);
    prop_oneof![
        4 => prop::collection::vec(fragment, 0..24).prop_map(|parts| parts.concat()),
        1 => any::<String>(),
    ]
}

#[test]
fn postgres_statements_are_the_ones_written() {
    run(
        "sql::statements_in(Postgres)",
        postgres_script(),
        |parts, seen| {
            let mut text = String::new();
            for (index, gap) in &parts {
                text.push_str(gap);
                text.push_str(POSTGRES_STATEMENTS[*index].0);
            }
            let statements = sql::statements_in(&text, Database::Postgres);
            let got: Vec<&str> = statements.iter().map(|s| s.text.trim_start()).collect();
            let mut expected = Vec::new();
            for (index, gap) in &parts {
                // A statement's text holds the comments before it.
                let gap = gap.trim_start();
                expected.push(format!("{gap}{}", POSTGRES_STATEMENTS[*index].0));
            }
            prop_assert_eq!(&got, &expected);
            prop_assert_eq!(sql::unterminated_in(&text, Database::Postgres), None);
            let outside: Vec<usize> = sql::transaction_control_in(&text, Database::Postgres)
                .into_iter()
                .map(|(offset, _)| offset)
                .collect();
            let expected_outside: Vec<usize> = statements
                .iter()
                .zip(&parts)
                .filter(|(_, (index, _))| POSTGRES_STATEMENTS[*index].1)
                .map(|(statement, _)| statement.start)
                .collect();
            prop_assert_eq!(outside, expected_outside);
            seen.count(format!("{} statements", parts.len().min(3)));
            Ok(())
        },
    );
}

#[test]
fn postgres_tokens_and_statements_cover_the_input_exactly() {
    run("sql::tokens_in(Postgres)", postgres_text(), |text, seen| {
        let mut end = 0;
        for token in sql::tokens_in(&text, Database::Postgres) {
            prop_assert_eq!(token.start, end, "a gap or an overlap before {:?}", token);
            prop_assert!(token.end > token.start, "an empty token {:?}", token);
            prop_assert!(
                text.is_char_boundary(token.end),
                "{:?} splits a character",
                token
            );
            seen.count(format!("{:?}", token.kind));
            end = token.end;
        }
        prop_assert_eq!(end, text.len(), "the tokens stop before the end");
        let statements = sql::statements_in(&text, Database::Postgres);
        let mut rebuilt = String::new();
        let mut end = 0;
        for statement in &statements {
            let gap = &text[end..statement.text_start];
            prop_assert!(
                !sql::has_code_in(gap, Database::Postgres),
                "code dropped: {gap:?}"
            );
            rebuilt.push_str(gap);
            rebuilt.push_str(statement.text);
            end = statement.text_start + statement.text.len();
        }
        let tail = &text[end..];
        prop_assert!(
            !sql::has_code_in(tail, Database::Postgres),
            "code dropped: {tail:?}"
        );
        rebuilt.push_str(tail);
        prop_assert_eq!(&rebuilt, &text);
        if let Some((offset, opening)) = sql::unterminated_in(&text, Database::Postgres) {
            prop_assert!(
                text[offset..].starts_with(&opening),
                "{opening:?} at {offset}"
            );
            seen.count("left open");
        }
        Ok(())
    });
}

/// `check_for(…, Postgres)` on hostile sets: it never panics, and each problem names one of the
/// given files, in its message too, at a line the file has, sorted; an accepted set keeps every
/// file and never records `PRAGMA foreign_keys = OFF`, which only SQLite means.
#[test]
fn postgres_check_accepts_or_names_a_given_file_in_every_problem() {
    run(
        "check_for(Postgres), hostile sets",
        file_set(),
        |files, seen| {
            let names: BTreeSet<&str> = files.iter().map(|f| f.file_name.as_str()).collect();
            match migrate_core::check::check_for(&files, Database::Postgres) {
                Ok(migrations) => {
                    seen.count("accepted");
                    prop_assert_eq!(migrations.len() * 2, files.len());
                    for migration in &migrations {
                        prop_assert!(!migration.up().disables_foreign_keys());
                        prop_assert!(!migration.down().disables_foreign_keys());
                    }
                }
                Err(problems) => {
                    seen.count("rejected");
                    prop_assert!(!problems.is_empty());
                    let mut previous: Option<(String, Option<usize>)> = None;
                    for problem in &problems {
                        seen.count(problem_kind(problem));
                        let file = problem.file();
                        prop_assert!(names.contains(file.as_str()), "{problem:?}");
                        let named = format!("`{file}`");
                        prop_assert!(problem.to_string().contains(&named), "{problem}");
                        if let Some(line) = problem.line() {
                            let lines = files
                                .iter()
                                .filter(|f| f.file_name == file)
                                .filter_map(|f| f.contents.as_ref().ok())
                                .map(|bytes| bytes.iter().filter(|b| **b == b'\n').count() + 1)
                                .max()
                                .unwrap_or(1);
                            prop_assert!((1..=lines).contains(&line), "{problem:?}");
                        }
                        let key = (file, problem.line());
                        prop_assert!(previous.as_ref().is_none_or(|p| *p <= key));
                        previous = Some(key);
                    }
                }
            }
            Ok(())
        },
    );
}
