-- Durable session revocations, as schema/postgres/005_session_revocations:
-- the latest "revoked before" per subject ('all', 'user:<uuid>',
-- 'token:<sha256>'), in integer microseconds since the Unix epoch (UTC).
CREATE TABLE strata_session_revocations (
    subject TEXT PRIMARY KEY,
    revoked_before INTEGER NOT NULL,
    keep_until INTEGER NOT NULL
);
