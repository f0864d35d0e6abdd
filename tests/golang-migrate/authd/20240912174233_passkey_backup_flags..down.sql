ALTER TABLE passkeys DROP COLUMN backup_state;
ALTER TABLE passkeys DROP COLUMN backup_eligible;
