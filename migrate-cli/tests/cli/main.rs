//! End-to-end tests of the `migrate-sqlite` binary: each runs the real binary in a temporary
//! directory, against real SQLite files, and snapshots its exit status, stdout and stderr
//! (`snapshots/`; durations are filtered out).

mod adopt;
mod check;
mod check_declared;
mod check_postgres;
mod color;
mod database;
mod help;
mod inspect;
mod new;
mod postgres_ops;
mod read_only;
mod run;
mod support;
