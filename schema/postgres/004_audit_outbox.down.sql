DROP TABLE IF EXISTS strata_audit_outbox;
