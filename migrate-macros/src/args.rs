//! `embed_migrations!`'s arguments: the directory, then options written `key = value`.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};

/// `"dir"`, then options separated by commas.
pub(crate) struct Embed {
    /// The migrations directory, relative to the invoking crate's `Cargo.toml`.
    pub(crate) path: syn::LitStr,
    /// The path of `migrate_runtime` in the invoking crate (`crate = …`).
    pub(crate) runtime: Runtime,
}

impl Parse for Embed {
    fn parse(input: ParseStream<'_>) -> syn::Result<Embed> {
        let path: syn::LitStr = input.parse()?;
        let mut runtime = None;
        while !input.is_empty() {
            input.parse::<syn::Token![,]>()?;
            if input.is_empty() {
                break;
            }
            if input.peek(syn::Token![crate]) {
                runtime = Some(crate_path(input, runtime.is_some())?);
                continue;
            }
            let what = match input.fork().call(syn::Ident::parse_any) {
                Ok(option) => format!("unknown option `{option}`"),
                Err(_) => "expected an option".to_owned(),
            };
            return Err(input.error(format!(
                "{what}: after the directory, `embed_migrations!` takes `crate = <path>`, the \
                 path of `migrate_runtime` when it is re-exported, as in \
                 `embed_migrations!(\"migrations\", crate = ::my_facade::migrate)`"
            )));
        }
        Ok(Embed {
            path,
            runtime: runtime.unwrap_or_default(),
        })
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
