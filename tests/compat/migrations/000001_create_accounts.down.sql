DROP INDEX accounts_email;
DROP TABLE accounts;
