DROP INDEX IF EXISTS idx_messages_expires_at;
DROP INDEX IF EXISTS idx_messages_conversation_keyset;
DROP INDEX IF EXISTS idx_messages_inbox_keyset;
ALTER TABLE messages DROP COLUMN IF EXISTS read_at;
ALTER TABLE messages DROP COLUMN IF EXISTS key_id;
