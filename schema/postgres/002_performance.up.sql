-- The seed's indexes.sql (shared/seed): two composite indexes and the expiry
-- cleanup function, with the seed's body. The seed's last statement,
-- `SELECT cron.schedule('0 0 * * *', 'SELECT cleanup_old_messages()')`, is
-- not here: pg_cron is optional, so the postgres plugin installs exactly that
-- job when `cleanup.schedule` is set (see plugins/postgres/README.md).
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
