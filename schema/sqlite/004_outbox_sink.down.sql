ALTER TABLE strata_audit_outbox DROP COLUMN sink;
