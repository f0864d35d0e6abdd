//! A script is applied whole or refused: a NUL byte anywhere in a migration file (SQLite stops
//! reading there, so the statements after it would silently never run) is refused, naming the
//! file and the line of the byte, wherever it is: in code, a string, a quoted identifier or a
//! comment, in the up or the down.

use migrate_core::source::SourceFile;
use migrate_core::{Problem, check};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// A realistic migration: several statements over several lines, with strings, comments, a
/// quoted identifier and a trigger body.
const UP: &str = "-- Tags for posts\nCREATE TABLE tags (\n  id INTEGER PRIMARY KEY,\n  \"name\" TEXT NOT NULL DEFAULT 'untitled; really'\n);\n/* one per post */\nCREATE TRIGGER tags_touch AFTER INSERT ON tags BEGIN\n  UPDATE tags SET name = trim(name) WHERE id = NEW.id;\nEND;\nINSERT INTO tags (name) VALUES ('rust'), ('sql');\n";
const DOWN: &str = "DROP TRIGGER tags_touch;\nDROP TABLE tags;\n";

fn file(name: &str, text: &str) -> SourceFile {
    SourceFile {
        file_name: name.into(),
        contents: Ok(text.as_bytes().to_vec()),
    }
}

#[test]
fn the_realistic_migration_is_accepted() {
    check(&[
        file("000001_tags.up.sql", UP),
        file("000001_tags.down.sql", DOWN),
    ])
    .unwrap_or_else(|p| panic!("{p:?}"));
}

#[test]
fn a_nul_byte_at_any_position_is_refused_with_its_line() {
    let config = Config {
        failure_persistence: None,
        ..Config::default()
    };
    let positions = (0..=UP.len() + DOWN.len(), 1usize..=3);
    TestRunner::new(config)
        .run(&positions, |(at, count)| {
            // `count` NUL bytes at one position, in the up or (past its end) in the down.
            let nuls = "\0".repeat(count);
            let (up, down, name, offset) = if at <= UP.len() {
                (
                    format!("{}{nuls}{}", &UP[..at], &UP[at..]),
                    DOWN.to_owned(),
                    "000001_tags.up.sql",
                    at,
                )
            } else {
                let at = at - UP.len() - 1;
                (
                    UP.to_owned(),
                    format!("{}{nuls}{}", &DOWN[..at], &DOWN[at..]),
                    "000001_tags.down.sql",
                    at,
                )
            };
            let text = if name.contains(".up.") { &UP } else { &DOWN };
            let line = text[..offset].matches('\n').count() + 1;
            let problems = check(&[
                file("000001_tags.up.sql", &up),
                file("000001_tags.down.sql", &down),
            ])
            .expect_err("a NUL byte must be refused");
            let expected = Problem::NulByte {
                file: name.to_owned(),
                line,
            };
            prop_assert!(
                problems.contains(&expected),
                "{problems:?}, expected {expected:?}"
            );
            // Nothing else is reported for the other file.
            prop_assert!(problems.iter().all(|p| p.file() == name), "{problems:?}");
            Ok(())
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
}
