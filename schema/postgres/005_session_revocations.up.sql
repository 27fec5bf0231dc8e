-- Durable session revocations (Strata's addition, SDK 1.9). Sessions live in
-- the session cache, which can come back older than the truth (a Redis
-- restarted from a snapshot taken before a revoke, a restored backup); a
-- session lookup asks this table too, so a revocation outlives both. One row
-- per subject: 'all', 'user:<uuid>' (revoke-all) or 'token:<sha256>' (one
-- session), holding the latest time before which that subject's sessions are
-- refused. Rows go once keep_until (the longest session lifetime after the
-- revocation) has passed.
CREATE TABLE strata_session_revocations (
    subject TEXT PRIMARY KEY,
    revoked_before TIMESTAMP WITH TIME ZONE NOT NULL,
    keep_until TIMESTAMP WITH TIME ZONE NOT NULL
);
