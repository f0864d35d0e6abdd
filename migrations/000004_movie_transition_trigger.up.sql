-- Migration 000004: keep `most_recent` right automatically.
-- A new transition becomes the movie's current state; the previous one stops being current.
-- (The `;` inside the trigger body does not end the statement.)

CREATE TRIGGER IF NOT EXISTS "movie_transition_most_recent"
BEFORE INSERT ON "movie_transition"
WHEN NEW."most_recent" = 1
BEGIN
    UPDATE "movie_transition"
    SET "most_recent" = 0
    WHERE "movie_id" = NEW."movie_id" AND "most_recent" = 1;
END;

CREATE INDEX IF NOT EXISTS "idx_movie_transition_movie_sort"
    ON "movie_transition" ("movie_id", "sort_key");
