-- The audit sink each outbox event is for (SDK 1.9): a process relays only
-- the events of its own sink (and those written before this column, ''),
-- so another process on the same database with another [audit] never
-- empties the outbox into its own sink. The identity is the sink plugin's
-- (a file's path, MongoDB's servers, database and collection), never a
-- credential.
ALTER TABLE strata_audit_outbox ADD COLUMN sink TEXT NOT NULL DEFAULT '';
