-- The seed's indexes.sql: two composite indexes and the expiry cleanup
-- function the seed schedules daily with pg_cron.
CREATE INDEX idx_messages_recipient_unread ON messages(recipient_id, is_deleted, read_at);
CREATE INDEX idx_messages_conversation ON messages(sender_id, recipient_id, created_at);

CREATE OR REPLACE FUNCTION cleanup_old_messages() RETURNS void AS $$
BEGIN
    DELETE FROM messages WHERE expires_at IS NOT NULL AND expires_at < NOW();
END;
$$ LANGUAGE plpgsql;
