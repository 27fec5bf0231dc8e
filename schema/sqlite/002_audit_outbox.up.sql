-- The transactional audit outbox, as schema/postgres/004_audit_outbox: each
-- audit event is written in the transaction of the row it describes, and a
-- relay moves the rows to the audit sink in seq order.
CREATE TABLE strata_audit_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    user_id TEXT,
    ip TEXT NOT NULL,
    action TEXT NOT NULL,
    resource TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('success', 'failure')),
    metadata TEXT NOT NULL DEFAULT '{}'
);
