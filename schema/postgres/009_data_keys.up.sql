-- Users' data keys (Strata's addition, SDK 1.11). With [erasure]
-- per_user_keys, each user's messages and private keys are sealed under a
-- data key of that user's; the key is stored here wrapped by the cipher role.
-- Erasing the user clears `wrapped` and sets `destroyed_at`: the row stays as
-- a tombstone, so the same key is never stored again (a restore included).
-- This table is left out of the plugin's backups (pg_dump --exclude-table)
-- and so never dropped by its restores: the services back the keys up apart,
-- with a short retention (core/README.md, "Erasure"). A restore into a new
-- database runs this file again, so it only creates what is missing.
CREATE TABLE IF NOT EXISTS strata_data_keys (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL,
    wrapped BYTEA,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    destroyed_at TIMESTAMP WITH TIME ZONE,
    CONSTRAINT strata_data_keys_destroyed_means_cleared CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL))
);

-- A user's live keys (a send's lookup), and the erase that destroys them.
CREATE INDEX IF NOT EXISTS idx_strata_data_keys_user ON strata_data_keys(user_id) WHERE destroyed_at IS NULL;
-- Key backups and rotation page through every row by keyset.
CREATE INDEX IF NOT EXISTS idx_strata_data_keys_keyset ON strata_data_keys(created_at DESC, id DESC);
