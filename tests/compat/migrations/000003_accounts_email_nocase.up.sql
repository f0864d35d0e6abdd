-- Recreate `accounts` to make `email` case-insensitive; sessions point at it.
PRAGMA foreign_keys = OFF;

CREATE TABLE accounts_new (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL COLLATE NOCASE,
    display_name TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
INSERT INTO accounts_new (id, email, display_name, created_at)
    SELECT id, email, display_name, created_at FROM accounts;
DROP TABLE accounts;
ALTER TABLE accounts_new RENAME TO accounts;
CREATE UNIQUE INDEX accounts_email ON accounts (email);
CREATE TRIGGER accounts_touch AFTER UPDATE OF email ON accounts
BEGIN
    DELETE FROM sessions WHERE account_id = NEW.id;
END;

PRAGMA foreign_keys = ON;
