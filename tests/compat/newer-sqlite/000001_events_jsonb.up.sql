-- jsonb() exists from SQLite 3.45.0 on.
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    body BLOB NOT NULL
);
INSERT INTO events (body) VALUES (jsonb('{"kind": "created"}'));
