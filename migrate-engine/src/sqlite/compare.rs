//! Comparing two schemas by meaning, in plain words: what verification and
//! [`crate::sqlite::testing::Snapshot`] report when a down does not give back the schema its up found.
//!
//! Policies (the README's "Compile-time verification" section says the same):
//! - SQLite's own objects (`sqlite_*` tables and the automatic indexes behind UNIQUE and
//!   PRIMARY KEY constraints) and the engine's version and history tables are never compared;
//! - an inline `UNIQUE (a, b)` and a `CREATE UNIQUE INDEX … ON t (a, b)` without `WHERE`,
//!   expressions or collations are the same thing for users (same enforcement, same conflict
//!   handling, both qualify as a foreign key's parent key), so one restored as the other is no
//!   difference;
//! - column order is compared, since `SELECT *` and `INSERT INTO t VALUES (…)` depend on it,
//!   unless the down is marked `-- migrate:lossy-down` (a down that adds back a dropped column
//!   with `ADD COLUMN` appends it, and has lost the column's values anyway).

use std::collections::{BTreeMap, BTreeSet};

use migrate_core::name::format_version;
use migrate_core::sql::{TokenKind, tokens};

use crate::sqlite::schema::{Entry, SchemaText, normalize};
use crate::sqlite::shape::{TableShape, table_shape};

/// How a comparison treats what a down cannot give back exactly.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Policy {
    /// The down is marked `-- migrate:lossy-down`: the order of a table's columns is not
    /// compared.
    pub(crate) lossy: bool,
}

/// Plain-words differences between two schemas; `version` names the migration in messages
/// (0: none, for two snapshots: "which existed before").
pub(crate) fn schema_differences(
    before: &SchemaText,
    after: &SchemaText,
    version: u64,
    policy: Policy,
) -> Vec<String> {
    if before == after {
        return Vec::new();
    }
    let since = if version == 0 {
        "before".to_owned()
    } else {
        format!("before {}", format_version(version))
    };
    let compared = |entry: &&Entry| !entry.name.to_ascii_lowercase().starts_with("sqlite_");
    let keys: BTreeSet<&(String, String)> = before
        .iter()
        .chain(after.iter())
        .filter(|(_, e)| compared(e))
        .map(|(k, _)| k)
        .collect();
    // Unique indexes added or dropped, which may stand for a UNIQUE constraint dropped or
    // added by the same down.
    let mut added_indexes: BTreeMap<(String, String), &Entry> = BTreeMap::new();
    let mut dropped_indexes: BTreeMap<(String, String), &Entry> = BTreeMap::new();
    for key in &keys {
        if key.0 != "index" {
            continue;
        }
        match (before.get(*key), after.get(*key)) {
            (None, Some(index)) => {
                if let Some(unique) = plain_unique_index(index) {
                    added_indexes.insert(unique, index);
                }
            }
            (Some(index), None) => {
                if let Some(unique) = plain_unique_index(index) {
                    dropped_indexes.insert(unique, index);
                }
            }
            _ => {}
        }
    }
    let mut absorbed: BTreeSet<String> = BTreeSet::new();
    let mut tables: BTreeMap<&(String, String), Vec<String>> = BTreeMap::new();
    for key in &keys {
        if key.0 != "table" {
            continue;
        }
        if let (Some(a), Some(b)) = (before.get(*key), after.get(*key))
            && a.sql != b.sql
        {
            let context = Context {
                since: &since,
                policy,
                added_indexes: &added_indexes,
                dropped_indexes: &dropped_indexes,
            };
            tables.insert(key, table_differences(a, b, &context, &mut absorbed));
        }
    }
    let mut out = Vec::new();
    for key in keys {
        let (kind, name) = key;
        match (before.get(key), after.get(key)) {
            (Some(a), Some(b)) if a.sql == b.sql => {}
            _ if absorbed.contains(name) => {}
            (None, Some(b)) => out.push(format!("leaves {kind} `{}` behind", b.name)),
            (Some(a), None) => {
                out.push(format!("drops {kind} `{}`, which existed {since}", a.name))
            }
            (Some(_), Some(_)) if kind == "table" => {
                out.extend(tables.remove(key).unwrap_or_default())
            }
            (Some(a), Some(b)) => {
                let (old, new) = (normalized(a), normalized(b));
                if old != new {
                    out.push(format!(
                        "changes {kind} `{}`: it was `{old}` {since} and is `{new}` after the down",
                        a.name
                    ));
                }
            }
            (None, None) => {}
        }
    }
    out
}

fn normalized(entry: &Entry) -> String {
    entry.sql.as_deref().map(normalize).unwrap_or_default()
}

/// For `CREATE UNIQUE INDEX name ON t (a, b)` with nothing else (no `WHERE`, expressions,
/// collations or sort orders): (`t` lowercase, `UNIQUE (A, B)`).
fn plain_unique_index(entry: &Entry) -> Option<(String, String)> {
    let sql = entry.sql.as_deref()?;
    let words: Vec<(TokenKind, String)> = tokens(sql)
        .filter(|t| t.is_code() && t.kind != TokenKind::Semicolon)
        .map(|t| {
            let text = &sql[t.start..t.end];
            let word = match t.kind {
                TokenKind::QuotedIdent => text[1..text.len().saturating_sub(1).max(1)].to_owned(),
                _ => text.to_owned(),
            };
            (t.kind, word.to_ascii_uppercase())
        })
        .collect();
    let prefix = ["CREATE", "UNIQUE", "INDEX"];
    let if_not_exists = ["IF", "NOT", "EXISTS"];
    let texts: Vec<&str> = words.iter().map(|(_, w)| w.as_str()).collect();
    let mut start = prefix.len();
    if texts.get(..start)? != prefix {
        return None;
    }
    if texts.get(start..start + 3) == Some(&if_not_exists[..]) {
        start += 3;
    }
    let rest = &words[start..];
    if rest.len() < 6 || rest[1].1 != "ON" || rest[3].1 != "(" || rest[rest.len() - 1].1 != ")" {
        return None;
    }
    let inner = &rest[4..rest.len() - 1];
    if inner.len().is_multiple_of(2) {
        return None;
    }
    let mut names = Vec::new();
    for (i, (kind, text)) in inner.iter().enumerate() {
        let expected = if i % 2 == 1 {
            text == ","
        } else {
            matches!(kind, TokenKind::Word | TokenKind::QuotedIdent)
        };
        if !expected {
            return None;
        }
        if i % 2 == 0 {
            names.push(text.as_str());
        }
    }
    Some((
        rest[2].1.to_ascii_lowercase(),
        format!("UNIQUE ({})", names.join(", ")),
    ))
}

struct Context<'a> {
    since: &'a str,
    policy: Policy,
    added_indexes: &'a BTreeMap<(String, String), &'a Entry>,
    dropped_indexes: &'a BTreeMap<(String, String), &'a Entry>,
}

/// A table's differences; the names of unique indexes that stand for one of its UNIQUE
/// constraints go to `absorbed`, so they are not reported either.
fn table_differences(
    before: &Entry,
    after: &Entry,
    context: &Context<'_>,
    absorbed: &mut BTreeSet<String>,
) -> Vec<String> {
    let shape = |entry: &Entry| entry.sql.as_deref().map(table_shape);
    let (Some(Ok(old)), Some(Ok(new))) = (shape(before), shape(after)) else {
        return if normalized(before) == normalized(after) {
            Vec::new()
        } else {
            vec![format!("changes table `{}`", before.name)]
        };
    };
    let table = &before.name;
    let since = context.since;
    let mut out = column_differences(table, &old, &new, context);
    let key = table.to_ascii_lowercase();
    let index_for = |indexes: &BTreeMap<(String, String), &Entry>, constraint: &str| {
        indexes
            .get(&(key.clone(), constraint.to_ascii_uppercase()))
            .map(|index| index.name.to_ascii_lowercase())
    };
    for gone in old.unique.difference(&new.unique) {
        match index_for(context.added_indexes, gone) {
            Some(index) => {
                absorbed.insert(index);
            }
            None => out.push(format!(
                "drops the constraint `{table} {gone}`, which existed {since}"
            )),
        }
    }
    for added in new.unique.difference(&old.unique) {
        match index_for(context.dropped_indexes, added) {
            Some(index) => {
                absorbed.insert(index);
            }
            None => out.push(format!(
                "leaves the constraint `{table} {added}`, added by the up, behind"
            )),
        }
    }
    for gone in old.foreign_keys.difference(&new.foreign_keys) {
        out.push(format!(
            "drops the foreign key `{table} {gone}`, which existed {since}"
        ));
    }
    for added in new.foreign_keys.difference(&old.foreign_keys) {
        out.push(format!(
            "leaves the foreign key `{table} {added}`, added by the up, behind"
        ));
    }
    let (old_checks, new_checks) = (multiset(&old.checks), multiset(&new.checks));
    for (check, count) in &old_checks {
        if new_checks.get(check).copied().unwrap_or(0) < *count {
            out.push(format!(
                "drops the constraint `{table} {check}`, which existed {since}"
            ));
        }
    }
    for (check, count) in &new_checks {
        if old_checks.get(check).copied().unwrap_or(0) < *count {
            out.push(format!(
                "leaves the constraint `{table} {check}`, added by the up, behind"
            ));
        }
    }
    if old.options != new.options {
        out.push(format!(
            "changes the options of `{table}`: `{}` {since}, `{}` after the down",
            old.options, new.options
        ));
    }
    out
}

fn multiset(items: &[String]) -> BTreeMap<&str, usize> {
    let mut out = BTreeMap::new();
    for item in items {
        *out.entry(item.as_str()).or_insert(0) += 1;
    }
    out
}

fn column_differences(
    table: &str,
    old: &TableShape,
    new: &TableShape,
    context: &Context<'_>,
) -> Vec<String> {
    let since = context.since;
    let mut out = Vec::new();
    let find = |shape: &TableShape, name: &str| {
        shape
            .columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
            .cloned()
    };
    for column in &new.columns {
        let name = &column.name;
        match find(old, name) {
            None => out.push(format!(
                "leaves column `{table}.{name}`, added by the up, behind"
            )),
            Some(was) if !was.same_definition(column) => out.push(format!(
                "changes column `{table}.{name}`: it was `{}` {since} and is `{}` after the down",
                was.describe(),
                column.describe()
            )),
            Some(_) => {}
        }
    }
    for column in &old.columns {
        if find(new, &column.name).is_none() {
            out.push(format!(
                "drops column `{table}.{}`, which existed {since}",
                column.name
            ));
        }
    }
    let names = |shape: &TableShape| {
        shape
            .columns
            .iter()
            .map(|c| c.name.to_ascii_lowercase())
            .collect::<Vec<_>>()
    };
    if out.is_empty() && names(old) != names(new) && !context.policy.lossy {
        let list = |shape: &TableShape| {
            shape
                .columns
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        out.push(format!(
            "reorders the columns of `{table}`: ({}) {since}, ({}) after the down (`ADD COLUMN` \
             appends), and `SELECT *` and `INSERT INTO {table} VALUES (…)` depend on the order: \
             recreate `{table}` in the down with its columns in the original order, or add \
             `-- migrate:lossy-down <reason>` to the down if another order is intended",
            list(old),
            list(new)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(sql: &[&str]) -> SchemaText {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(&sql.join(";\n")).unwrap();
        let mut mirror = crate::sqlite::mirror::Mirror::default();
        mirror
            .refresh(&conn, "schema_migrations", &BTreeSet::new(), true)
            .unwrap();
        mirror.entries
    }

    fn differences(before: &[&str], after: &[&str]) -> Vec<String> {
        schema_differences(&schema(before), &schema(after), 2, Policy::default())
    }

    #[test]
    fn a_unique_constraint_restored_as_a_unique_index_is_the_same() {
        let constraint = ["CREATE TABLE t (a TEXT, b TEXT, UNIQUE (a, b))"];
        let index = [
            "CREATE TABLE t (a TEXT, b TEXT)",
            "CREATE UNIQUE INDEX t_ab ON t (\"a\", b)",
        ];
        assert_eq!(differences(&constraint, &index), Vec::<String>::new());
        assert_eq!(differences(&index, &constraint), Vec::<String>::new());
        // Another column list, a partial index or a plain index is not the same.
        for other in [
            "CREATE UNIQUE INDEX t_ab ON t (b, a)",
            "CREATE UNIQUE INDEX t_ab ON t (a, b) WHERE a IS NOT NULL",
            "CREATE UNIQUE INDEX t_ab ON t (a COLLATE NOCASE, b)",
            "CREATE INDEX t_ab ON t (a, b)",
        ] {
            let found = differences(&constraint, &["CREATE TABLE t (a TEXT, b TEXT)", other]);
            assert_eq!(
                found,
                [
                    "leaves index `t_ab` behind",
                    "drops the constraint `t UNIQUE (a, b)`, which existed before 000002"
                ],
                "{other}"
            );
        }
    }

    #[test]
    fn sqlite_and_engine_objects_are_never_compared() {
        assert_eq!(
            differences(
                &["CREATE TABLE t (a TEXT UNIQUE)"],
                &[
                    "CREATE TABLE t (a TEXT UNIQUE)",
                    "CREATE TABLE schema_migrations (version uint64, dirty bool)",
                    "CREATE TABLE schema_migrations_history (id INTEGER PRIMARY KEY AUTOINCREMENT)",
                    "CREATE TABLE other (id INTEGER PRIMARY KEY AUTOINCREMENT)",
                ]
            ),
            ["leaves table `other` behind"]
        );
    }

    #[test]
    fn check_constraints_and_collations_are_compared() {
        assert_eq!(
            differences(
                &["CREATE TABLE t (a INTEGER CHECK (a > 0), b TEXT COLLATE NOCASE)"],
                &["CREATE TABLE t (a INTEGER, b TEXT)"]
            ),
            [
                "changes column `t.b`: it was `TEXT COLLATE NOCASE` before 000002 and is `TEXT` after the down",
                "drops the constraint `t CHECK (A > 0)`, which existed before 000002"
            ]
        );
        assert_eq!(
            differences(
                &["CREATE TABLE t (a INTEGER CHECK (a > 0), b TEXT COLLATE NOCASE)"],
                &["CREATE TABLE t (a INTEGER, b TEXT COLLATE nocase, CHECK (\"a\">0))"]
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn defaults_are_compared_by_the_value_sqlite_stores() {
        assert_eq!(
            differences(
                &["CREATE TABLE t (f BOOLEAN NOT NULL DEFAULT FALSE, g TEXT DEFAULT \"x\")"],
                &["CREATE TABLE t (f BOOLEAN NOT NULL DEFAULT 0, g TEXT DEFAULT 'x')"]
            ),
            Vec::<String>::new()
        );
        assert_eq!(
            differences(
                &["CREATE TABLE t (f BOOLEAN NOT NULL DEFAULT FALSE)"],
                &["CREATE TABLE t (f BOOLEAN NOT NULL DEFAULT 1)"]
            ),
            [
                "changes column `t.f`: it was `BOOLEAN NOT NULL DEFAULT FALSE` before 000002 and is `BOOLEAN NOT NULL DEFAULT 1` after the down"
            ]
        );
    }

    #[test]
    fn column_order_is_compared_unless_the_down_is_lossy() {
        let (before, after) = (
            schema(&["CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT)"]),
            schema(&["CREATE TABLE t (id INTEGER PRIMARY KEY, b TEXT, a TEXT)"]),
        );
        let found = schema_differences(&before, &after, 2, Policy::default());
        assert_eq!(found.len(), 1);
        assert!(
            found[0].starts_with(
                "reorders the columns of `t`: (id, a, b) before 000002, (id, b, a) after the down"
            ),
            "{found:?}"
        );
        assert!(schema_differences(&before, &after, 2, Policy { lossy: true }).is_empty());
    }
}
