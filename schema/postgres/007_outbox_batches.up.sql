-- The audit outbox, one row per batch (issue 33): a group-committed batch of
-- sends writes its events as one row of parallel arrays instead of one
-- indexed row each, so the outbox costs one heap row and one index entry per
-- transaction, not per message. Event i of a row is element i of every array
-- (the columns are the seed's AuditLog fields, as in migration 4). The relay
-- hands rows over in seq order, and may take the front of a row, leaving the
-- rest (drain_outbox's limit). The events waiting in the per-event table move
-- over in order: each run of consecutive events of one sink (an island) in
-- rows of at most 256.
CREATE TABLE strata_audit_outbox_batches (
    seq BIGSERIAL PRIMARY KEY,
    sink TEXT NOT NULL DEFAULT '',
    event_id UUID[] NOT NULL,
    occurred_at TIMESTAMP WITH TIME ZONE[] NOT NULL,
    user_id TEXT[] NOT NULL,
    ip TEXT[] NOT NULL,
    action TEXT[] NOT NULL,
    resource TEXT[] NOT NULL,
    status TEXT[] NOT NULL,
    metadata TEXT[] NOT NULL,
    CHECK (cardinality(event_id) > 0),
    CHECK (status <@ ARRAY['success', 'failure'])
);
INSERT INTO strata_audit_outbox_batches (sink, event_id, occurred_at, user_id, ip, action, resource, status, metadata)
SELECT sink, array_agg(event_id ORDER BY seq), array_agg(occurred_at ORDER BY seq), array_agg(user_id ORDER BY seq),
       array_agg(ip ORDER BY seq), array_agg(action ORDER BY seq), array_agg(resource ORDER BY seq),
       array_agg(status ORDER BY seq), array_agg(metadata ORDER BY seq)
FROM (SELECT i.*, (row_number() OVER (PARTITION BY sink, island ORDER BY seq) - 1) / 256 AS chunk
      FROM (SELECT o.*, row_number() OVER (ORDER BY seq) - row_number() OVER (PARTITION BY sink ORDER BY seq) AS island
            FROM strata_audit_outbox o) AS i) AS c
GROUP BY sink, island, chunk
ORDER BY min(seq);
DROP TABLE strata_audit_outbox;
