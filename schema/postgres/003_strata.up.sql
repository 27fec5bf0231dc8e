-- What Strata adds to the seed's schema: columns and indexes only, never a
-- change to a seed column.

-- The cipher key that sealed each ciphertext (key rotation, `strata keys rewrap`).
-- Rows written by the seed have none: '' means "the default key".
ALTER TABLE messages ADD COLUMN key_id TEXT NOT NULL DEFAULT '';

-- When the recipient first read the message. The seed keeps only is_read
-- (still the read state); rows it marks read have no time here.
ALTER TABLE messages ADD COLUMN read_at TIMESTAMP WITH TIME ZONE;

-- Inbox pages: newest first by the keyset (created_at, id), only live rows.
-- One index range scan per page, no sort, no OFFSET.
CREATE INDEX idx_messages_inbox_keyset
    ON messages(recipient_id, created_at DESC, id DESC) WHERE is_deleted = false;

-- Conversation pages: both directions of a pair in one range.
CREATE INDEX idx_messages_conversation_keyset
    ON messages(LEAST(sender_id, recipient_id), GREATEST(sender_id, recipient_id), created_at DESC, id DESC)
    WHERE is_deleted = false;

-- Expiry purge touches only rows that can expire.
CREATE INDEX idx_messages_expires_at ON messages(expires_at) WHERE expires_at IS NOT NULL;
