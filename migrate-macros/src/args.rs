//! `embed_migrations!`'s arguments: the directory, then options written `key = value`.
//!
//! ```text
//! embed_migrations!("migrations")
//! embed_migrations!("migrations", foreign_keys = "unenforced")
//! embed_migrations!("migrations", functions = ["normalize/2", "bin2b64/1"])
//! embed_migrations!("migrations", crate = ::my_facade::migrate)
//! embed_migrations!("migrations", database = "postgres")
//! ```

use migrate_core::check::Rule;
use migrate_core::{AppFunction, Database, ForeignKeys};
use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};

/// What every unknown option's message lists.
const ACCEPTED: &str = "after the directory, `embed_migrations!` takes \
    `database = \"sqlite\"` or `database = \"postgres\"`, \
    `foreign_keys = \"enforced\"` or `foreign_keys = \"unenforced\"`, \
    `functions = [\"name/N\", …]`, and `crate = <path>` (the path of `migrate_runtime` when it \
    is re-exported, as in `embed_migrations!(\"migrations\", crate = ::my_facade::migrate)`)";

/// `"dir"`, then options separated by commas.
pub(crate) struct Embed {
    /// The migrations directory, relative to the invoking crate's `Cargo.toml`.
    pub(crate) path: syn::LitStr,
    /// The path of `migrate_runtime` in the invoking crate (`crate = …`).
    pub(crate) runtime: Runtime,
    /// The declared foreign-key policy (enforced unless declared).
    pub(crate) foreign_keys: ForeignKeys,
    /// The declared application functions.
    pub(crate) functions: Vec<AppFunction>,
    /// The database the set is written for (SQLite unless declared).
    pub(crate) database: Database,
}

impl Parse for Embed {
    fn parse(input: ParseStream<'_>) -> syn::Result<Embed> {
        let path: syn::LitStr = input.parse()?;
        let mut runtime = None;
        let mut foreign_keys = None;
        let mut functions: Option<Vec<AppFunction>> = None;
        let mut database: Option<Database> = None;
        // Where the options that only mean something on SQLite were given.
        let mut sqlite_options: Vec<syn::Ident> = Vec::new();
        // Every error in the options at once.
        let mut errors: Option<syn::Error> = None;
        let mut push = |error: syn::Error| match &mut errors {
            Some(all) => all.combine(error),
            None => errors = Some(error),
        };
        while !input.is_empty() {
            input.parse::<syn::Token![,]>()?;
            if input.is_empty() {
                break;
            }
            if input.peek(syn::Token![crate]) {
                runtime = Some(crate_path(input, runtime.is_some())?);
                continue;
            }
            let name = match input.fork().call(syn::Ident::parse_any) {
                Ok(name) if name == "foreign_keys" || name == "functions" || name == "database" => {
                    input.call(syn::Ident::parse_any)?
                }
                Ok(option) => {
                    return Err(input.error(format!("unknown option `{option}`: {ACCEPTED}")));
                }
                Err(_) => return Err(input.error(format!("expected an option: {ACCEPTED}"))),
            };
            input.parse::<syn::Token![=]>()?;
            if name == "database" {
                let value: syn::LitStr = input.parse()?;
                if database.is_some() {
                    push(syn::Error::new(
                        name.span(),
                        "`database` is given twice: give it once",
                    ));
                }
                match Database::from_key(&value.value()) {
                    Some(declared) => database = Some(declared),
                    None => push(syn::Error::new(
                        value.span(),
                        format!(
                            "`database = \"{}\"` is not a database `embed_migrations!` knows: \
                             write `database = \"sqlite\"` (the default) or \
                             `database = \"postgres\"` (PostgreSQL)",
                            value.value()
                        ),
                    )),
                }
                continue;
            }
            sqlite_options.push(name.clone());
            if name == "foreign_keys" {
                let value: syn::LitStr = input.parse()?;
                if foreign_keys.is_some() {
                    push(syn::Error::new(
                        name.span(),
                        "`foreign_keys` is given twice: give it once",
                    ));
                }
                match value.value().as_str() {
                    "enforced" => foreign_keys = Some(ForeignKeys::Enforced),
                    "unenforced" => foreign_keys = Some(ForeignKeys::Unenforced),
                    other => push(syn::Error::new(
                        value.span(),
                        format!(
                            "`foreign_keys = \"{other}\"` is not a policy: write \
                             `foreign_keys = \"enforced\"` (the default: the service enforces \
                             foreign keys) or `foreign_keys = \"unenforced\"` (it runs with them \
                             off on purpose)"
                        ),
                    )),
                }
            } else {
                let content;
                syn::bracketed!(content in input);
                let list =
                    syn::punctuated::Punctuated::<syn::LitStr, syn::Token![,]>::parse_terminated(
                        &content,
                    )?;
                if functions.is_some() {
                    push(syn::Error::new(
                        name.span(),
                        "`functions` is given twice: give it once",
                    ));
                }
                let declared = functions.get_or_insert_with(Vec::new);
                for literal in list {
                    match AppFunction::parse(&literal.value()) {
                        Ok(function) => declared.push(function),
                        Err(message) => push(syn::Error::new(literal.span(), message)),
                    }
                }
            }
        }
        let database = database.unwrap_or_default();
        if !Rule::SqliteDeclarations.applies_to(database) {
            for option in &sqlite_options {
                push(syn::Error::new(
                    option.span(),
                    format!(
                        "`{option}` declares how a SQLite service runs the set, and this set is \
                         for {database} (`database = \"{}\"`): remove it ({})",
                        database.key(),
                        if option == "foreign_keys" {
                            "PostgreSQL always enforces foreign keys"
                        } else {
                            "a PostgreSQL migration calls the functions its database has, created \
                             with `CREATE FUNCTION`"
                        }
                    ),
                ));
            }
        }
        if let Some(errors) = errors {
            return Err(errors);
        }
        Ok(Embed {
            database,
            path,
            runtime: runtime.unwrap_or_default(),
            foreign_keys: foreign_keys.unwrap_or_default(),
            functions: functions.unwrap_or_default(),
        })
    }
}

impl Embed {
    /// The declared foreign-key policy, as an expression of type `migrate_runtime::ForeignKeys`.
    pub(crate) fn foreign_keys_tokens(&self) -> TokenStream {
        let runtime = &self.runtime;
        match self.foreign_keys {
            ForeignKeys::Enforced => quote!(#runtime::ForeignKeys::Enforced),
            ForeignKeys::Unenforced => quote!(#runtime::ForeignKeys::Unenforced),
        }
    }

    /// The declared functions, as an expression of type `&'static [migrate_runtime::AppFunction]`.
    pub(crate) fn functions_tokens(&self) -> TokenStream {
        let runtime = &self.runtime;
        let functions = self.functions.iter().map(|function| {
            let name = function.name();
            let arity = match function.arity() {
                Some(n) => quote!(::core::option::Option::Some(#n)),
                None => quote!(::core::option::Option::None),
            };
            quote!(#runtime::AppFunction::new(#name, #arity))
        });
        quote!(&[#(#functions),*])
    }

    /// The declared database, as an expression of type `migrate_runtime::Database`.
    pub(crate) fn database_tokens(&self) -> TokenStream {
        let runtime = &self.runtime;
        match self.database {
            Database::Postgres => quote!(#runtime::Database::Postgres),
            _ => quote!(#runtime::Database::Sqlite),
        }
    }

    /// What verification honours.
    #[cfg(feature = "verify")]
    pub(crate) fn declaration(&self) -> migrate_engine::Declaration {
        let mut declaration =
            migrate_engine::Declaration::new().with_foreign_keys(self.foreign_keys);
        for function in &self.functions {
            declaration = declaration.with_function(function.clone());
        }
        declaration
    }
}

/// `crate = some::path`: where the expansion finds `migrate_runtime`, for a crate that reaches
/// it through a re-export or under another name (serde's `crate = "…"` convention).
pub(crate) fn crate_path(input: ParseStream<'_>, seen: bool) -> syn::Result<Runtime> {
    let keyword = input.parse::<syn::Token![crate]>()?;
    if seen {
        return Err(syn::Error::new_spanned(
            keyword,
            "`crate = …` is given twice: keep one",
        ));
    }
    input.parse::<syn::Token![=]>()?;
    if input.peek(syn::LitStr) {
        let literal: syn::LitStr = input.parse()?;
        return Err(syn::Error::new_spanned(
            &literal,
            format!(
                "`crate = …` takes a path, not a string: write `crate = {}`",
                literal.value()
            ),
        ));
    }
    let path = module_path(input).map_err(|error| {
        syn::Error::new(
            error.span(),
            "`crate = …` takes the path of `migrate_runtime` in this crate, as in \
             `crate = ::my_facade::migrate`",
        )
    })?;
    Ok(Runtime(path))
}

/// A path of modules (`::a::b`, `crate::a`, `self::a`, `super::a`), without generics: what
/// `syn::Path::parse_mod_style` reads, which needs syn's `derive` feature this crate leaves off.
fn module_path(input: ParseStream<'_>) -> syn::Result<TokenStream> {
    let mut path = TokenStream::new();
    if input.peek(syn::Token![::]) {
        input.parse::<syn::Token![::]>()?.to_tokens(&mut path);
    }
    loop {
        input.call(syn::Ident::parse_any)?.to_tokens(&mut path);
        if !input.peek(syn::Token![::]) {
            break;
        }
        input.parse::<syn::Token![::]>()?.to_tokens(&mut path);
    }
    if !input.is_empty() && !input.peek(syn::Token![,]) {
        return Err(input.error("expected `::`, `,` or the end"));
    }
    Ok(path)
}

/// The path the generated code starts from: `::migrate_runtime` unless `crate = …` says otherwise.
#[derive(Clone)]
pub(crate) struct Runtime(TokenStream);

impl Default for Runtime {
    fn default() -> Runtime {
        Runtime(quote!(::migrate_runtime))
    }
}

impl ToTokens for Runtime {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.0.to_tokens(tokens);
    }
}
