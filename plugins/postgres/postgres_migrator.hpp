#pragma once
// Schema migrations from schema/postgres/, embedded at build time
// (strata_embed_migrations, strata/sdk/migrations.hpp).

#include "postgres_connection.hpp"
#include "strata/sdk/migrations.hpp"
#include "strata/sdk/storage.hpp"

namespace strata::postgres {

using sdk::Migration;

/// Every migration, in version order (generated from schema/postgres/ by CMake).
const sdk::MigrationSet& migrations();

/// The database's schema version (0 when never migrated) and the newest known.
sdk::Result<sdk::SchemaStatus> schema_status(Connection& c);

/// Migrates up or down to `target` in one transaction under an advisory lock,
/// so concurrent migrators take turns and a failure leaves nothing half-done.
/// A database the seed's own SQL made is adopted (postgres_seed_adoption.hpp), or
/// refused with every difference before anything changes.
sdk::Result<sdk::SchemaStatus> migrate_to(Connection& c, int target);

/// What migrate_to(c, target) would do, computed in a transaction that is
/// rolled back: nothing changes.
sdk::Result<sdk::MigrationPlan> plan_migration(Connection& c, int target);

}  // namespace strata::postgres
