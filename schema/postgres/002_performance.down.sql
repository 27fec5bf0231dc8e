DROP FUNCTION IF EXISTS cleanup_old_messages();
DROP INDEX IF EXISTS idx_users_composite;
DROP INDEX IF EXISTS idx_messages_composite;
