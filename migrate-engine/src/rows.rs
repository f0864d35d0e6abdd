//! A table's rows as text, and the differences between two readings in plain words, keyed by
//! primary key where the table has one: "row (id = 1) changed: status 'a' → 'inactive'".
//! Each database reads the rows its own way (`sqlite::schema::rows`, PostgreSQL's verifier);
//! the words are the same for both.

use std::collections::{BTreeMap, BTreeSet};

/// A table's rows, each value rendered as a literal, sorted, with the primary key's columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rows {
    pub(crate) columns: Vec<String>,
    /// The positions of the primary key's columns in `columns`.
    pub(crate) key: Vec<usize>,
    pub(crate) rows: Vec<Vec<String>>,
}

impl Rows {
    /// The same rows with their columns in the order of `columns`, when both have the same
    /// columns by name, as the database compares names (`same_name`: SQLite's ignore case,
    /// PostgreSQL's do not); `None` when they do not (the schema comparison reports that).
    pub(crate) fn aligned_to(
        &self,
        columns: &[String],
        same_name: impl Fn(&str, &str) -> bool,
    ) -> Option<Rows> {
        if self.columns == columns {
            return Some(self.clone());
        }
        if self.columns.len() != columns.len() {
            return None;
        }
        let order: Vec<usize> = columns
            .iter()
            .map(|c| self.columns.iter().position(|d| same_name(d, c)))
            .collect::<Option<_>>()?;
        let mut rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| order.iter().map(|i| row[*i].clone()).collect())
            .collect();
        rows.sort();
        let key = self
            .key
            .iter()
            .filter_map(|k| order.iter().position(|i| i == k))
            .collect();
        Some(Rows {
            columns: columns.to_vec(),
            key,
            rows,
        })
    }
}

/// The differences from `before` to `after` (same columns), at most `limit` of them, and how
/// many there are in all.
pub(crate) fn differences(before: &Rows, after: &Rows, limit: usize) -> (Vec<String>, usize) {
    let key_of = |row: &Vec<String>| -> String {
        if before.key.is_empty() {
            format!("({})", row.join(", "))
        } else {
            let parts: Vec<String> = before
                .key
                .iter()
                .map(|i| format!("{} = {}", before.columns[*i], row[*i]))
                .collect();
            format!("({})", parts.join(", "))
        }
    };
    let index = |rows: &Rows| {
        let mut map: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
        for row in &rows.rows {
            map.entry(key_of(row)).or_default().push(row.clone());
        }
        map
    };
    let (old, new) = (index(before), index(after));
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut out = Vec::new();
    for key in keys {
        match (old.get(key), new.get(key)) {
            (Some(a), Some(b)) if a == b => {}
            (Some(a), Some(b)) if a.len() == 1 && b.len() == 1 => {
                let changes: Vec<String> = before
                    .columns
                    .iter()
                    .zip(a[0].iter().zip(&b[0]))
                    .filter(|(_, (x, y))| x != y)
                    .map(|(column, (x, y))| format!("{column} {x} → {y}"))
                    .collect();
                out.push(format!("row {key} changed: {}", changes.join(", ")));
            }
            (Some(_), None) => out.push(format!("row {key} is missing")),
            (None, Some(_)) => out.push(format!("row {key} was added")),
            _ => out.push(format!("rows {key} differ")),
        }
    }
    let total = out.len();
    out.truncate(limit);
    (out, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(columns: &[&str], key: &[usize], rows: &[&[&str]]) -> Rows {
        Rows {
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            key: key.to_vec(),
            rows: rows
                .iter()
                .map(|r| r.iter().map(|v| (*v).to_owned()).collect())
                .collect(),
        }
    }

    #[test]
    fn differences_are_shown_by_key() {
        let before = rows(&["id", "v"], &[0], &[&["1", "'a'"], &["2", "'b'"]]);
        let after = rows(&["id", "v"], &[0], &[&["1", "NULL"], &["3", "'c'"]]);
        assert_eq!(
            differences(&before, &after, 5),
            (
                vec![
                    "row (id = 1) changed: v 'a' → NULL".to_owned(),
                    "row (id = 2) is missing".to_owned(),
                    "row (id = 3) was added".to_owned()
                ],
                3
            )
        );
        let (shown, total) = differences(&before, &after, 1);
        assert_eq!((shown.len(), total), (1, 3));
    }

    #[test]
    fn rows_without_a_key_are_whole_rows() {
        let before = rows(&["a", "b"], &[], &[&["1", "'x'"]]);
        let after = rows(&["b", "a"], &[], &[&["'x'", "1"]]);
        let aligned = after
            .aligned_to(&before.columns, |a, b| a == b)
            .expect("same columns");
        assert_eq!(differences(&before, &aligned, 5), (Vec::new(), 0));
        let other = rows(&["a", "b"], &[], &[&["2", "'x'"]]);
        assert_eq!(
            differences(&before, &other, 5).0,
            ["row (1, 'x') is missing", "row (2, 'x') was added"]
        );
    }
}
