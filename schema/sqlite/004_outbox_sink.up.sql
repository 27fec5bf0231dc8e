-- The audit sink each outbox event is for, as schema/postgres/006_outbox_sink.
ALTER TABLE strata_audit_outbox ADD COLUMN sink TEXT NOT NULL DEFAULT '';
