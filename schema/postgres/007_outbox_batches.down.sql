-- Back to one row per event (migrations 4 and 6), the waiting events in order.
CREATE TABLE strata_audit_outbox (
    seq BIGSERIAL PRIMARY KEY,
    event_id UUID NOT NULL,
    occurred_at TIMESTAMP WITH TIME ZONE NOT NULL,
    user_id TEXT,
    ip TEXT NOT NULL,
    action TEXT NOT NULL,
    resource TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('success', 'failure')),
    metadata TEXT NOT NULL DEFAULT '{}',
    sink TEXT NOT NULL DEFAULT ''
);
INSERT INTO strata_audit_outbox (event_id, occurred_at, user_id, ip, action, resource, status, metadata, sink)
SELECT e.event_id, e.occurred_at, e.user_id, e.ip, e.action, e.resource, e.status, e.metadata, b.sink
FROM strata_audit_outbox_batches b,
     unnest(b.event_id, b.occurred_at, b.user_id, b.ip, b.action, b.resource, b.status, b.metadata) WITH ORDINALITY
       AS e(event_id, occurred_at, user_id, ip, action, resource, status, metadata, n)
ORDER BY b.seq, e.n;
DROP TABLE strata_audit_outbox_batches;
