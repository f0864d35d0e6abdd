//! What verification says: the findings' texts that do not come from the runtime's
//! [`Error`](crate::Error) (whose texts the verifier reuses).

use std::fmt;

/// One thing verification found wrong, naming the file (and line where it has one).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Finding {
    /// The file at fault, relative to the migrations directory.
    pub file: String,
    /// 1-based line within the file, where the finding has one.
    pub line: Option<usize>,
    /// The whole message: what is wrong, where, and what to do.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The finding for foreign keys that cannot work, each described by
/// [`foreign_keys::Malformed`]'s text; the runtime's [`Error::ForeignKeyMismatch`] carries the
/// same descriptions.
pub(super) fn malformed_finding(file: &str, malformed: &[String]) -> Finding {
    Finding {
        file: file.to_owned(),
        line: None,
        message: format!(
            "`{file}` leaves a foreign key that cannot work: {}; or, if the service runs with \
             foreign keys off on purpose, declare it: \
             `embed_migrations!(\"…\", foreign_keys = \"unenforced\")`",
            malformed.join("; and ")
        ),
    }
}

pub(super) fn sandbox_finding(file: &str, line: usize, what: &str) -> Finding {
    Finding {
        file: file.to_owned(),
        line: Some(line),
        message: format!(
            "`{file}` line {line}: {what} is not allowed in a migration verified at compile time, \
             because verifying must not touch the file system or load code: remove it, or turn \
             verification off for this crate (`default-features = false, features = [\"bundled\"]` \
             on `migrate-runtime`)"
        ),
    }
}

/// What to add to SQLite's message: for "no such function: NAME", that the application may
/// register it; for "foreign key mismatch", what it means.
pub(super) fn function_hint(message: &str) -> String {
    if let Some(tables) = message.strip_prefix("foreign key mismatch - ") {
        return format!(
            "; a foreign key ({}) names parent columns that are neither the parent's PRIMARY KEY \
             nor UNIQUE, so every write through it fails while foreign keys are enforced: \
             reference the primary key or a UNIQUE column; or, if the service runs with foreign \
             keys off on purpose, declare it: `embed_migrations!(\"…\", foreign_keys = \"unenforced\")`",
            tables.replace('"', "`")
        );
    }
    let Some(name) = message.strip_prefix("no such function: ") else {
        return String::new();
    };
    format!(
        "; if the application registers `{name}` on its connections, declare it so verification \
         can run a stand-in: `embed_migrations!(\"…\", functions = [\"{name}/N\"])`, N being its \
         number of arguments (`migrate-sqlite check --verify --function {name}/N`)"
    )
}

pub(super) fn internal(error: rusqlite::Error) -> Finding {
    Finding {
        file: String::new(),
        line: None,
        message: format!("verification could not read the in-memory database: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_function_gets_the_declaration_to_add() {
        assert_eq!(
            function_hint("no such function: slugify"),
            "; if the application registers `slugify` on its connections, declare it so \
             verification can run a stand-in: `embed_migrations!(\"…\", functions = \
             [\"slugify/N\"])`, N being its number of arguments (`migrate-sqlite check --verify \
             --function slugify/N`)"
        );
    }

    #[test]
    fn a_foreign_key_mismatch_is_explained() {
        let hint = function_hint("foreign key mismatch - \"posts\" referencing \"users\"");
        assert!(hint.contains("(`posts` referencing `users`)"), "{hint}");
        assert!(hint.contains("foreign_keys = \"unenforced\""), "{hint}");
    }

    #[test]
    fn other_messages_get_no_hint() {
        assert_eq!(function_hint("no such table: tags"), "");
    }

    #[test]
    fn malformed_foreign_keys_are_listed_in_one_finding() {
        let finding = malformed_finding(
            "000002_posts.up.sql",
            &["first".to_owned(), "second".to_owned()],
        );
        assert_eq!(finding.file, "000002_posts.up.sql");
        assert_eq!(finding.line, None);
        assert!(
            finding.message.starts_with(
                "`000002_posts.up.sql` leaves a foreign key that cannot work: first; and second; "
            ),
            "{}",
            finding.message
        );
    }

    #[test]
    fn a_sandbox_refusal_names_file_line_and_the_way_out() {
        let finding = sandbox_finding("000003_x.up.sql", 4, "`ATTACH`");
        assert_eq!(finding.line, Some(4));
        assert!(
            finding
                .message
                .starts_with("`000003_x.up.sql` line 4: `ATTACH` is not allowed"),
            "{}",
            finding.message
        );
        assert!(finding.message.contains("default-features = false"));
    }
}
