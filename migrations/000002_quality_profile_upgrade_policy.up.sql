-- Migration 000002: quality profiles may have no cutoff.
-- `cutoff_quality_id` becomes nullable. SQLite cannot alter a column's constraints, so the
-- table is rebuilt (SQLite's 12-step ALTER TABLE procedure). Foreign keys are off while the
-- parent table is dropped and renamed; otherwise dropping `quality_profile` would delete
-- every `quality_profile_item` row through ON DELETE CASCADE.

PRAGMA foreign_keys = OFF;

CREATE TABLE "quality_profile_new" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "cutoff_quality_id" INTEGER,
    "upgrade_allowed" BOOLEAN NOT NULL
);

INSERT INTO "quality_profile_new" ("id", "name", "cutoff_quality_id", "upgrade_allowed")
SELECT "id", "name", "cutoff_quality_id", "upgrade_allowed"
FROM "quality_profile";

DROP TABLE "quality_profile";
ALTER TABLE "quality_profile_new" RENAME TO "quality_profile";

CREATE UNIQUE INDEX IF NOT EXISTS "idx_quality_profile_name"
    ON "quality_profile" ("name");

PRAGMA foreign_keys = ON;

-- Only the untouched defaults change: a profile whose name, cutoff or upgrade flag the user
-- changed does not match and keeps the user's values.
UPDATE "quality_profile"
SET "cutoff_quality_id" = NULL, "upgrade_allowed" = FALSE
WHERE ("id" = 1 AND "name" = 'Standard Definition' AND "cutoff_quality_id" = 2 AND "upgrade_allowed" = TRUE)
   OR ("id" = 2 AND "name" = 'High Definition' AND "cutoff_quality_id" = 8 AND "upgrade_allowed" = TRUE);
