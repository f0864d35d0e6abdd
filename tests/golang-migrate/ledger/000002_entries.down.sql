BEGIN;
DROP INDEX entries_account;
DROP TABLE entries;
COMMIT;
