DROP TABLE IF EXISTS strata_session_revocations;
