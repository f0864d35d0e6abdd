ALTER TABLE customers ADD COLUMN full_name text;
UPDATE customers SET full_name = given_name || ' ' || family_name;
ALTER TABLE customers ALTER COLUMN full_name SET NOT NULL;
ALTER TABLE customers DROP COLUMN given_name, DROP COLUMN family_name;
