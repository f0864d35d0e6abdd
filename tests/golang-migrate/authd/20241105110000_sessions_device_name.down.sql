BEGIN;
CREATE TABLE sessions_old (
    token TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL
);
INSERT INTO sessions_old (token, user_id, expires_at)
    SELECT token, user_id, expires_at FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_old RENAME TO sessions;
CREATE INDEX sessions_user_id ON sessions (user_id);
COMMIT;
