//! In-file directives: comment lines of the form `-- migrate:<name> [argument]`.
//!
//! A directive is a line whose first non-blank characters are `--`, followed (after optional
//! spaces) by `migrate:`. Anything else that merely mentions `migrate:` is an ordinary
//! comment. An unknown directive is an error, so a typo never silently disables a rule.

use std::fmt;

use crate::database::Database;

/// The directives the grammar knows.
pub const KNOWN: [&str; 3] = ["irreversible", "no-transaction", "lossy-down"];

/// The directives found in one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Directives {
    /// `-- migrate:irreversible <reason>`: the migration cannot be rolled back.
    pub irreversible: Option<String>,
    /// `-- migrate:no-transaction`: run the script outside a transaction.
    pub no_transaction: bool,
    /// `-- migrate:lossy-down <reason>`: the down deliberately loses data.
    pub lossy_down: Option<String>,
    /// Every accepted directive, with its 1-based line, in file order.
    pub found: Vec<(usize, &'static str)>,
}

/// A directive line that could not be accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectiveError {
    /// 1-based line in the file.
    pub line: usize,
    /// What is wrong.
    pub kind: DirectiveErrorKind,
}

/// What is wrong with a directive line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DirectiveErrorKind {
    /// The name is not one of [`KNOWN`]; `suggestion` is the closest known name, if close.
    Unknown {
        /// The name as written.
        name: String,
        /// The known directive it most resembles.
        suggestion: Option<&'static str>,
    },
    /// `irreversible` and `lossy-down` need a reason after the name.
    MissingReason {
        /// The directive's name.
        name: &'static str,
    },
    /// `no-transaction` takes no argument.
    UnexpectedArgument {
        /// The directive's name.
        name: &'static str,
    },
    /// The same directive twice in one file.
    Repeated {
        /// The directive's name.
        name: &'static str,
    },
}

impl fmt::Display for DirectiveErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DirectiveErrorKind::Unknown { name, suggestion } => {
                write!(f, "unknown directive `-- migrate:{name}`")?;
                match suggestion {
                    Some(s) => write!(f, ": did you mean `-- migrate:{s}`?"),
                    None => write!(
                        f,
                        ": the known directives are {}",
                        KNOWN.map(|k| format!("`-- migrate:{k}`")).join(", ")
                    ),
                }
            }
            DirectiveErrorKind::MissingReason { name } => write!(
                f,
                "`-- migrate:{name}` needs a reason after it, as in `-- migrate:{name} <why>`"
            ),
            DirectiveErrorKind::UnexpectedArgument { name } => {
                write!(
                    f,
                    "`-- migrate:{name}` takes nothing after it: remove the rest of the line"
                )
            }
            DirectiveErrorKind::Repeated { name } => {
                write!(f, "`-- migrate:{name}` appears twice: keep one")
            }
        }
    }
}

/// Reads every directive of a file, and every error among them.
///
/// # Example
/// ```
/// let sql = "-- migrate:irreversible drops the legacy archive\n";
/// let (directives, errors) = migrate_core::directive::parse(sql);
/// assert_eq!(directives.irreversible.as_deref(), Some("drops the legacy archive"));
/// assert!(errors.is_empty());
/// ```
pub fn parse(sql: &str) -> (Directives, Vec<DirectiveError>) {
    let mut directives = Directives::default();
    let mut errors = Vec::new();
    for (index, line) in sql.lines().enumerate() {
        let Some((name, argument)) = directive_of(line) else {
            continue;
        };
        let line = index + 1;
        match apply(&mut directives, name, argument) {
            Ok(known) => directives.found.push((line, known)),
            Err(kind) => errors.push(DirectiveError { line, kind }),
        }
    }
    (directives, errors)
}

/// Whether a script manages its own transaction, as files written for golang-migrate's
/// `x-no-tx-wrap=true` do: its first statement is `BEGIN`, its last `COMMIT` or `END`, and
/// nothing between them controls the transaction. Returns the offset of the `BEGIN`.
///
/// Such a file needs `-- migrate:no-transaction`; it never gets it implicitly, because the
/// directive changes how a failure leaves the database (dirty, as golang-migrate does) and
/// that must be visible in the file.
///
/// # Example
/// ```
/// let sql = "BEGIN;\nCREATE TABLE a (x);\nCOMMIT;\n";
/// assert_eq!(migrate_core::directive::own_transaction(sql), Some(0));
/// assert_eq!(migrate_core::directive::own_transaction("CREATE TABLE a (x);"), None);
/// ```
pub fn own_transaction(sql: &str) -> Option<usize> {
    own_transaction_in(sql, Database::Sqlite)
}

/// [`own_transaction`] by `database`'s lexical rules; on PostgreSQL the first statement may
/// also be `START TRANSACTION`.
///
/// # Example
/// ```
/// use migrate_core::{Database, directive::own_transaction_in};
/// let sql = "START TRANSACTION;\nDO $$ BEGIN PERFORM 1; END $$;\nCOMMIT;\n";
/// assert_eq!(own_transaction_in(sql, Database::Postgres), Some(0));
/// ```
pub fn own_transaction_in(sql: &str, database: Database) -> Option<usize> {
    let statements = crate::sql::statements_in(sql, database);
    let (first, last) = (statements.first()?, statements.last()?);
    match crate::sql::transaction_control_in(sql, database).as_slice() {
        [(begin, b), (commit, c)]
            if matches!(b.as_str(), "BEGIN" | "START TRANSACTION")
                && matches!(c.as_str(), "COMMIT" | "END")
                && *begin == first.start
                && *commit == last.start =>
        {
            Some(*begin)
        }
        _ => None,
    }
}

/// Splits a directive line into its name and its (trimmed) argument.
fn directive_of(line: &str) -> Option<(&str, &str)> {
    let rest = line.trim_start().strip_prefix("--")?.trim_start();
    let rest = rest.strip_prefix("migrate:")?;
    let rest = rest.trim();
    Some(match rest.split_once(char::is_whitespace) {
        Some((name, argument)) => (name, argument.trim()),
        None => (rest, ""),
    })
}

/// Records one directive; returns its name as known.
fn apply(
    d: &mut Directives,
    name: &str,
    argument: &str,
) -> Result<&'static str, DirectiveErrorKind> {
    match name {
        "irreversible" => set_reason(&mut d.irreversible, "irreversible", argument),
        "lossy-down" => set_reason(&mut d.lossy_down, "lossy-down", argument),
        "no-transaction" => {
            if !argument.is_empty() {
                return Err(DirectiveErrorKind::UnexpectedArgument {
                    name: "no-transaction",
                });
            }
            if d.no_transaction {
                return Err(DirectiveErrorKind::Repeated {
                    name: "no-transaction",
                });
            }
            d.no_transaction = true;
            Ok("no-transaction")
        }
        other => Err(DirectiveErrorKind::Unknown {
            name: other.to_owned(),
            suggestion: suggest(other),
        }),
    }
}

fn set_reason(
    slot: &mut Option<String>,
    name: &'static str,
    argument: &str,
) -> Result<&'static str, DirectiveErrorKind> {
    if argument.is_empty() {
        return Err(DirectiveErrorKind::MissingReason { name });
    }
    if slot.is_some() {
        return Err(DirectiveErrorKind::Repeated { name });
    }
    *slot = Some(argument.to_owned());
    Ok(name)
}

/// The known directive closest to `name`, if it is within a few edits.
fn suggest(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    KNOWN
        .iter()
        .map(|known| (edit_distance(&name, known), *known))
        .filter(|(distance, _)| *distance <= 3)
        .min()
        .map(|(_, known)| known)
}

/// Levenshtein distance, for typo suggestions.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_known_directives() {
        let sql = "-- migrate:no-transaction\n  --migrate:irreversible data is archived\nVACUUM;\n-- migrate:lossy-down keeps only ids";
        let (d, errors) = parse(sql);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(d.no_transaction);
        assert_eq!(d.irreversible.as_deref(), Some("data is archived"));
        assert_eq!(d.lossy_down.as_deref(), Some("keeps only ids"));
        assert_eq!(
            d.found,
            [
                (1, "no-transaction"),
                (2, "irreversible"),
                (4, "lossy-down")
            ]
        );
    }

    #[test]
    fn ignores_ordinary_comments_and_code() {
        let (d, errors) =
            parse("-- this will migrate: nothing\nSELECT '-- migrate:bogus';\n/* -- migrate:x */");
        assert_eq!(d, Directives::default());
        assert!(d.found.is_empty());
        assert!(errors.is_empty());
    }

    #[test]
    fn rejects_unknown_directive_with_suggestion() {
        let (_, errors) = parse("\n-- migrate:irreversable because\n");
        assert_eq!(errors[0].line, 2);
        assert_eq!(
            errors[0].kind.to_string(),
            "unknown directive `-- migrate:irreversable`: did you mean `-- migrate:irreversible`?"
        );
        let (_, errors) = parse("-- migrate:frobnicate");
        assert!(
            errors[0]
                .kind
                .to_string()
                .contains("the known directives are")
        );
    }

    #[test]
    fn rejects_missing_reason() {
        let (_, errors) = parse("-- migrate:irreversible\n-- migrate:lossy-down   ");
        assert_eq!(errors.len(), 2);
        assert_eq!(
            errors[0].kind,
            DirectiveErrorKind::MissingReason {
                name: "irreversible"
            }
        );
        assert_eq!(
            errors[1].kind,
            DirectiveErrorKind::MissingReason { name: "lossy-down" }
        );
    }

    #[test]
    fn rejects_argument_to_no_transaction() {
        let (_, errors) = parse("-- migrate:no-transaction please");
        assert_eq!(
            errors[0].kind,
            DirectiveErrorKind::UnexpectedArgument {
                name: "no-transaction"
            }
        );
    }

    #[test]
    fn rejects_repeated_directive() {
        let (_, errors) = parse("-- migrate:no-transaction\n-- migrate:no-transaction");
        assert_eq!(errors[0].line, 2);
        assert_eq!(
            errors[0].kind,
            DirectiveErrorKind::Repeated {
                name: "no-transaction"
            }
        );
    }

    #[test]
    fn recognises_a_file_managing_its_own_transaction() {
        let own = "-- x-no-tx-wrap\nBEGIN TRANSACTION;\nCREATE TABLE a (x);\nINSERT INTO a VALUES (1);\nEND TRANSACTION;\n-- done\n";
        assert_eq!(own_transaction(own), Some(16));
        for not_own in [
            "CREATE TABLE a (x);",
            "BEGIN;\nCREATE TABLE a (x);",
            "CREATE TABLE a (x);\nCOMMIT;",
            "BEGIN;\nCREATE TABLE a (x);\nCOMMIT;\nVACUUM;",
            "BEGIN;\nCREATE TABLE a (x);\nCOMMIT;\nBEGIN;\nCREATE TABLE b (x);\nCOMMIT;",
            "BEGIN;\nCREATE TABLE a (x);\nROLLBACK;",
            "BEGIN;\nCOMMIT;\nCREATE TABLE a (x);",
        ] {
            assert_eq!(own_transaction(not_own), None, "{not_own}");
        }
    }

    #[test]
    fn reads_crlf_lines() {
        let (d, errors) = parse("-- migrate:irreversible gone\r\n-- migrate:no-transaction\r\n");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(d.irreversible.as_deref(), Some("gone"));
        assert!(d.no_transaction);
    }
}
