//! The expansion: a constant table of the migrations, or every problem as a compile error
//! followed by an empty table of the right type.

use std::path::{Path, PathBuf};

use migrate_core::{Database, Migration, Script};
use proc_macro2::TokenStream;
use quote::quote;

use crate::args::{Embed, Runtime};
use crate::resolve;

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
    let rows = rows(&dir, &migrations, path, runtime)?;
    let foreign_keys = args.foreign_keys_tokens();
    let functions = args.functions_tokens();
    let database = args.database_tokens();
    Ok(quote! {{
        const __MIGRATE_TABLE: &[#runtime::__private::Migration] = &[#(#rows),*];
        const __MIGRATE_FUNCTIONS: &[#runtime::AppFunction] = #functions;
        #runtime::Migrations::__from_static_declared(
            __MIGRATE_TABLE,
            #foreign_keys,
            __MIGRATE_FUNCTIONS,
            #database,
        )
    }})
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
    let migrations = migrate_core::load_dir_for(&dir, database)
        .map_err(|problems| combine(path, &problems.0))?;
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
    let rows = rows(dir, migrations, path, runtime)?;
    Ok(quote! {{
        const __MIGRATE_TABLE: &[#runtime::__private::Migration] = &[#(#rows),*];
        #runtime::Migrations::__from_static(__MIGRATE_TABLE)
    }})
}

fn rows(
    dir: &Path,
    migrations: &[Migration],
    path: &syn::LitStr,
    runtime: &Runtime,
) -> syn::Result<Vec<TokenStream>> {
    migrations
        .iter()
        .map(|migration| row(dir, migration, path, runtime))
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

fn row(
    dir: &Path,
    migration: &Migration,
    span: &syn::LitStr,
    runtime: &Runtime,
) -> syn::Result<TokenStream> {
    let version = migration.version();
    let name = migration.name();
    let up = script(dir, migration.up(), span, runtime)?;
    let down = script(dir, migration.down(), span, runtime)?;
    let irreversible = option(migration.irreversible());
    let lossy_down = option(migration.lossy_down());
    let lineage = bytes(&migration.lineage().0);
    Ok(quote! {
        #runtime::__private::Migration::__embedded(
            #version, #name, #up, #down, #irreversible, #lossy_down, #lineage,
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

/// One script. The SQL is emitted as `include_str!` of the file, so cargo rebuilds the crate
/// when the file changes.
fn script(
    dir: &Path,
    script: &Script,
    span: &syn::LitStr,
    runtime: &Runtime,
) -> syn::Result<TokenStream> {
    let file_name = script.file_name();
    let path = path_literal(&dir.join(file_name), span)?;
    let checksum = bytes(&script.checksum().0);
    let no_transaction = script.no_transaction();
    let disables_foreign_keys = script.disables_foreign_keys();
    Ok(quote! {
        #runtime::__private::Script::__embedded(
            #file_name,
            ::core::include_str!(#path),
            #checksum,
            #no_transaction,
            #disables_foreign_keys,
        )
    })
}

/// A `[u8; 32]` as one byte-string token (`*b"…"`) rather than 32 integer tokens: a thousand
/// migrations embed three checksums each, and every token costs the compiler parsing time.
fn bytes(value: &[u8; 32]) -> TokenStream {
    let literal = proc_macro2::Literal::byte_string(value);
    quote!(*#literal)
}

fn option(value: Option<&str>) -> TokenStream {
    match value {
        Some(text) => quote!(::core::option::Option::Some(#text)),
        None => quote!(::core::option::Option::None),
    }
}
