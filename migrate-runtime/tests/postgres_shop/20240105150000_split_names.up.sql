-- Data migration: full_name becomes given_name and family_name.
ALTER TABLE customers ADD COLUMN given_name text, ADD COLUMN family_name text;
UPDATE customers SET given_name = split_part(full_name, ' ', 1),
    family_name = substr(full_name, length(split_part(full_name, ' ', 1)) + 2);
ALTER TABLE customers ALTER COLUMN given_name SET NOT NULL, ALTER COLUMN family_name SET NOT NULL;
ALTER TABLE customers DROP COLUMN full_name;
