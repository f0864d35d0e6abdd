CREATE TABLE sessions (
    token TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TRIGGER accounts_touch AFTER UPDATE OF email ON accounts
BEGIN
    DELETE FROM sessions WHERE account_id = NEW.id;
END;
