-- Migration 000001 down: remove the initial schema.
-- Children before parents, so no foreign key is left pointing at a dropped table.

DROP INDEX IF EXISTS "idx_job_transitions_most_recent";
DROP TABLE IF EXISTS "job_transition";
DROP TABLE IF EXISTS "job";

DROP INDEX IF EXISTS "idx_movie_transitions_most_recent";
DROP TABLE IF EXISTS "movie_transition";
DROP INDEX IF EXISTS "idx_movie_title";
DROP TABLE IF EXISTS "movie";

DROP INDEX IF EXISTS "idx_quality_profile_item_profile_quality";
DROP TABLE IF EXISTS "quality_profile_item";
DROP INDEX IF EXISTS "idx_quality_profile_name";
DROP TABLE IF EXISTS "quality_profile";
DROP TABLE IF EXISTS "quality_definition";
