//! `migration_tests!` through the renamed dependency: the generated tests (fresh database,
//! upgrade from the previous version, round trip for each migration) name the runtime by the
//! path given with `crate = …`.

migrate::migration_tests!("migrations", crate = ::migrate);
