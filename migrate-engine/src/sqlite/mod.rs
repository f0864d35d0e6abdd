//! SQLite's side of the database boundary: every module here speaks rusqlite. A run
//! (`apply`: `BEGIN IMMEDIATE`, a savepoint and a foreign-key check per migration, the dirty
//! protocol), golang-migrate's sqlite3 version table, the history table, running a script
//! statement by statement, the schema as SQLite stores it, and the compile-time verification
//! on an in-memory database. What does not depend on the database (planning, drift, values,
//! the report, options and errors) sits beside this module; ARCHITECTURE.md draws the line.

pub(crate) mod apply;
pub(crate) mod compare;
pub(crate) mod execute;
pub(crate) mod fk_check;
pub(crate) mod foreign_keys;
pub(crate) mod history;
pub(crate) mod mirror;
pub(crate) mod operations;
pub(crate) mod sandbox;
pub(crate) mod schema;
pub(crate) mod shape;
pub(crate) mod synthesize;
pub mod testing;
pub(crate) mod verify;
pub(crate) mod version_table;
