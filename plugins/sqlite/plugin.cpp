// Entry point of libstrata-sqlite.so: the storage role in a local SQLite file.

#include "sqlite_storage.hpp"

STRATA_PLUGIN("sqlite", STRATA_VERSION, "Storage in a local SQLite file (WAL): the embedded default's persistence",
              strata::sdk::provide<strata::sqlite::SqliteStorage>())
