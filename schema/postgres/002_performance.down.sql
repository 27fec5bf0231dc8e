DROP FUNCTION IF EXISTS cleanup_old_messages();
DROP INDEX IF EXISTS idx_messages_conversation;
DROP INDEX IF EXISTS idx_messages_recipient_unread;
