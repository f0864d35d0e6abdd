ALTER TABLE users ADD COLUMN display_name TEXT;
UPDATE users SET display_name = substr(email, 1, instr(email, '@') - 1) WHERE display_name IS NULL;
