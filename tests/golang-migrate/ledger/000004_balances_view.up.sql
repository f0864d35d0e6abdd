BEGIN;
CREATE VIEW balances AS
    SELECT a.id AS account_id, a.name, coalesce(sum(e.amount_cents), 0) AS balance_cents
    FROM accounts a LEFT JOIN entries e ON e.account_id = a.id
    GROUP BY a.id;
CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
BEGIN
    SELECT RAISE(ABORT, 'entries are append-only');
END;
COMMIT;
