//! SQL functions the application registers on its connections, declared for a migration set
//! as `name/arity` (`"normalize/2"`, `"bin2b64/1"`, `"slugify/*"` for any number of
//! arguments), so compile-time verification can run migrations that call them.

use std::borrow::Cow;
use std::fmt;

/// A function the application registers on its connections, by name and number of arguments.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AppFunction {
    name: Cow<'static, str>,
    /// `None`: any number of arguments.
    arity: Option<u8>,
}

/// The most arguments SQLite lets a function declare.
const MAX_ARITY: u8 = 127;

impl AppFunction {
    /// A function with this name and number of arguments (`None`: any number); used by the
    /// code `embed_migrations!` generates.
    pub const fn new(name: &'static str, arity: Option<u8>) -> AppFunction {
        AppFunction {
            name: Cow::Borrowed(name),
            arity,
        }
    }

    /// Reads a declaration: `name/N` (N from 0 to 127) or `name/*` (any number of arguments).
    ///
    /// # Errors
    /// What is wrong with it, and the expected form.
    ///
    /// # Example
    /// ```
    /// let f = migrate_core::AppFunction::parse("normalize/2").unwrap();
    /// assert_eq!((f.name(), f.arity()), ("normalize", Some(2)));
    /// assert!(migrate_core::AppFunction::parse("normalize").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<AppFunction, String> {
        let expected = "write it as `name/N`, N being its number of arguments (0 to 127), or \
                        `name/*` for any number, as in `normalize/2`";
        let Some((name, arity)) = text.rsplit_once('/') else {
            return Err(format!("`{text}` has no number of arguments: {expected}"));
        };
        let valid_name = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
        if !valid_name {
            return Err(format!(
                "`{name}` is not a function name SQL can call unquoted (letters, digits, `_`, \
                 `$`, not starting with a digit): {expected}"
            ));
        }
        let arity = match arity {
            "*" => None,
            n => match n.parse::<u8>() {
                Ok(n) if n <= MAX_ARITY && n.to_string() == arity => Some(n),
                _ => {
                    return Err(format!(
                        "`{arity}` in `{text}` is not a number of arguments: {expected}"
                    ));
                }
            },
        };
        Ok(AppFunction {
            name: Cow::Owned(name.to_owned()),
            arity,
        })
    }

    /// The function's name as SQL calls it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its number of arguments, or `None` for any number.
    pub fn arity(&self) -> Option<u8> {
        self.arity
    }
}

impl fmt::Display for AppFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.arity {
            Some(n) => write!(f, "{}/{n}", self.name),
            None => write!(f, "{}/*", self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_name_and_arity() {
        let f = AppFunction::parse("BIN2B64/1").unwrap();
        assert_eq!((f.name(), f.arity()), ("BIN2B64", Some(1)));
        assert_eq!(AppFunction::parse("slugify/*").unwrap().arity(), None);
        assert_eq!(AppFunction::parse("now/0").unwrap().to_string(), "now/0");
    }

    #[test]
    fn rejects_malformed_declarations() {
        for text in [
            "normalize",
            "/2",
            "2fa/1",
            "a-b/1",
            "f/128",
            "f/-1",
            "f/two",
            "f/+1",
            "f/01",
        ] {
            assert!(AppFunction::parse(text).is_err(), "{text}");
        }
        assert_eq!(
            AppFunction::parse("normalize").unwrap_err(),
            "`normalize` has no number of arguments: write it as `name/N`, N being its number of \
             arguments (0 to 127), or `name/*` for any number, as in `normalize/2`"
        );
    }
}
