PRAGMA foreign_keys = OFF;

CREATE TABLE accounts_old (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    display_name TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
INSERT INTO accounts_old (id, email, display_name, created_at)
    SELECT id, email, display_name, created_at FROM accounts;
DROP TABLE accounts;
ALTER TABLE accounts_old RENAME TO accounts;
CREATE UNIQUE INDEX accounts_email ON accounts (email);
CREATE TRIGGER accounts_touch AFTER UPDATE OF email ON accounts
BEGIN
    DELETE FROM sessions WHERE account_id = NEW.id;
END;

PRAGMA foreign_keys = ON;
