#pragma once
// The migrations embedded from schema/sqlite/ at build time
// (strata_embed_migrations, strata/sdk/migrations.hpp).

#include "strata/sdk/migrations.hpp"

namespace strata::sqlite {

/// Every migration, in version order (generated from schema/sqlite/ by CMake).
const sdk::MigrationSet& migrations();

}  // namespace strata::sqlite
