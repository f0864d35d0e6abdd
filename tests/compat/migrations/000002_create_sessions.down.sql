DROP TRIGGER accounts_touch;
DROP INDEX sessions_account;
DROP TABLE sessions;
