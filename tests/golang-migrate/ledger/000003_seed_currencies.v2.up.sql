BEGIN TRANSACTION;
CREATE TABLE currencies (code TEXT PRIMARY KEY, minor_units INTEGER NOT NULL);
INSERT INTO currencies (code, minor_units) VALUES ('EUR', 2), ('USD', 2), ('JPY', 0);
COMMIT TRANSACTION;
