//! The `embed_migrations!` procedural macro. Use it through `migrate_runtime`, which
//! re-exports it and defines the types its expansion builds.
//!
//! The macro reads the migrations directory at compile time, checks every rule of
//! `migrate_core` (reporting every problem at once, as compile errors naming the files), with
//! the `verify` feature (on by default) runs every migration up, down and up again on an
//! in-memory SQLite through `migrate_engine::verify`, and expands to a constant table of the
//! SQL.
//!
//! Feature **`verify`** (default): the compile-time verification. It links a SQLite compiled
//! from source (`migrate-engine/bundled`) into the macro, which cargo builds apart from the
//! service's own graph (resolver 2 and later), so the service may link another SQLite.
//! Feature `__ui-tests` is internal (this workspace's trybuild tests) and not part of the API.

mod args;
#[cfg(feature = "verify")]
mod cache;
mod expand;
mod generate;
mod out_dir;
mod resolve;
mod reuse;

/// Embeds a migrations directory, checked at compile time, as a `migrate_runtime::Migrations`.
///
/// The path is relative to the directory of the invoking crate's `Cargo.toml`.
///
/// ```ignore
/// static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!("migrations");
/// ```
///
/// After the path, the set may declare what compile-time verification must know about the
/// service that runs it:
/// - `foreign_keys = "unenforced"`: the service runs with foreign keys off on purpose (as
///   go-sqlite3 does by default); verification runs with enforcement off and checks no foreign
///   key. `"enforced"` is the default.
/// - `functions = ["normalize/2", "bin2b64/1"]`: SQL functions the application registers on
///   its connections, by name and number of arguments (`name/*`: any number); verification
///   runs a deterministic stand-in for each that returns its first argument.
///
/// ```ignore
/// static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::embed_migrations!(
///     "migrations",
///     foreign_keys = "unenforced",
///     functions = ["normalize/2"],
/// );
/// ```
///
/// The generated code names `::migrate_runtime`. A crate that reaches it under another path (a
/// facade crate that re-exports it, or a renamed dependency) says where with `crate = …`:
///
/// ```ignore
/// static MIGRATIONS: my_facade::migrate::Migrations =
///     my_facade::migrate::embed_migrations!("migrations", crate = ::my_facade::migrate);
/// ```
#[proc_macro]
pub fn embed_migrations(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    match syn::parse::<args::Embed>(input) {
        Ok(args) => expand::embed(&args).into(),
        Err(error) => expand::failed(&error, &args::Runtime::default()).into(),
    }
}

/// Generates, in a test file, the tests the golang-migrate guide asks for on every migration:
/// a fresh database reaches the latest version, and for each migration N: a database at N−1
/// upgrades to N; up, down and up again leave the same database; and, when
/// `<dir>/fixtures/<N>.sql` exists, its rows (loaded at N−1, standing for users' data) survive
/// N's up and come back unchanged after N's down. Use it through `migrate_runtime`:
///
/// ```ignore
/// // tests/migrations.rs
/// migrate_runtime::migration_tests!("migrations");
/// ```
///
/// `migration_tests!("migrations", ignore)` generates the tests `#[ignore]`d, and
/// `crate = <path>` says where `migrate_runtime` is, as for [`embed_migrations!`]; the path
/// must be absolute (`::my_facade::migrate`, `crate::…`), since the tests live in nested
/// modules.
///
/// For a PostgreSQL set, `migration_tests!("migrations", postgres = "DATABASE_URL")` (with
/// `migrate-runtime`'s feature `postgres`) generates one test that verifies the whole set on
/// the server whose URL is in the environment variable named: every migration up, down
/// (compared with the catalogue and rows before the up) and up again, in a transaction rolled
/// back at the end. It fails, saying what to set, when the variable is not set.
#[proc_macro]
pub fn migration_tests(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let args = syn::parse_macro_input!(input as generate::Args);
    generate::migration_tests(&args).into()
}
