//! One test binary for the root's integration tests that need no process of their own: each
//! file stays where it was (`tests/<name>.rs`) and is a module here, so the binary links
//! SQLite and the workspace once instead of once per file. Run one file's tests with
//! `cargo test --test integration <name>::`.
//!
//! `tests/runtime.rs` stays a binary of its own: it installs the process's one `log` logger
//! and counts the records a run writes, which other tests' runs in the same process would add
//! to. `tests/crash.rs` and `tests/concurrency.rs` start copies of their own binary as workers.

#[path = "drift.rs"]
mod drift;
#[path = "embed.rs"]
mod embed;
#[path = "generated.rs"]
mod generated;
#[path = "hostile.rs"]
mod hostile;
#[path = "rebuild.rs"]
mod rebuild;
#[path = "timestamps.rs"]
mod timestamps;
