-- The per-recipient sequence, as schema/postgres/008_inbox_sequence. SQLite
-- has one writer at a time, so numbering in the inserting transaction
-- follows commits. An AFTER trigger, since SQLite's cannot change NEW.
CREATE TABLE strata_inbox_heads (
    recipient_id TEXT PRIMARY KEY NOT NULL,
    head INTEGER NOT NULL
);

-- Replaced after every restore (the plugin does), so cursors from before it are told so.
CREATE TABLE strata_inbox_epoch (
    only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
    epoch TEXT NOT NULL
);
INSERT INTO strata_inbox_epoch (only_row, epoch) VALUES (1, lower(hex(randomblob(16))));

ALTER TABLE messages ADD COLUMN recipient_seq INTEGER;
CREATE UNIQUE INDEX idx_messages_recipient_seq ON messages(recipient_id, recipient_seq);

CREATE TRIGGER strata_number_message AFTER INSERT ON messages
BEGIN
    INSERT INTO strata_inbox_heads (recipient_id, head) VALUES (NEW.recipient_id, 1)
    ON CONFLICT (recipient_id) DO UPDATE SET head = head + 1;
    UPDATE messages SET recipient_seq = (SELECT head FROM strata_inbox_heads WHERE recipient_id = NEW.recipient_id)
    WHERE rowid = NEW.rowid;
END;
