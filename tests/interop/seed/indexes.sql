-- src/models/indexes.sql
-- Optimization queries
CREATE INDEX idx_messages_composite ON messages(sender_id, recipient_id, created_at);
CREATE INDEX idx_users_composite ON users(username, email, is_active);

-- Cleaning old messages
CREATE FUNCTION cleanup_old_messages() RETURNS void AS $$
BEGIN
  DELETE FROM messages
  WHERE expires_at < NOW()
  AND is_deleted = false;
END;
$$ LANGUAGE plpgsql;

-- Scheduled execution
SELECT cron.schedule('0 0 * * *', 'SELECT cleanup_old_messages()');
