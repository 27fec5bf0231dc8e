-- Users' data keys, as schema/postgres/009_data_keys, in a database file of
-- their own beside the main one (attached as strata_keys, "<path>-keys"):
-- the plugin's backup copies the main file only and its restore replaces
-- the main file only, so the keys are never in a data backup and a restore
-- never brings a destroyed one back. Times in microseconds since the epoch.
-- Runs again after a restore, so it only creates what is missing.
CREATE TABLE IF NOT EXISTS strata_keys.strata_data_keys (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL,
    wrapped BLOB,
    created_at INTEGER NOT NULL,
    destroyed_at INTEGER,
    CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS strata_keys.idx_strata_data_keys_user ON strata_data_keys(user_id) WHERE destroyed_at IS NULL;
CREATE INDEX IF NOT EXISTS strata_keys.idx_strata_data_keys_keyset ON strata_data_keys(created_at, id);
