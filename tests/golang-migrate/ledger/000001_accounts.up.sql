BEGIN;
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    currency TEXT NOT NULL CHECK (length(currency) = 3)
);
COMMIT;
