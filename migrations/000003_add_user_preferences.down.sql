-- Migration 000003 down: remove users and their preferences.
-- LIMITATION: preferences stored since the upgrade are lost on rollback.

DROP INDEX IF EXISTS "idx_user_preference_user_key";
DROP TABLE IF EXISTS "user_preference";
DROP INDEX IF EXISTS "idx_user_name";
DROP TABLE IF EXISTS "user";
