//! The version table, in golang-migrate's sqlite3 layout, so a database migrated by a Go
//! service continues under this runtime, and back:
//!
//! ```sql
//! CREATE TABLE IF NOT EXISTS schema_migrations (version uint64,dirty bool);
//! CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON schema_migrations (version);
//! ```
//!
//! It holds one row, the current version and whether it is dirty; an empty table means nothing
//! is applied.

use migrate_core::Checksum;
use rusqlite::Connection;
use rusqlite::types::ValueRef;

use crate::error::Error;
use crate::values::SchemaVersion;

/// A validated version-table name.
#[derive(Clone, Copy, Debug)]
pub(crate) struct VersionTable<'a> {
    name: &'a str,
}

/// [`idle_read`] for the default names.
const IDLE_READ_DEFAULT: &str = "SELECT version, dirty, (SELECT version || ' ' || lineage FROM \
     \"schema_migrations_history\" WHERE version <= v.version AND direction = 'up' \
     ORDER BY version DESC, id DESC LIMIT 1) FROM \"schema_migrations\" v";

/// The start-up read: the version, the dirty flag and `version lineage` of the newest up
/// recorded at or below the version.
fn idle_read(table: &str, history: &str) -> String {
    format!(
        "SELECT version, dirty, (SELECT version || ' ' || lineage FROM \
         \"{history}\" WHERE version <= v.version AND direction = 'up' \
         ORDER BY version DESC, id DESC LIMIT 1) FROM \"{table}\" v"
    )
}

/// The lineage the history table records with an up, as its 64 hexadecimal digits: at every
/// start it is compared with the embedded lineage digit by digit, without being decoded.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RecordedLineage([u8; 64]);

impl RecordedLineage {
    /// `version lineage`, as the idle read gives it; `None` unless the version is a number and
    /// the lineage 64 bytes long.
    fn parse(text: &[u8]) -> Option<(u64, RecordedLineage)> {
        let space = text.iter().position(|b| *b == b' ')?;
        let version = std::str::from_utf8(&text[..space]).ok()?.parse().ok()?;
        let digits = <[u8; 64]>::try_from(&text[space + 1..]).ok()?;
        Some((version, RecordedLineage(digits)))
    }

    /// Whether the digits are `lineage`'s, in either case. Text that is not hexadecimal may
    /// also pass; [`RecordedLineage::checksum`] would read it as no lineage at all, which the
    /// idle path treats alike (nothing to compare).
    pub(crate) fn is(&self, lineage: Checksum) -> bool {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        self.0.chunks_exact(2).zip(lineage.0).all(|(pair, byte)| {
            pair[0] | 0x20 == DIGITS[usize::from(byte >> 4)]
                && pair[1] | 0x20 == DIGITS[usize::from(byte & 0x0f)]
        })
    }

    /// The recorded lineage decoded; `None` if its digits are not hexadecimal.
    pub(crate) fn checksum(&self) -> Option<Checksum> {
        Checksum::from_hex(std::str::from_utf8(&self.0).ok()?)
    }
}

impl<'a> VersionTable<'a> {
    /// Accepts plain identifiers only, so the name can be put into SQL safely, and refuses
    /// SQLite's reserved `sqlite_` prefix.
    pub(crate) fn new(name: &'a str) -> Result<VersionTable<'a>, Error> {
        // The default name (nearly every service) is checked at every start.
        if name == "schema_migrations" {
            return Ok(VersionTable { name });
        }
        let mut chars = name.chars();
        let valid = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
            && name.len() <= 128
            && !name
                .get(..7)
                .is_some_and(|prefix| prefix.eq_ignore_ascii_case("sqlite_"));
        if valid {
            Ok(VersionTable { name })
        } else {
            Err(Error::InvalidTableName {
                name: name.to_owned(),
            })
        }
    }

    pub(crate) fn name(&self) -> &'a str {
        self.name
    }

    /// Whether the table exists (a lookup in SQLite's schema hash, not a scan).
    pub(crate) fn exists(&self, conn: &Connection) -> Result<bool, Error> {
        table_exists(conn, self.name).map_err(Error::sqlite("looking for the version table"))
    }

    /// Creates the table exactly as golang-migrate does, to the letter of the stored schema
    /// (the name is unquoted there, as in the Go driver; [`VersionTable::new`] made it safe).
    pub(crate) fn create(&self, conn: &Connection) -> Result<(), Error> {
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {0} (version uint64,dirty bool);\n\
             CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON {0} (version);",
            self.name
        ))
        .map_err(Error::sqlite("creating the version table"))
    }

    /// Reads the state; the table must exist. Anything golang-migrate would not have written
    /// is an error, never "nothing applied".
    pub(crate) fn read(&self, conn: &Connection) -> Result<SchemaVersion, Error> {
        let mut statement = conn
            .prepare(&format!("SELECT version, dirty FROM \"{}\"", self.name))
            .map_err(Error::sqlite("reading the version"))?;
        let mut rows = statement
            .query([])
            .map_err(Error::sqlite("reading the version"))?;
        let Some(row) = rows.next().map_err(Error::sqlite("reading the version"))? else {
            return Ok(SchemaVersion::default());
        };
        let version = row
            .get_ref(0)
            .map_err(Error::sqlite("reading the version"))?;
        let dirty = row
            .get_ref(1)
            .map_err(Error::sqlite("reading the version"))?;
        let state = self.decode(version, dirty)?;
        let mut extra = 0;
        while rows
            .next()
            .map_err(Error::sqlite("reading the version"))?
            .is_some()
        {
            extra += 1;
        }
        if extra > 0 {
            return Err(self.corrupt(format!(
                "holds {} rows, but golang-migrate's layout keeps exactly one (the current version)",
                extra + 1
            )));
        }
        Ok(state)
    }

    /// The start-up read: the state and, in the same statement, the newest up recorded in
    /// the history table at or below the current version with its lineage (`None`: not
    /// recorded). Fails when either table is missing or holds anything unexpected; the caller
    /// then takes another path, which reports it.
    pub(crate) fn read_with_lineage(
        &self,
        conn: &Connection,
        history: &str,
    ) -> Result<(SchemaVersion, Option<(u64, RecordedLineage)>), Error> {
        let doing = "reading the version";
        // With the default names (nearly every service) the text is a constant: nothing is
        // formatted at start-up.
        let formatted;
        let sql = if self.name == "schema_migrations" && history == "schema_migrations_history" {
            IDLE_READ_DEFAULT
        } else {
            formatted = idle_read(self.name, history);
            &formatted
        };
        // Compiling this statement is most of an idle `up` (a correlated subquery: 45 k
        // instructions against 13 k for reading the version alone, `bench/guard`). With the
        // statement cache, a connection compiles it once; SQLite compiles it again by itself
        // when the schema changed, and every step reads the tables afresh, so a cached
        // statement sees what another connection committed in between like a new one.
        #[cfg(feature = "statement-cache")]
        let mut statement = conn.prepare_cached(sql).map_err(Error::sqlite(doing))?;
        #[cfg(not(feature = "statement-cache"))]
        let mut statement = conn.prepare(sql).map_err(Error::sqlite(doing))?;
        let mut rows = statement.query([]).map_err(Error::sqlite(doing))?;
        let Some(row) = rows.next().map_err(Error::sqlite(doing))? else {
            return Ok((SchemaVersion::default(), None));
        };
        let state = self.decode(
            row.get_ref(0).map_err(Error::sqlite(doing))?,
            row.get_ref(1).map_err(Error::sqlite(doing))?,
        )?;
        // `version lineage` of the history row, as one text (one scalar subquery compiles
        // faster than a join on one).
        let recorded = match row.get_ref(2).map_err(Error::sqlite(doing))? {
            ValueRef::Text(text) => RecordedLineage::parse(text),
            _ => None,
        };
        if rows.next().map_err(Error::sqlite(doing))?.is_some() {
            return Err(self.corrupt("holds more than one row".to_owned()));
        }
        Ok((state, recorded))
    }

    /// Refuses, before anything is written, a version table whose columns would not keep what
    /// this runtime writes as golang-migrate's layout has it (`version uint64, dirty bool`):
    /// a missing column, or one declared so that SQLite converts integers to text or to
    /// floating point.
    pub(crate) fn check_layout(&self, conn: &Connection) -> Result<(), Error> {
        let doing = "reading the version table's columns";
        let mut statement = conn
            .prepare("SELECT lower(name), type FROM pragma_table_info(?1)")
            .map_err(Error::sqlite(doing))?;
        let columns: Vec<(String, String)> = statement
            .query_map([self.name], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(Error::sqlite(doing))?
            .collect::<Result<_, _>>()
            .map_err(Error::sqlite(doing))?;
        let mut problems = Vec::new();
        for wanted in ["version", "dirty"] {
            match columns.iter().find(|(name, _)| name == wanted) {
                None => problems.push(format!("has no column `{wanted}`")),
                Some((_, declared)) => {
                    if let Some(affinity) = converting_affinity(declared) {
                        problems.push(format!(
                            "declares column `{wanted}` as `{declared}`, so SQLite would store \
                             the integers this tool and golang-migrate write there as {affinity}"
                        ));
                    }
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::CorruptVersionTable {
                table: self.name.to_owned(),
                problem: format!(
                    "{} (golang-migrate creates it as `version uint64, dirty bool`)",
                    problems.join(" and ")
                ),
            })
        }
    }

    fn decode(&self, version: ValueRef<'_>, dirty: ValueRef<'_>) -> Result<SchemaVersion, Error> {
        let dirty = match dirty {
            ValueRef::Integer(0) => false,
            ValueRef::Integer(1) => true,
            ValueRef::Integer(other) => {
                return Err(
                    self.corrupt(format!("holds dirty = {other}, which is neither 0 nor 1"))
                );
            }
            other => {
                return Err(self.corrupt(format!(
                    "holds dirty = {}, stored as {}, where golang-migrate stores the integer 0 or 1",
                    describe(other),
                    storage_class(other)
                )));
            }
        };
        let version = match version {
            ValueRef::Integer(0) => None,
            // golang-migrate records a failed first down as version -1, dirty.
            ValueRef::Integer(-1) if dirty => None,
            ValueRef::Integer(v) if v > 0 => Some(v.unsigned_abs()),
            ValueRef::Integer(v) => {
                return Err(self.corrupt(format!("holds the negative version {v}")));
            }
            ValueRef::Real(r) => {
                return Err(self.corrupt(format!(
                    "holds version {}, stored as a floating-point number (REAL), where \
                     golang-migrate stores an integer",
                    describe(ValueRef::Real(r))
                )));
            }
            ValueRef::Text(t) => {
                return Err(self.corrupt(format!(
                    "holds version {}, stored as text, where golang-migrate stores an integer",
                    describe(ValueRef::Text(t))
                )));
            }
            other => {
                return Err(self.corrupt(format!(
                    "holds version {}, which is not a whole number",
                    describe(other)
                )));
            }
        };
        Ok(SchemaVersion { version, dirty })
    }

    fn corrupt(&self, problem: String) -> Error {
        Error::CorruptVersionTable {
            table: self.name.to_owned(),
            problem,
        }
    }

    /// Records a state as golang-migrate does: delete every row, then insert the one row
    /// (none when nothing is applied and the state is clean).
    pub(crate) fn write(&self, conn: &Connection, state: SchemaVersion) -> Result<(), Error> {
        let doing = "recording the version";
        conn.execute(&format!("DELETE FROM \"{}\"", self.name), [])
            .map_err(Error::sqlite(doing))?;
        let version = match (state.version, state.dirty) {
            (Some(v), _) => i64::try_from(v).map_err(|_| {
                self.corrupt(format!(
                    "cannot hold version {v}, which exceeds SQLite's integers"
                ))
            })?,
            (None, true) => -1,
            (None, false) => return Ok(()),
        };
        conn.execute(
            &format!(
                "INSERT INTO \"{}\" (version, dirty) VALUES (?1, ?2)",
                self.name
            ),
            (version, state.dirty),
        )
        .map_err(Error::sqlite(doing))?;
        Ok(())
    }
}

/// Whether a table of this name exists in the main schema (a view does not count): a lookup
/// in SQLite's schema hash (`sqlite3_table_column_metadata`), where `pragma_table_list(name)`
/// walks every table, which made each run cost the size of the schema.
///
/// The hash is this connection's copy of the schema, which another connection may have
/// changed since: a read of `sqlite_master` first makes SQLite compare the schema cookie and
/// reload its copy if it is stale (inside the caller's transaction, so it stays current).
pub(crate) fn table_exists(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    refresh_schema(conn)?;
    conn.table_exists(Some("main"), name)
}

/// Whether the main schema's table `table` has a column `column`: a lookup in SQLite's schema
/// hash like [`table_exists`], where a `pragma_table_info` query compiled and ran a virtual
/// table on every call (a run asks several times, and verification makes three runs a
/// migration).
pub(crate) fn column_exists(
    conn: &Connection,
    table: &str,
    column: &str,
) -> rusqlite::Result<bool> {
    refresh_schema(conn)?;
    conn.column_exists(Some("main"), table, column)
}

/// Makes SQLite compare the schema cookie and reload this connection's copy of the schema if
/// another connection changed it (a read of `sqlite_master`).
fn refresh_schema(conn: &Connection) -> rusqlite::Result<()> {
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE rowid = 0",
        [],
        |row| row.get::<_, i64>(0),
    )?;
    Ok(())
}

/// The affinity (SQLite's type-name rules) of a declared column type, when it converts the
/// integers the version table holds into something else.
fn converting_affinity(declared: &str) -> Option<&'static str> {
    let upper = declared.to_ascii_uppercase();
    if upper.contains("INT") {
        None
    } else if ["CHAR", "CLOB", "TEXT"].iter().any(|t| upper.contains(t)) {
        Some("text")
    } else if upper.contains("BLOB") || upper.trim().is_empty() {
        None
    } else if ["REAL", "FLOA", "DOUB"].iter().any(|t| upper.contains(t)) {
        Some("floating-point numbers")
    } else {
        None
    }
}

fn storage_class(value: ValueRef<'_>) -> &'static str {
    match value {
        ValueRef::Null => "NULL",
        ValueRef::Integer(_) => "an integer",
        ValueRef::Real(_) => "a floating-point number (REAL)",
        ValueRef::Text(_) => "text",
        ValueRef::Blob(_) => "a blob",
    }
}

fn describe(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Null => "NULL".to_owned(),
        ValueRef::Integer(i) => i.to_string(),
        // A whole number below 1e16 is exact as an integer: `{r:.1}`'s text without the float
        // printer.
        ValueRef::Real(r) if r.is_finite() && r.fract() == 0.0 && r.abs() < 1e16 => {
            let sign = if r.is_sign_negative() { "-" } else { "" };
            format!("{sign}{}.0", r.abs() as u64)
        }
        ValueRef::Real(value) => crate::decimal::Shortest {
            value,
            exponent: value.abs() >= 1e16 || value.is_nan(),
        }
        .to_string(),
        ValueRef::Text(t) => format!("'{}'", String::from_utf8_lossy(t)),
        ValueRef::Blob(b) => format!("a {}-byte blob", b.len()),
    }
}

#[cfg(test)]
mod idle_read_tests {
    use super::{IDLE_READ_DEFAULT, VersionTable, idle_read};

    #[test]
    fn the_constant_idle_read_is_the_formatted_one_for_the_default_names() {
        assert_eq!(
            IDLE_READ_DEFAULT,
            idle_read("schema_migrations", "schema_migrations_history")
        );
    }

    #[test]
    fn a_recorded_lineage_is_compared_digit_by_digit() {
        use super::RecordedLineage;
        use migrate_core::Checksum;
        let lineage = Checksum::of("CREATE TABLE t (x);");
        let hex = lineage.to_hex();
        let (version, recorded) = RecordedLineage::parse(format!("12 {hex}").as_bytes()).unwrap();
        assert_eq!(version, 12);
        assert!(recorded.is(lineage));
        assert_eq!(recorded.checksum(), Some(lineage));
        let (_, upper) =
            RecordedLineage::parse(format!("12 {}", hex.to_uppercase()).as_bytes()).unwrap();
        assert!(upper.is(lineage));
        // One digit off, at either end.
        for at in [0, 63] {
            let mut digits = hex.clone().into_bytes();
            digits[at] = if digits[at] == b'0' { b'1' } else { b'0' };
            let text = [b"12 ".as_slice(), &digits].concat();
            let (_, other) = RecordedLineage::parse(&text).unwrap();
            assert!(!other.is(lineage));
            assert!(other.checksum().is_some_and(|c| c != lineage));
        }
        assert!(RecordedLineage::parse(format!("x12 {hex}").as_bytes()).is_none());
        assert!(RecordedLineage::parse(format!("12 {hex}0").as_bytes()).is_none());
        assert!(RecordedLineage::parse(hex.as_bytes()).is_none());
        let (_, junk) =
            RecordedLineage::parse(format!("12 {}", "z".repeat(64)).as_bytes()).unwrap();
        assert!(!junk.is(lineage));
        assert_eq!(junk.checksum(), None);
    }

    #[test]
    fn names_starting_with_sqlite_are_refused_in_any_case() {
        for name in ["sqlite_x", "SQLite_versions", "sqlite_"] {
            assert!(VersionTable::new(name).is_err(), "{name}");
        }
        for name in [
            "sqlite",
            "sqlitex",
            "my_sqlite_versions",
            "schema_migrations",
        ] {
            assert!(VersionTable::new(name).is_ok(), "{name}");
        }
    }
}

#[cfg(test)]
mod describe_tests {
    use super::describe;
    use rusqlite::types::ValueRef;

    #[test]
    fn describes_reals_as_the_float_printer_does() {
        for r in [
            0.0f64,
            -0.0,
            2.0,
            -3.0,
            1.5,
            -1.25,
            123_456_789_012_345.0,
            9_999_999_999_999_998.0,
            1e16,
            1.8e19,
            -7e300,
        ] {
            let expected = if r.fract() == 0.0 && f64::abs(r) < 1e16 {
                format!("{r:.1}")
            } else if f64::abs(r) < 1e16 {
                r.to_string()
            } else {
                format!("{r:e}")
            };
            assert_eq!(describe(ValueRef::Real(r)), expected, "{r:?}");
        }
    }
}
