//! The arguments of `embed_migrations!`: the directory, then what the set declares about the
//! service that runs it.
//!
//! ```text
//! embed_migrations!("migrations")
//! embed_migrations!("migrations", foreign_keys = "unenforced")
//! embed_migrations!("migrations", functions = ["normalize/2", "bin2b64/1"])
//! ```

use migrate_core::{AppFunction, ForeignKeys};
use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};

/// What every unknown or repeated argument's message lists.
const ACCEPTED: &str = "embed_migrations! takes the directory, then optionally \
    `foreign_keys = \"enforced\"` or `foreign_keys = \"unenforced\"`, and \
    `functions = [\"name/N\", …]`";

/// The parsed arguments.
pub(crate) struct EmbedArgs {
    /// The migrations directory.
    pub(crate) path: syn::LitStr,
    /// The declared foreign-key policy (enforced unless declared).
    pub(crate) foreign_keys: ForeignKeys,
    /// The declared application functions.
    pub(crate) functions: Vec<AppFunction>,
}

impl Parse for EmbedArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<EmbedArgs> {
        let path: syn::LitStr = input.parse()?;
        let mut args = EmbedArgs {
            path,
            foreign_keys: ForeignKeys::Enforced,
            functions: Vec::new(),
        };
        let mut seen: Vec<String> = Vec::new();
        // Every error in the arguments at once.
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
            let name: syn::Ident = input.parse()?;
            let key = name.to_string();
            if !matches!(key.as_str(), "foreign_keys" | "functions") {
                return Err(syn::Error::new(
                    name.span(),
                    format!("unknown argument `{key}`: {ACCEPTED}"),
                ));
            }
            input.parse::<syn::Token![=]>()?;
            if seen.contains(&key) {
                push(syn::Error::new(
                    name.span(),
                    format!("`{key}` is given twice: give it once"),
                ));
            }
            seen.push(key.clone());
            if key == "foreign_keys" {
                let value: syn::LitStr = input.parse()?;
                match value.value().as_str() {
                    "enforced" => args.foreign_keys = ForeignKeys::Enforced,
                    "unenforced" => args.foreign_keys = ForeignKeys::Unenforced,
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
                for literal in list {
                    match AppFunction::parse(&literal.value()) {
                        Ok(function) => args.functions.push(function),
                        Err(message) => push(syn::Error::new(literal.span(), message)),
                    }
                }
            }
        }
        match errors {
            Some(errors) => Err(errors),
            None => Ok(args),
        }
    }
}

impl EmbedArgs {
    /// The declared foreign-key policy, as an expression of type `migrate_runtime::ForeignKeys`.
    pub(crate) fn foreign_keys_tokens(&self) -> TokenStream {
        match self.foreign_keys {
            ForeignKeys::Enforced => quote!(::migrate_runtime::ForeignKeys::Enforced),
            ForeignKeys::Unenforced => quote!(::migrate_runtime::ForeignKeys::Unenforced),
        }
    }

    /// The declared functions, as an expression of type `&'static [migrate_runtime::AppFunction]`.
    pub(crate) fn functions_tokens(&self) -> TokenStream {
        let functions = self.functions.iter().map(|function| {
            let name = function.name();
            let arity = match function.arity() {
                Some(n) => quote!(::core::option::Option::Some(#n)),
                None => quote!(::core::option::Option::None),
            };
            quote!(::migrate_runtime::AppFunction::new(#name, #arity))
        });
        quote!(&[#(#functions),*])
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
