-- Migration 000001: initial schema
-- Quality definitions and profiles, movies with their state transitions, and jobs.

-- Parents first: quality definitions and profiles.
CREATE TABLE IF NOT EXISTS "quality_definition" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "quality_id" INTEGER NOT NULL UNIQUE,
    "name" TEXT NOT NULL,
    "preferred_size" NUMERIC NOT NULL,
    "min_size" NUMERIC NOT NULL,
    "max_size" NUMERIC NOT NULL,
    "media_type" TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS "quality_profile" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "cutoff_quality_id" INTEGER NOT NULL,
    "upgrade_allowed" BOOLEAN NOT NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS "idx_quality_profile_name"
    ON "quality_profile" ("name");

-- Children: the qualities each profile accepts. Deleting a profile deletes its items.
CREATE TABLE IF NOT EXISTS "quality_profile_item" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT,
    "profile_id" INTEGER NOT NULL,
    "quality_id" INTEGER NOT NULL,
    FOREIGN KEY ("profile_id") REFERENCES "quality_profile" ("id") ON DELETE CASCADE,
    FOREIGN KEY ("quality_id") REFERENCES "quality_definition" ("quality_id")
);

CREATE UNIQUE INDEX IF NOT EXISTS "idx_quality_profile_item_profile_quality"
    ON "quality_profile_item" ("profile_id", "quality_id");

CREATE TABLE IF NOT EXISTS "movie" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "title" TEXT NOT NULL,
    "path" TEXT,
    "quality_profile_id" INTEGER NOT NULL,
    "added_at" DATETIME DEFAULT CURRENT_TIMESTAMP,
    FOREIGN KEY ("quality_profile_id") REFERENCES "quality_profile" ("id")
);

CREATE INDEX IF NOT EXISTS "idx_movie_title" ON "movie" ("title");

CREATE TABLE IF NOT EXISTS "movie_transition" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "movie_id" INTEGER NOT NULL,
    "to_state" TEXT NOT NULL,
    "from_state" TEXT,
    "most_recent" BOOLEAN NOT NULL DEFAULT 1,
    "sort_key" INTEGER NOT NULL,
    "created_at" DATETIME DEFAULT CURRENT_TIMESTAMP,
    FOREIGN KEY ("movie_id") REFERENCES "movie" ("id") ON DELETE CASCADE
);

-- At most one current state per movie.
CREATE UNIQUE INDEX IF NOT EXISTS "idx_movie_transitions_most_recent"
    ON "movie_transition" ("movie_id", "most_recent")
    WHERE "most_recent" = 1;

CREATE TABLE IF NOT EXISTS "job" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "type" TEXT NOT NULL,
    "created_at" DATETIME DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "job_transition" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "job_id" INTEGER NOT NULL,
    "to_state" TEXT NOT NULL,
    "most_recent" BOOLEAN NOT NULL DEFAULT 1,
    "sort_key" INTEGER NOT NULL,
    "created_at" DATETIME DEFAULT CURRENT_TIMESTAMP,
    FOREIGN KEY ("job_id") REFERENCES "job" ("id") ON DELETE CASCADE
);

CREATE UNIQUE INDEX IF NOT EXISTS "idx_job_transitions_most_recent"
    ON "job_transition" ("job_id", "most_recent")
    WHERE "most_recent" = 1;

-- Seed data: idempotent, so a retried migration does not fail on duplicates.
INSERT OR IGNORE INTO "quality_definition"
    ("quality_id", "name", "preferred_size", "min_size", "max_size", "media_type")
VALUES
    (1, 'HDTV-720p', 1999, 17.1, 2000, 'movie'),
    (2, 'WEBDL-720p', 1999, 12.5, 2000, 'movie'),
    (8, 'Bluray-1080p', 1999, 50.4, 2000, 'movie'),
    (13, 'Bluray-2160p', 1999, 102.0, 2000, 'movie');

INSERT OR IGNORE INTO "quality_profile" ("id", "name", "cutoff_quality_id", "upgrade_allowed")
VALUES
    (1, 'Standard Definition', 2, TRUE),
    (2, 'High Definition', 8, TRUE),
    (3, 'Ultra High Definition', 13, FALSE);

INSERT OR IGNORE INTO "quality_profile_item" ("profile_id", "quality_id")
VALUES
    (1, 1), (1, 2),
    (2, 1), (2, 2), (2, 8),
    (3, 8), (3, 13);
