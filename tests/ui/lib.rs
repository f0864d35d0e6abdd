//! Holds no code: the package exists for its `ui` test, whose cases depend only on `migrate-runtime`.
