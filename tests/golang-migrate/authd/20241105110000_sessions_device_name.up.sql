-- Run with x-no-tx-wrap=true: each file manages its own transaction.
BEGIN;
CREATE TABLE sessions_new (
    token TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL,
    device_name TEXT NOT NULL DEFAULT ''
);
INSERT INTO sessions_new (token, user_id, expires_at)
    SELECT token, user_id, expires_at FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX sessions_user_id ON sessions (user_id);
COMMIT;
