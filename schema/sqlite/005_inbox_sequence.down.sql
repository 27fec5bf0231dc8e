DROP TRIGGER strata_number_message;
DROP INDEX idx_messages_recipient_seq;
ALTER TABLE messages DROP COLUMN recipient_seq;
DROP TABLE strata_inbox_epoch;
DROP TABLE strata_inbox_heads;
