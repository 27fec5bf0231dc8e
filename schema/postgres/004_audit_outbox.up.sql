-- The transactional audit outbox (Strata's addition, SDK 1.5): each audit
-- event is written in the same transaction as the row it describes, so an
-- acknowledged operation's event survives a crash at any instant. A relay
-- hands the rows to the audit sink in order (seq) and deletes them once the
-- sink has them; the sink dedupes by event id, so a hand-over repeated after
-- a crash stores nothing twice. The columns are the seed's AuditLog fields.
-- One index only (the primary key): the outbox sits on the send path.
CREATE TABLE strata_audit_outbox (
    seq BIGSERIAL PRIMARY KEY,
    event_id UUID NOT NULL,
    occurred_at TIMESTAMP WITH TIME ZONE NOT NULL,
    user_id TEXT,
    ip TEXT NOT NULL,
    action TEXT NOT NULL,
    resource TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('success', 'failure')),
    metadata TEXT NOT NULL DEFAULT '{}'
);
