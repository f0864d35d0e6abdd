BEGIN;
DROP TRIGGER entries_no_update;
DROP VIEW balances;
COMMIT;
