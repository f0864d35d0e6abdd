//! `migration_tests!`: the tests the golang-migrate guide asks for on every migration,
//! generated as `#[test]` functions in the user's test suite.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};

use crate::args::{self, Runtime};
use crate::expand;

/// `"dir"`, then the options `ignore`, `crate = <path>` and `postgres = "VAR"`, separated by
/// commas.
pub(crate) struct Args {
    path: syn::LitStr,
    ignore: bool,
    runtime: Runtime,
    /// The environment variable holding the URL of the PostgreSQL server to verify on.
    postgres: Option<syn::LitStr>,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Args> {
        let path: syn::LitStr = input.parse()?;
        let mut ignore = false;
        let mut runtime = None;
        let mut postgres = None;
        while !input.is_empty() {
            input.parse::<syn::Token![,]>()?;
            if input.is_empty() {
                break;
            }
            if input.peek(syn::Token![crate]) {
                runtime = Some(args::crate_path(input, runtime.is_some())?);
                continue;
            }
            let option: syn::Ident = input.parse()?;
            if option == "postgres" {
                input.parse::<syn::Token![=]>()?;
                let var: syn::LitStr = input.parse()?;
                if var.value().is_empty() {
                    return Err(syn::Error::new(
                        var.span(),
                        "the environment variable's name is empty: `postgres` names the variable \
                         that holds the PostgreSQL server's URL, as in \
                         `postgres = \"DATABASE_URL\"`",
                    ));
                }
                postgres = Some(var);
                continue;
            }
            if option != "ignore" {
                return Err(syn::Error::new(
                    option.span(),
                    format!(
                        "unknown option `{option}`: the options are `ignore`, which generates the \
                         tests as #[ignore], `crate = <path>`, the path of `migrate_runtime` \
                         when it is re-exported, and `postgres = \"VAR\"`, which verifies a \
                         PostgreSQL set on the server whose URL is in the variable VAR"
                    ),
                ));
            }
            ignore = true;
        }
        Ok(Args {
            path,
            ignore,
            runtime: runtime.unwrap_or_default(),
            postgres,
        })
    }
}

/// `migration_tests!("dir", postgres = "VAR")`: one test that verifies the whole set on the
/// PostgreSQL server whose URL is in `VAR` (every migration up, down, compared, up again, in
/// a transaction rolled back), failing with what to set when `VAR` is not set.
fn generate_postgres(args: &Args, var: &syn::LitStr) -> syn::Result<TokenStream> {
    let (dir, migrations) = expand::load_postgres(&args.path)?;
    let runtime = &args.runtime;
    let table = expand::table_tokens(&dir, &migrations, &args.path, runtime)?;
    let ignore = args
        .ignore
        .then(|| quote!(#[ignore = "generated with `ignore`: run with --ignored"]));
    Ok(quote! {
        /// The generated tests.
        pub mod migrations {
            /// The migrations under test.
            const __MIGRATE_TESTED: #runtime::Migrations = #table;

            /// Every migration runs on the PostgreSQL server, and every down undoes its up.
            #[test]
            #ignore
            pub fn every_down_undoes_its_up_on_postgres() {
                if let ::core::result::Result::Err(message) =
                    #runtime::verify_postgres_from_env(__MIGRATE_TESTED.as_slice(), #var)
                {
                    ::core::panic!("{}", message);
                }
            }
        }
    })
}

/// Expands `migration_tests!(…)`.
pub(crate) fn migration_tests(args: &Args) -> TokenStream {
    match generate(args) {
        Ok(tokens) => tokens,
        Err(error) => error.to_compile_error(),
    }
}

fn generate(args: &Args) -> syn::Result<TokenStream> {
    if let Some(var) = &args.postgres {
        return generate_postgres(args, var);
    }
    let (dir, migrations) = expand::load(&args.path)?;
    let runtime = &args.runtime;
    let table = expand::table_tokens(&dir, &migrations, &args.path, runtime)?;
    let ignore = args
        .ignore
        .then(|| quote!(#[ignore = "generated with `ignore`: run with --ignored"]));
    let check = |call: TokenStream| {
        quote! {
            if let ::core::result::Result::Err(message) = #call {
                ::core::panic!("{}", message);
            }
        }
    };
    let fresh = check(quote!(#runtime::testing::fresh(
        __MIGRATE_TESTED.as_slice()
    )));
    let ignore = &ignore;
    let mut modules = Vec::new();
    for migration in &migrations {
        let version = migration.version();
        let module = format_ident!("m{:06}_{}", version, migration.name().replace('-', "_"));
        let upgrade =
            check(quote!(#runtime::testing::upgrade(super::__MIGRATE_TESTED.as_slice(), #version)));
        let round_trip = check(
            quote!(#runtime::testing::round_trip(super::__MIGRATE_TESTED.as_slice(), #version)),
        );
        let fixture_file = format!("fixtures/{version:06}.sql");
        let fixture_path = dir.join(&fixture_file);
        let fixture = if fixture_path.is_file() {
            let path = expand::path_literal(&fixture_path, &args.path)?;
            let body = check(quote!(#runtime::testing::fixture(
                super::__MIGRATE_TESTED.as_slice(),
                #version,
                ::core::include_str!(#path),
                #fixture_file,
            )));
            quote! {
                /// The rows of the fixture, loaded at the previous version, survive the up and
                /// come back unchanged after the down.
                #[test]
                #ignore
                pub fn keeps_the_fixture_rows() { #body }
            }
        } else {
            TokenStream::new()
        };
        modules.push(quote! {
            #[allow(non_snake_case)]
            pub mod #module {
                /// A database at the previous version upgrades to this one.
                #[test]
                #ignore
                pub fn upgrades_from_the_previous_version() { #upgrade }

                /// From the previous version: up, down back to the same database, up again.
                #[test]
                #ignore
                pub fn rolls_back_and_reapplies() { #round_trip }

                #fixture
            }
        });
    }
    Ok(quote! {
        /// The generated tests, one module per migration.
        pub mod migrations {
            /// The migrations under test.
            const __MIGRATE_TESTED: #runtime::Migrations = #table;

            /// A fresh database reaches the latest version.
            #[test]
            #ignore
            pub fn fresh_database_reaches_the_latest_version() { #fresh }

            #(#modules)*
        }
    })
}
