-- Migration 000002 down: `cutoff_quality_id` is NOT NULL again.
-- NOTE: a profile without a cutoff gets its original default back (best effort for profiles
-- created after the upgrade: the Standard Definition cutoff).

PRAGMA foreign_keys = OFF;

CREATE TABLE "quality_profile_new" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "cutoff_quality_id" INTEGER NOT NULL,
    "upgrade_allowed" BOOLEAN NOT NULL
);

INSERT INTO "quality_profile_new" ("id", "name", "cutoff_quality_id", "upgrade_allowed")
SELECT
    "id",
    "name",
    COALESCE("cutoff_quality_id",
        CASE "id"
            WHEN 1 THEN 2
            WHEN 2 THEN 8
            WHEN 3 THEN 13
            ELSE 2
        END),
    CASE
        WHEN "cutoff_quality_id" IS NULL AND "id" IN (1, 2) AND "upgrade_allowed" = FALSE THEN TRUE
        ELSE "upgrade_allowed"
    END
FROM "quality_profile";

DROP TABLE "quality_profile";
ALTER TABLE "quality_profile_new" RENAME TO "quality_profile";

CREATE UNIQUE INDEX IF NOT EXISTS "idx_quality_profile_name"
    ON "quality_profile" ("name");

PRAGMA foreign_keys = ON;
