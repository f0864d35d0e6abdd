BEGIN;
CREATE TABLE entries (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    amount_cents INTEGER NOT NULL,
    booked_at TEXT NOT NULL
);
CREATE INDEX entries_account ON entries (account_id, booked_at);
COMMIT;
