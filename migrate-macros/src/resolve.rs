//! Where the migrations directory is: the macro's path argument, joined to the invoking
//! crate's manifest directory.

use std::path::{Path, PathBuf};

/// Overrides `CARGO_MANIFEST_DIR` as the base of relative paths, for this workspace's trybuild
/// tests only: trybuild builds each case in a crate under `target/tests/`, far from the
/// fixtures. Cargo does not track a variable a proc macro reads, so the macro reads it only with
/// the internal feature `__ui-tests`, which nothing but `tests/ui` enables: a service's builds
/// never depend on it.
#[cfg(feature = "__ui-tests")]
const BASE_DIR_OVERRIDE: &str = "MIGRATE_MANIFEST_DIR";

/// Resolves the macro's argument to the directory to read.
pub(crate) fn migrations_dir(path: &syn::LitStr) -> syn::Result<PathBuf> {
    let relative = path.value();
    if relative.trim().is_empty() {
        return Err(syn::Error::new(
            path.span(),
            "the migrations path is empty: give the directory relative to Cargo.toml, as in \
             `embed_migrations!(\"migrations\")`",
        ));
    }
    if Path::new(&relative).is_absolute() {
        return Err(syn::Error::new(
            path.span(),
            format!(
                "`{relative}` is an absolute path, which would not build on another machine: give \
                 the directory relative to the crate's Cargo.toml, as in `embed_migrations!(\"migrations\")`"
            ),
        ));
    }
    #[cfg(feature = "__ui-tests")]
    let base =
        std::env::var_os(BASE_DIR_OVERRIDE).or_else(|| std::env::var_os("CARGO_MANIFEST_DIR"));
    #[cfg(not(feature = "__ui-tests"))]
    let base = std::env::var_os("CARGO_MANIFEST_DIR");
    let base = base.ok_or_else(|| {
        syn::Error::new(
            path.span(),
            "CARGO_MANIFEST_DIR is not set: build with cargo, or set it to the crate's directory",
        )
    })?;
    Ok(PathBuf::from(base).join(relative))
}
