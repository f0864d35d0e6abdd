//! End-to-end tests of the `migrate` binary: each runs the real binary in a temporary
//! directory, against real SQLite files, and snapshots its exit status, stdout and stderr
//! (`snapshots/`; durations are filtered out).

mod check;
mod check_declared;
mod database;
mod help;
mod inspect;
mod new;
mod run;
mod support;
