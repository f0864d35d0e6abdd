//! One test binary for the root's integration tests that need no process of their own: each
//! file stays where it was (`tests/<name>.rs`) and is a module here, so the binary links
//! SQLite and the workspace once instead of once per file. Run one file's tests with
//! `cargo test --test integration <name>::`.
//!
//! `runtime`'s logging test installs the process's one `log` logger and keeps only the records
//! of its own migrations (named `logged_*`), so the other modules' runs do not disturb it.
//! `tests/crash.rs` and `tests/concurrency.rs` stay binaries of their own: they start copies of
//! their binary as workers, and the README's commands name them.

#[path = "drift.rs"]
mod drift;
#[path = "embed.rs"]
mod embed;
#[path = "generated.rs"]
mod generated;
#[path = "hostile.rs"]
mod hostile;
#[path = "postgres_set.rs"]
mod postgres_set;
#[path = "rebuild.rs"]
mod rebuild;
#[path = "runtime.rs"]
mod runtime;
#[path = "timestamps.rs"]
mod timestamps;
