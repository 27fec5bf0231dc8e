-- The seed's relational model on SQLite: the same tables and columns, in the
-- same order, as schema/postgres after all its migrations (the seed's columns
-- first, then Strata's key_id and read_at), with the same meaning.
-- SQLite has no UUID, BYTEA or timestamptz types, so:
-- UUIDs are canonical lower-case text: readable with the sqlite3 shell, and
-- ordered exactly as their bytes, so keyset pages match PostgreSQL's order.
-- Timestamps are integer microseconds since the Unix epoch (UTC), the
-- precision of timestamptz; binary values (BYTEA) are BLOBs; booleans 0/1.
CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    username TEXT UNIQUE NOT NULL,
    email TEXT UNIQUE NOT NULL,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_login INTEGER,
    is_active INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE messages (
    id TEXT PRIMARY KEY NOT NULL,
    sender_id TEXT NOT NULL REFERENCES users(id),
    recipient_id TEXT NOT NULL REFERENCES users(id),
    encrypted_content BLOB NOT NULL,
    iv BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    is_read INTEGER NOT NULL DEFAULT 0,
    is_deleted INTEGER NOT NULL DEFAULT 0,
    key_id TEXT NOT NULL DEFAULT '',
    read_at INTEGER
);

CREATE TABLE encryption_keys (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    public_key BLOB NOT NULL,
    private_key_encrypted BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    is_active INTEGER NOT NULL DEFAULT 1
);

-- The seed's index names where SQLite needs the same index; the keyset and
-- expiry indexes are Strata's (as in schema/postgres/003).
CREATE INDEX idx_messages_sender ON messages(sender_id);
CREATE INDEX idx_encryption_keys_user ON encryption_keys(user_id, created_at DESC);
CREATE INDEX idx_messages_inbox_keyset ON messages(recipient_id, created_at DESC, id DESC) WHERE is_deleted = 0;
CREATE INDEX idx_messages_conversation_keyset
    ON messages(min(sender_id, recipient_id), max(sender_id, recipient_id), created_at DESC, id DESC)
    WHERE is_deleted = 0;
CREATE INDEX idx_messages_expires_at ON messages(expires_at) WHERE expires_at IS NOT NULL;
