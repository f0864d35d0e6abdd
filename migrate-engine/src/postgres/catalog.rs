//! The schema by meaning, read from `pg_catalog`, and the differences between two readings in
//! plain words: what PostgreSQL verification compares before an up and after its down.
//!
//! Every object of every user schema (not `pg_catalog`, `information_schema`, `pg_toast` or
//! temporary schemas; not the members of an extension, which the extension stands for; not
//! the engine's version and history tables), by name and the server's own rendering of its
//! definition (`format_type`, `pg_get_expr`, `pg_get_constraintdef`, `pg_get_indexdef`,
//! `pg_get_viewdef`, `pg_get_functiondef`, `pg_get_triggerdef`): no OIDs, so an object
//! recreated identically reads the same. Objects of the schema verification runs in are named
//! without it, others as `schema.name`.
//!
//! Not compared: privileges, ownership, row-level security policies, statistics, a sequence's
//! current value, and comments other than those on tables and columns.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use migrate_core::name::format_version;

use super::client::Client;

/// The version table and its history table: the engine's, never compared.
const ENGINE_TABLES: [&str; 2] = ["schema_migrations", "schema_migrations_history"];

/// One reading of the catalogue.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Catalog {
    /// By kind (in the order messages list them) and name.
    pub(crate) objects: BTreeMap<(Kind, String), Object>,
}

/// The kinds of objects compared, in the order differences are listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Schema,
    Extension,
    Type,
    Sequence,
    Table,
    Column,
    Constraint,
    Index,
    View,
    Function,
    Trigger,
}

/// One object: how messages name it, and its definition as the server renders it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Object {
    /// "table `orders`", "index `orders_placed_idx` on `orders`".
    pub(crate) label: String,
    /// The definition; for a column, its attributes.
    pub(crate) definition: Definition,
    /// The table a column, constraint or trigger belongs to.
    pub(crate) table: Option<String>,
}

/// What is compared of an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Definition {
    /// The server's text of the definition.
    Text(String),
    /// An enum's labels, in their order.
    Labels(Vec<String>),
    /// A column.
    Column(Column),
    /// A table: its columns in order, its primary key (for rows), and how to select from it.
    Table(Table),
}

/// A column's attributes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Column {
    pub(crate) position: i16,
    pub(crate) type_name: String,
    pub(crate) not_null: bool,
    pub(crate) default: Option<String>,
    /// `ALWAYS` or `BY DEFAULT`.
    pub(crate) identity: Option<&'static str>,
    pub(crate) generated: Option<String>,
    pub(crate) collation: Option<String>,
    pub(crate) comment: Option<String>,
}

/// A table (ordinary, partitioned or foreign).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Table {
    /// The table's name as messages show it.
    pub(crate) name: String,
    /// The table's name quoted for SQL, schema included.
    pub(crate) sql_name: String,
    pub(crate) columns: Vec<String>,
    pub(crate) primary_key: Vec<String>,
    pub(crate) comment: Option<String>,
    /// Partitioning, `WITH (…)` options, kind: anything else of the table as one text.
    pub(crate) options: String,
}

impl Catalog {
    /// The tables, by name.
    pub(crate) fn tables(&self) -> impl Iterator<Item = &Table> {
        self.objects.values().filter_map(|o| match &o.definition {
            Definition::Table(table) => Some(table),
            _ => None,
        })
    }
}

/// The schemas compared: every user schema.
const USER_SCHEMA: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'";

/// Reads the catalogue. `scratch` is the schema verification runs in: its objects are named
/// without it, and its name is taken out of the server's texts.
pub(crate) async fn read<C: Client>(
    client: &mut C,
    scratch: &str,
) -> Result<Catalog, tokio_postgres::Error> {
    let q = Queries { scratch };
    let mut catalog = Catalog::default();
    let mut add = |kind: Kind, key: String, label: String, definition: Definition| {
        let table = matches!(kind, Kind::Column | Kind::Constraint | Kind::Trigger)
            .then(|| label.rsplit('`').nth(1).unwrap_or_default().to_owned());
        let table = match (&definition, table) {
            (Definition::Column(_), Some(_)) => key.rsplit_once('.').map(|(t, _)| t.to_owned()),
            (_, table) => table,
        };
        catalog.objects.insert(
            (kind, key),
            Object {
                label,
                definition,
                table,
            },
        );
    };

    for row in client.query(&q.schemas(), &[]).await? {
        let name: String = row.get(0);
        add(
            Kind::Schema,
            name.clone(),
            format!("schema `{name}`"),
            Definition::Text(String::new()),
        );
    }
    for row in client.query(&q.extensions(), &[]).await? {
        let (name, version, schema): (String, String, String) =
            (row.get(0), row.get(1), row.get(2));
        add(
            Kind::Extension,
            name.clone(),
            format!("extension `{name}`"),
            Definition::Text(format!("version {version} in schema {}", q.schema(&schema))),
        );
    }
    for row in client.query(&q.enums(), &[]).await? {
        let (name, labels): (String, Vec<String>) = (row.get(0), row.get(1));
        add(
            Kind::Type,
            name.clone(),
            format!("enum type `{name}`"),
            Definition::Labels(labels),
        );
    }
    for row in client.query(&q.domains(), &[]).await? {
        let (name, definition): (String, String) = (row.get(0), row.get(1));
        add(
            Kind::Type,
            name.clone(),
            format!("domain `{name}`"),
            Definition::Text(q.clean(&definition)),
        );
    }
    for row in client.query(&q.composites(), &[]).await? {
        let (name, definition): (String, String) = (row.get(0), row.get(1));
        add(
            Kind::Type,
            name.clone(),
            format!("composite type `{name}`"),
            Definition::Text(q.clean(&definition)),
        );
    }
    for row in client.query(&q.sequences(), &[]).await? {
        let (name, definition): (String, String) = (row.get(0), row.get(1));
        add(
            Kind::Sequence,
            name.clone(),
            format!("sequence `{name}`"),
            Definition::Text(q.clean(&definition)),
        );
    }
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for row in client.query(&q.tables(), &[]).await? {
        let name: String = row.get(0);
        let table = Table {
            name: name.clone(),
            sql_name: row.get(1),
            columns: Vec::new(),
            primary_key: row.get(2),
            comment: row.get(3),
            options: q.clean(&row.get::<_, String>(4)),
        };
        tables.insert(name, table);
    }
    for row in client.query(&q.columns(), &[]).await? {
        let (table, name): (String, String) = (row.get(0), row.get(1));
        let identity: String = row.get(5);
        let generated = !row.get::<_, String>(6).is_empty();
        let expression: Option<String> = row.get(4);
        let column = Column {
            position: row.get(7),
            type_name: q.clean(&row.get::<_, String>(2)),
            not_null: row.get(3),
            default: expression
                .as_deref()
                .filter(|_| !generated)
                .map(|e| q.clean(e)),
            identity: match identity.as_str() {
                "a" => Some("ALWAYS"),
                "d" => Some("BY DEFAULT"),
                _ => None,
            },
            generated: expression.filter(|_| generated).map(|e| q.clean(&e)),
            collation: row.get(8),
            comment: row.get(9),
        };
        if let Some(t) = tables.get_mut(&table) {
            t.columns.push(name.clone());
        }
        add(
            Kind::Column,
            format!("{table}.{name}"),
            format!("column `{table}.{name}`"),
            Definition::Column(column),
        );
    }
    for (name, table) in tables {
        let kind = table
            .options
            .split(';')
            .next()
            .unwrap_or("table")
            .to_owned();
        add(
            Kind::Table,
            name.clone(),
            format!("{kind} `{name}`"),
            Definition::Table(table),
        );
    }
    for row in client.query(&q.constraints(), &[]).await? {
        let (table, name, definition): (String, String, String) =
            (row.get(0), row.get(1), row.get(2));
        add(
            Kind::Constraint,
            format!("{table}.{name}"),
            format!("constraint `{name}` on `{table}`"),
            Definition::Text(q.clean(&definition)),
        );
    }
    for row in client.query(&q.indexes(), &[]).await? {
        let (table, name, definition): (String, String, String) =
            (row.get(0), row.get(1), row.get(2));
        add(
            Kind::Index,
            name.clone(),
            format!("index `{name}` on `{table}`"),
            Definition::Text(q.clean(&definition)),
        );
    }
    for row in client.query(&q.views(), &[]).await? {
        let (name, kind, definition): (String, String, String) =
            (row.get(0), row.get(1), row.get(2));
        add(
            Kind::View,
            name.clone(),
            format!("{kind} `{name}`"),
            Definition::Text(q.clean(definition.trim())),
        );
    }
    for row in client.query(&q.functions(), &[]).await? {
        let (name, kind, definition): (String, String, String) =
            (row.get(0), row.get(1), row.get(2));
        add(
            Kind::Function,
            name.clone(),
            format!("{kind} `{name}`"),
            Definition::Text(q.clean(definition.trim())),
        );
    }
    for row in client.query(&q.triggers(), &[]).await? {
        let (table, name, definition): (String, String, String) =
            (row.get(0), row.get(1), row.get(2));
        add(
            Kind::Trigger,
            format!("{table}.{name}"),
            format!("trigger `{name}` on `{table}`"),
            Definition::Text(q.clean(&definition)),
        );
    }
    Ok(catalog)
}

/// The catalogue queries, for one scratch schema.
struct Queries<'a> {
    scratch: &'a str,
}

impl Queries<'_> {
    /// SQL for an object's name as messages show it: without the scratch schema.
    fn name(&self, schema: &str, name: &str) -> String {
        format!(
            "(CASE WHEN {schema} = '{}' THEN '' ELSE {schema} || '.' END || {name})",
            self.scratch
        )
    }

    /// A schema's name as messages show it.
    fn schema(&self, schema: &str) -> String {
        if schema == self.scratch {
            "of verification".to_owned()
        } else {
            schema.to_owned()
        }
    }

    /// The server's text without the scratch schema's name.
    fn clean(&self, text: &str) -> String {
        text.replace(&format!("{}.", self.scratch), "")
    }

    /// Not a member of an extension.
    fn own(class: &str, oid: &str) -> String {
        format!(
            "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '{class}'::regclass \
             AND e.objid = {oid} AND e.deptype = 'e')"
        )
    }

    fn schemas(&self) -> String {
        format!(
            "SELECT n.nspname::text FROM pg_namespace n WHERE {USER_SCHEMA} \
             AND n.nspname NOT IN ('public', '{}') AND {} ORDER BY 1",
            self.scratch,
            Self::own("pg_namespace", "n.oid")
        )
    }

    fn extensions(&self) -> String {
        "SELECT x.extname::text, x.extversion, n.nspname::text FROM pg_extension x \
         JOIN pg_namespace n ON n.oid = x.extnamespace ORDER BY 1"
            .to_owned()
    }

    fn types(&self, typtype: char) -> String {
        format!(
            "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
             WHERE t.typtype = '{typtype}' AND {USER_SCHEMA} AND {}",
            Self::own("pg_type", "t.oid")
        )
    }

    fn enums(&self) -> String {
        format!(
            "SELECT {}, ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid \
             ORDER BY e.enumsortorder) {}",
            self.name("n.nspname", "t.typname"),
            self.types('e')
        )
    }

    fn domains(&self) -> String {
        format!(
            "SELECT {}, format_type(t.typbasetype, t.typtypmod) \
             || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END \
             || COALESCE(' DEFAULT ' || t.typdefault, '') \
             || COALESCE((SELECT string_agg(' CONSTRAINT ' || c.conname || ' ' \
                || pg_get_constraintdef(c.oid), '' ORDER BY c.conname) \
                FROM pg_constraint c WHERE c.contypid = t.oid), '') {}",
            self.name("n.nspname", "t.typname"),
            self.types('d')
        )
    }

    fn composites(&self) -> String {
        format!(
            "SELECT {}, '(' || (SELECT string_agg(a.attname || ' ' \
                || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum) \
                FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 \
                AND NOT a.attisdropped) || ')' {} \
             AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c'",
            self.name("n.nspname", "t.typname"),
            self.types('c')
        )
    }

    /// Tables, views and sequences of user schemas, not an extension's.
    fn relations(&self, kinds: &str) -> String {
        format!(
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ({kinds}) AND {USER_SCHEMA} AND {} \
             AND NOT (c.relname::text = ANY (ARRAY['{}', '{}']))",
            Self::own("pg_class", "c.oid"),
            ENGINE_TABLES[0],
            ENGINE_TABLES[1]
        )
    }

    fn sequences(&self) -> String {
        // Identity columns' sequences belong to their column (an internal dependency).
        format!(
            "SELECT {}, format_type(s.seqtypid, NULL) || ' START ' || s.seqstart \
             || ' INCREMENT ' || s.seqincrement || ' MINVALUE ' || s.seqmin \
             || ' MAXVALUE ' || s.seqmax || ' CACHE ' || s.seqcache \
             || CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END \
             || COALESCE((SELECT ' OWNED BY ' || {} || '.' || a.attname \
                FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid \
                JOIN pg_namespace tn ON tn.oid = t.relnamespace \
                JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
                WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid \
                AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a'), '') \
             FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE {USER_SCHEMA} AND {} AND NOT EXISTS (SELECT 1 FROM pg_depend i \
                WHERE i.classid = 'pg_class'::regclass AND i.objid = c.oid AND i.deptype = 'i')",
            self.name("n.nspname", "c.relname"),
            self.name("tn.nspname", "t.relname"),
            Self::own("pg_class", "c.oid")
        )
    }

    fn tables(&self) -> String {
        format!(
            "SELECT {}, quote_ident(n.nspname) || '.' || quote_ident(c.relname), \
             ARRAY(SELECT a.attname::text FROM pg_index i \
                JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord) ON true \
                JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum \
                WHERE i.indrelid = c.oid AND i.indisprimary ORDER BY k.ord), \
             obj_description(c.oid, 'pg_class'), \
             CASE c.relkind WHEN 'p' THEN 'partitioned table' WHEN 'f' THEN 'foreign table' \
                ELSE 'table' END \
             || CASE WHEN c.relpersistence = 'u' THEN '; UNLOGGED' ELSE '' END \
             || COALESCE('; PARTITION BY ' || pg_get_partkeydef(c.oid), '') \
             || COALESCE('; PARTITION OF ' || (SELECT {} FROM pg_inherits h \
                JOIN pg_class p ON p.oid = h.inhparent \
                JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE h.inhrelid = c.oid) \
                || ' ' || pg_get_expr(c.relpartbound, c.oid), '') \
             || COALESCE('; WITH (' || array_to_string(c.reloptions, ', ') || ')', '') \
             {}",
            self.name("n.nspname", "c.relname"),
            self.name("pn.nspname", "p.relname"),
            self.relations("'r', 'p', 'f'")
        )
    }

    fn columns(&self) -> String {
        format!(
            "SELECT {}, a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, \
             pg_get_expr(d.adbin, d.adrelid), \
             a.attidentity::text, a.attgenerated::text, \
             a.attnum, \
             (SELECT co.collname::text FROM pg_collation co WHERE co.oid = a.attcollation \
                AND a.attcollation <> (SELECT ty.typcollation FROM pg_type ty \
                WHERE ty.oid = a.atttypid)), \
             col_description(c.oid, a.attnum) \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE a.attnum > 0 AND NOT a.attisdropped AND c.oid IN (SELECT c.oid {}) \
             ORDER BY 1, a.attnum",
            self.name("n.nspname", "c.relname"),
            self.relations("'r', 'p', 'f'")
        )
    }

    fn constraints(&self) -> String {
        // NOT NULL is a column's attribute (PostgreSQL 18 also lists it as a constraint).
        format!(
            "SELECT {}, k.conname::text, pg_get_constraintdef(k.oid) \
             FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE k.contype <> 'n' AND c.oid IN (SELECT c.oid {})",
            self.name("n.nspname", "c.relname"),
            self.relations("'r', 'p', 'f'")
        )
    }

    fn indexes(&self) -> String {
        // The indexes behind PRIMARY KEY, UNIQUE and EXCLUDE constraints are the constraints'.
        format!(
            "SELECT {}, {}, pg_get_indexdef(i.indexrelid) FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indrelid JOIN pg_class x ON x.oid = i.indexrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_namespace xn ON xn.oid = x.relnamespace \
             WHERE c.oid IN (SELECT c.oid {}) \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid \
                AND k.contype IN ('p', 'u', 'x'))",
            self.name("n.nspname", "c.relname"),
            self.name("xn.nspname", "x.relname"),
            self.relations("'r', 'p', 'f', 'm'")
        )
    }

    fn views(&self) -> String {
        format!(
            "SELECT {}, CASE c.relkind WHEN 'm' THEN 'materialized view' ELSE 'view' END, \
             pg_get_viewdef(c.oid, true) {}",
            self.name("n.nspname", "c.relname"),
            self.relations("'v', 'm'")
        )
    }

    fn functions(&self) -> String {
        format!(
            "SELECT {} || '(' || pg_get_function_identity_arguments(p.oid) || ')', \
             CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END, \
             pg_get_functiondef(p.oid) \
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
             WHERE p.prokind IN ('f', 'p', 'w') AND {USER_SCHEMA} AND {}",
            self.name("n.nspname", "p.proname"),
            Self::own("pg_proc", "p.oid")
        )
    }

    fn triggers(&self) -> String {
        format!(
            "SELECT {}, t.tgname::text, pg_get_triggerdef(t.oid, true) \
             FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE NOT t.tgisinternal AND {USER_SCHEMA} AND {}",
            self.name("n.nspname", "c.relname"),
            Self::own("pg_class", "c.oid")
        )
    }
}

/// The differences between the catalogue `before` a migration's up and `after` its down, in
/// plain words ("drops index `…`, which existed before 000003"), in the order of [`Kind`];
/// `version` 0 compares with the state before the first up.
/// With `lossy` (the down is `-- migrate:lossy-down`), the order of a table's columns is not
/// compared: a down that adds back a dropped column appends it, and has lost its values anyway.
pub(crate) fn differences(
    before: &Catalog,
    after: &Catalog,
    version: u64,
    lossy: bool,
) -> Vec<String> {
    // 0: no migration, for the state before the first up.
    let since = if version == 0 {
        "before the first up".to_owned()
    } else {
        format!("before {}", format_version(version))
    };
    let mut out = Vec::new();
    let keys: std::collections::BTreeSet<&(Kind, String)> =
        before.objects.keys().chain(after.objects.keys()).collect();
    for key in keys {
        // A table added or dropped is one difference, not one per column, constraint or index.
        let owner = before.objects.get(key).or(after.objects.get(key));
        let owner_changed = owner.and_then(|o| o.table.clone()).is_some_and(|table| {
            let key = (Kind::Table, table);
            before.objects.contains_key(&key) != after.objects.contains_key(&key)
        });
        if owner_changed {
            continue;
        }
        match (before.objects.get(key), after.objects.get(key)) {
            (Some(a), Some(b)) if a == b => {}
            (Some(a), None) => out.push(format!(
                "drops {}{}, which existed {since}",
                a.label,
                shown(&a.definition)
            )),
            (None, Some(b)) => out.push(format!("leaves {} behind", b.label)),
            (Some(a), Some(b)) => {
                if let Some(text) = changed(a, b, &since, lossy) {
                    out.push(text);
                }
            }
            (None, None) => {}
        }
    }
    out
}

/// What a message shows of a dropped object so the user can restore it: a short definition.
fn shown(definition: &Definition) -> String {
    match definition {
        Definition::Text(text) if !text.is_empty() && text.len() <= 160 && !text.contains('\n') => {
            format!(" (`{text}`)")
        }
        Definition::Labels(labels) => format!(" ({})", quoted_list(labels)),
        Definition::Column(column) => format!(" (`{}`)", column.describe()),
        _ => String::new(),
    }
}

fn quoted_list(items: &[String]) -> String {
    items
        .iter()
        .map(|l| format!("'{l}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How an object that exists on both sides changed, if it did in a way messages describe.
fn changed(a: &Object, b: &Object, since: &str, lossy: bool) -> Option<String> {
    let label = &a.label;
    match (&a.definition, &b.definition) {
        (Definition::Labels(old), Definition::Labels(new)) => Some(format!(
            "changes {label}: its labels were ({}) {since} and are ({}) after the down",
            quoted_list(old),
            quoted_list(new)
        )),
        (Definition::Column(old), Definition::Column(new)) => {
            let parts = old.changes(new, since);
            (!parts.is_empty()).then(|| format!("changes {label}: {}", parts.join("; ")))
        }
        (Definition::Table(old), Definition::Table(new)) => {
            let mut parts = Vec::new();
            if old.columns != new.columns && sorted(&old.columns) == sorted(&new.columns) && !lossy
            {
                parts.push(format!(
                    "its columns were in the order ({}) {since} and are ({}) after the down \
                     (`ADD COLUMN` appends, and `SELECT *` and `INSERT … VALUES` depend on the \
                     order; if the new order is acceptable, add `-- migrate:lossy-down <reason>` \
                     to the down)",
                    old.columns.join(", "),
                    new.columns.join(", ")
                ));
            }
            if old.comment != new.comment {
                parts.push(format!(
                    "its comment was {} {since} and is {} after the down",
                    describe_comment(old.comment.as_deref()),
                    describe_comment(new.comment.as_deref())
                ));
            }
            if old.options != new.options {
                parts.push(format!(
                    "it was `{}` {since} and is `{}` after the down",
                    old.options, new.options
                ));
            }
            (!parts.is_empty()).then(|| format!("changes {label}: {}", parts.join("; ")))
        }
        (Definition::Text(old), Definition::Text(new)) => {
            if old.contains('\n') || new.contains('\n') || old.len() > 160 {
                let (line, was, is) = first_difference(old, new);
                Some(format!(
                    "changes {label}: line {line} of its definition was `{was}` {since} and is \
                     `{is}` after the down"
                ))
            } else {
                Some(format!(
                    "changes {label}: it was `{old}` {since} and is `{new}` after the down"
                ))
            }
        }
        _ => Some(format!("changes {label}")),
    }
}

fn sorted(items: &[String]) -> Vec<&String> {
    let mut out: Vec<&String> = items.iter().collect();
    out.sort();
    out
}

fn describe_comment(comment: Option<&str>) -> String {
    comment.map_or_else(|| "none".to_owned(), |c| format!("'{c}'"))
}

/// The first line where two texts differ (1-based), and that line of each.
fn first_difference(old: &str, new: &str) -> (usize, String, String) {
    let (mut a, mut b) = (old.lines(), new.lines());
    let mut line = 1;
    loop {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x == y => line += 1,
            (x, y) => {
                let show =
                    |l: Option<&str>| l.map_or("(nothing)".to_owned(), |l| l.trim().to_owned());
                return (line, show(x), show(y));
            }
        }
    }
}

impl Column {
    /// The column's definition as SQL would write it: `text NOT NULL DEFAULT 'new'::text`.
    pub(crate) fn describe(&self) -> String {
        let mut out = self.type_name.clone();
        if let Some(collation) = &self.collation {
            let _ = write!(out, " COLLATE \"{collation}\"");
        }
        if self.not_null {
            out.push_str(" NOT NULL");
        }
        if let Some(default) = &self.default {
            let _ = write!(out, " DEFAULT {default}");
        }
        if let Some(identity) = self.identity {
            let _ = write!(out, " GENERATED {identity} AS IDENTITY");
        }
        if let Some(generated) = &self.generated {
            let _ = write!(out, " GENERATED ALWAYS AS ({generated}) STORED");
        }
        out
    }

    /// Each attribute that differs, as "type was `x` before 000003, is `y`".
    fn changes(&self, new: &Column, since: &str) -> Vec<String> {
        let mut out = Vec::new();
        let text = |v: &Option<String>| v.as_ref().map_or("none".to_owned(), |v| format!("`{v}`"));
        if self.type_name != new.type_name {
            out.push(format!(
                "its type was `{}` {since} and is `{}` after the down",
                self.type_name, new.type_name
            ));
        }
        if self.collation != new.collation {
            out.push(format!(
                "its collation was {} {since} and is {} after the down",
                text(&self.collation),
                text(&new.collation)
            ));
        }
        if self.not_null != new.not_null {
            let null = |n: bool| if n { "NOT NULL" } else { "nullable" };
            out.push(format!(
                "it was {} {since} and is {} after the down",
                null(self.not_null),
                null(new.not_null)
            ));
        }
        if self.default != new.default {
            out.push(format!(
                "its default was {} {since} and is {} after the down",
                text(&self.default),
                text(&new.default)
            ));
        }
        if self.identity != new.identity {
            let identity = |i: Option<&str>| {
                i.map_or("none".to_owned(), |i| {
                    format!("`GENERATED {i} AS IDENTITY`")
                })
            };
            out.push(format!(
                "its identity was {} {since} and is {} after the down",
                identity(self.identity),
                identity(new.identity)
            ));
        }
        if self.generated != new.generated {
            out.push(format!(
                "its generation expression was {} {since} and is {} after the down",
                text(&self.generated),
                text(&new.generated)
            ));
        }
        if self.comment != new.comment {
            out.push(format!(
                "its comment was {} {since} and is {} after the down",
                describe_comment(self.comment.as_deref()),
                describe_comment(new.comment.as_deref())
            ));
        }
        // Position alone: the table's column order says it, once.
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(type_name: &str, default: Option<&str>) -> Object {
        Object {
            table: Some("orders".to_owned()),
            label: "column `orders.status`".to_owned(),
            definition: Definition::Column(Column {
                position: 2,
                type_name: type_name.to_owned(),
                not_null: true,
                default: default.map(str::to_owned),
                identity: None,
                generated: None,
                collation: None,
                comment: None,
            }),
        }
    }

    fn catalog(objects: &[(Kind, &str, Object)]) -> Catalog {
        Catalog {
            objects: objects
                .iter()
                .map(|(k, n, o)| ((*k, (*n).to_owned()), o.clone()))
                .collect(),
        }
    }

    #[test]
    fn a_column_difference_names_each_attribute() {
        let before = catalog(&[(
            Kind::Column,
            "orders.status",
            column("order_status", Some("'new'::order_status")),
        )]);
        let after = catalog(&[(Kind::Column, "orders.status", column("text", None))]);
        assert_eq!(
            differences(&before, &after, 3, false),
            [
                "changes column `orders.status`: its type was `order_status` before 000003 and is \
              `text` after the down; its default was `'new'::order_status` before 000003 and \
              is none after the down"
            ]
        );
    }

    #[test]
    fn a_dropped_table_is_one_difference() {
        let table = Object {
            table: None,
            label: "table `tags`".to_owned(),
            definition: Definition::Table(Table {
                name: "tags".to_owned(),
                sql_name: "s.tags".to_owned(),
                columns: vec!["status".to_owned()],
                primary_key: Vec::new(),
                comment: None,
                options: "table".to_owned(),
            }),
        };
        let before = catalog(&[
            (Kind::Table, "tags", table),
            (Kind::Column, "tags.status", {
                let mut c = column("text", None);
                c.table = Some("tags".to_owned());
                c
            }),
        ]);
        assert_eq!(
            differences(&before, &Catalog::default(), 12, false),
            ["drops table `tags`, which existed before 000012"]
        );
        assert_eq!(
            differences(&Catalog::default(), &before, 12, false),
            ["leaves table `tags` behind"]
        );
    }

    #[test]
    fn a_long_definition_shows_its_first_differing_line() {
        let function = |body: &str| Object {
            table: None,
            label: "function `touch()`".to_owned(),
            definition: Definition::Text(format!("CREATE FUNCTION touch()\nBEGIN\n{body}\nEND")),
        };
        let found = differences(
            &catalog(&[(Kind::Function, "touch()", function("  NEW.at := now();"))]),
            &catalog(&[(Kind::Function, "touch()", function("  NULL;"))]),
            2,
            false,
        );
        assert_eq!(
            found,
            [
                "changes function `touch()`: line 3 of its definition was `NEW.at := now();` \
                 before 000002 and is `NULL;` after the down"
            ]
        );
    }
}
