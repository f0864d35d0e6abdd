//! The expansion: a constant table of the migrations, or every problem as a compile error
//! followed by an empty table of the right type.

use std::path::{Path, PathBuf};

use migrate_core::{Database, Migration};
use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::args::{Embed, Runtime};
use crate::{resolve, reuse};

/// Expands `embed_migrations!(path, …)`.
pub(crate) fn embed(args: &Embed) -> TokenStream {
    match table(args) {
        Ok(table) => table,
        Err(error) => failed(&error, &args.runtime),
    }
}

/// Every error, then still a value of the right type, so the caller sees only the real
/// problems (several errors are several statements: they need the block).
pub(crate) fn failed(error: &syn::Error, runtime: &Runtime) -> TokenStream {
    let errors = error.to_compile_error();
    quote! {{
        #errors
        #runtime::Migrations::__from_static(&[])
    }}
}

fn table(args: &Embed) -> syn::Result<TokenStream> {
    let path = &args.path;
    let (dir, migrations) = load_for(path, args.database)?;
    // Verification runs the set on SQLite: it proves nothing about another database.
    #[cfg(feature = "verify")]
    if migrate_core::check::Rule::Verification.applies_to(args.database) {
        verify(args, &dir, &migrations)?;
    }
    let runtime = &args.runtime;
    let rows = rows(&dir, &migrations, path)?;
    let count = rows.len();
    let imports = imports(runtime);
    let foreign_keys = args.foreign_keys_tokens();
    let functions = args.functions_tokens();
    let database = args.database_tokens();
    Ok(quote! {{
        #imports
        // A `static`, not a `const`: the crate's metadata is smaller (2.1 MB to 0.8 MB for
        // 1000 migrations) and a rebuild after an edit is faster (bench/rebuild.py --edit).
        static __MIGRATE_TABLE: [#runtime::__private::Migration; #count] = [#(#rows),*];
        const __MIGRATE_FUNCTIONS: &[#runtime::AppFunction] = #functions;
        #runtime::Migrations::__from_static_declared(
            &__MIGRATE_TABLE,
            #foreign_keys,
            __MIGRATE_FUNCTIONS,
            #database,
        )
    }})
}

/// The short names the rows use (see [`row`]), imported in the table's own block so that
/// nothing the caller has in scope can stand in for them.
fn imports(runtime: &Runtime) -> TokenStream {
    quote! {
        use #runtime::__private::__row as r;
        use ::core::include_str as i;
        use ::core::option::Option::None;
    }
}

/// Verifies the set unless this crate's `OUT_DIR` records that this exact set passed (see
/// `cache`), and records a pass.
#[cfg(feature = "verify")]
fn verify(args: &Embed, dir: &Path, migrations: &[Migration]) -> syn::Result<()> {
    let out_dir = std::env::var_os("OUT_DIR").map(PathBuf::from);
    crate::cache::verify(out_dir.as_deref(), dir, &args.declaration(), migrations)
        .map(drop)
        .map_err(|findings| combine(&args.path, &findings))
}

/// Resolves and checks the directory, every problem as a compile error.
pub(crate) fn load(path: &syn::LitStr) -> syn::Result<(PathBuf, Vec<Migration>)> {
    load_for(path, Database::Sqlite)
}

/// [`load`] for a set written for `database`.
fn load_for(path: &syn::LitStr, database: Database) -> syn::Result<(PathBuf, Vec<Migration>)> {
    let dir = resolve::migrations_dir(path)?;
    let files =
        migrate_core::source::read_dir(&dir).map_err(|problem| combine(path, &[problem]))?;
    // The checks are skipped when the files are those of the last expansion that passed them
    // (see `reuse`): most rebuilds of the crate change no migration.
    let out_dir = std::env::var_os("OUT_DIR").map(PathBuf::from);
    let (checked, _) = reuse::check(out_dir.as_deref(), &dir, &files, database);
    let migrations = checked.map_err(|problems| combine(path, &problems))?;
    Ok((dir, migrations))
}

/// [`load`] for a PostgreSQL set: PostgreSQL's rules (`migration_tests!(…, postgres = …)`).
pub(crate) fn load_postgres(path: &syn::LitStr) -> syn::Result<(PathBuf, Vec<Migration>)> {
    load_for(path, Database::Postgres)
}

/// The constant table of checked migrations: an expression of type `migrate_runtime::Migrations`.
pub(crate) fn table_tokens(
    dir: &Path,
    migrations: &[Migration],
    path: &syn::LitStr,
    runtime: &Runtime,
) -> syn::Result<TokenStream> {
    let rows = rows(dir, migrations, path)?;
    let count = rows.len();
    let imports = imports(runtime);
    Ok(quote! {{
        #imports
        static __MIGRATE_TABLE: [#runtime::__private::Migration; #count] = [#(#rows),*];
        #runtime::Migrations::__from_static(&__MIGRATE_TABLE)
    }})
}

fn rows(dir: &Path, migrations: &[Migration], path: &syn::LitStr) -> syn::Result<Vec<TokenStream>> {
    migrations
        .iter()
        .map(|migration| row(dir, migration, path))
        .collect()
}

/// Every problem as one `syn::Error`, each spanned on the path literal.
pub(crate) fn combine(path: &syn::LitStr, problems: &[impl std::fmt::Display]) -> syn::Error {
    let mut errors = problems
        .iter()
        .map(|problem| syn::Error::new(path.span(), problem));
    let mut first = errors
        .next()
        .unwrap_or_else(|| syn::Error::new(path.span(), "the migrations directory is invalid"));
    for error in errors {
        first.combine(error);
    }
    first
}

/// One migration: a single call of `migrate_core::table::__row` through the names
/// [`imports`] brings in, `r(version, name, up file, i!(up path), up checksum, down file,
/// i!(down path), down checksum, flags, irreversible, lossy down, lineage)`. Each token costs
/// the compiler at every rebuild of the crate (a thousand migrations are a thousand rows), so
/// the row has no paths, no field names and one integer for the four flags.
fn row(dir: &Path, migration: &Migration, span: &syn::LitStr) -> syn::Result<TokenStream> {
    use migrate_core::table::{
        DOWN_DISABLES_FOREIGN_KEYS, DOWN_NO_TRANSACTION, UP_DISABLES_FOREIGN_KEYS,
        UP_NO_TRANSACTION,
    };
    let version = Literal::u64_unsuffixed(migration.version());
    let name = migration.name();
    let (up, down) = (migration.up(), migration.down());
    let (up_file, down_file) = (up.file_name(), down.file_name());
    let up_path = path_literal(&dir.join(up_file), span)?;
    let down_path = path_literal(&dir.join(down_file), span)?;
    let up_checksum = Literal::byte_string(&up.checksum().0);
    let down_checksum = Literal::byte_string(&down.checksum().0);
    let flag = |set: bool, bit: u8| if set { bit } else { 0 };
    let flags = Literal::u8_unsuffixed(
        flag(up.no_transaction(), UP_NO_TRANSACTION)
            | flag(up.disables_foreign_keys(), UP_DISABLES_FOREIGN_KEYS)
            | flag(down.no_transaction(), DOWN_NO_TRANSACTION)
            | flag(down.disables_foreign_keys(), DOWN_DISABLES_FOREIGN_KEYS),
    );
    let irreversible = option(migration.irreversible());
    let lossy_down = option(migration.lossy_down());
    let lineage = Literal::byte_string(&migration.lineage().0);
    Ok(quote! {
        r(
            #version, #name,
            #up_file, i!(#up_path), #up_checksum,
            #down_file, i!(#down_path), #down_checksum,
            #flags, #irreversible, #lossy_down, #lineage
        )
    })
}

/// A path as a string literal for `include_str!`, or an error naming it.
pub(crate) fn path_literal(path: &Path, span: &syn::LitStr) -> syn::Result<String> {
    path.to_str().map(str::to_owned).ok_or_else(|| {
        syn::Error::new(
            span.span(),
            format!(
                "the path `{}` is not valid UTF-8, so it cannot be embedded: move the migrations \
                 to a path that is",
                path.display()
            ),
        )
    })
}

fn option(value: Option<&str>) -> TokenStream {
    match value {
        Some(text) => quote!(::core::option::Option::Some(#text)),
        None => quote!(None),
    }
}
