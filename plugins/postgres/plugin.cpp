// Entry point of libstrata-postgres.so: the storage role on PostgreSQL (libpq).

#include "pg_storage.hpp"

STRATA_PLUGIN("postgres", "1.0.0",
              "Storage on PostgreSQL: the seed's schema, migrations, pooled prepared statements, COPY batches",
              strata::sdk::provide<strata::postgres::PostgresStorage>())
