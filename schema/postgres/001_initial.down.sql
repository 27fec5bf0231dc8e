DROP TABLE IF EXISTS encryption_keys;
DROP TABLE IF EXISTS messages;
DROP TABLE IF EXISTS users;
-- uuid-ossp stays: other schemas in the database may use it.
