// Entry point of libstrata-postgres.so: the storage role on PostgreSQL (libpq).

#include "postgres_storage.hpp"

STRATA_PLUGIN("postgres", STRATA_VERSION,
              "Storage on PostgreSQL: the seed's schema, migrations, pooled prepared statements, COPY batches",
              strata::sdk::provide<strata::postgres::PostgresStorage>())
