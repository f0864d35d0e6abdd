-- Migration 000004 down: transitions no longer maintain `most_recent` by themselves.

DROP INDEX IF EXISTS "idx_movie_transition_movie_sort";
DROP TRIGGER IF EXISTS "movie_transition_most_recent";
