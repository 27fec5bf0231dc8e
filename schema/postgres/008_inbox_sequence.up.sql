-- The per-recipient sequence (SDK 1.10): each message gets its recipient's
-- next number inside the transaction that stores it, whoever writes it (the
-- plugin, or a seed client during a move). The trigger updates the
-- recipient's head row, which stays locked until that transaction ends: a
-- second writer to the same recipient waits, and numbers follow commits.
-- Messages stored before this migration keep a NULL number.
CREATE TABLE strata_inbox_heads (
    recipient_id UUID PRIMARY KEY,
    head BIGINT NOT NULL
);

-- One row naming this run of the numbers. The plugin's backups leave its
-- data out, so a restored database starts a new epoch and cursors from
-- before the restore are told so.
CREATE TABLE strata_inbox_epoch (
    only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
    epoch UUID NOT NULL
);
INSERT INTO strata_inbox_epoch (epoch) VALUES (gen_random_uuid());

ALTER TABLE messages ADD COLUMN recipient_seq BIGINT;
CREATE UNIQUE INDEX idx_messages_recipient_seq ON messages(recipient_id, recipient_seq);

CREATE FUNCTION strata_number_message() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO strata_inbox_heads AS h (recipient_id, head) VALUES (NEW.recipient_id, 1)
    ON CONFLICT (recipient_id) DO UPDATE SET head = h.head + 1
    RETURNING h.head INTO NEW.recipient_seq;
    RETURN NEW;
END
$$;

CREATE TRIGGER strata_number_message BEFORE INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION strata_number_message();
