#pragma once
// Adopting a database the seed's own SQL made (schema.sql, then indexes.sql,
// or its TypeORM migration 001_initial): before Strata's first migration,
// the seed's objects are compared, catalog entry by catalog entry, with what
// Strata's migrations 1 and 2 create (run into a scratch schema, then rolled
// back). Identical: those migrations are recorded as applied (a baseline).
// Different in any way that matters: every difference, and nothing changed.

#include <string>
#include <vector>

#include "postgres_connection.hpp"
#include "postgres_migrator.hpp"
#include "strata/sdk/storage.hpp"

namespace strata::postgres {

/// What to do with one of the migrations the seed's objects may already satisfy.
struct AdoptedMigration {
  const Migration* migration = nullptr;
  std::string action;                    ///< "apply", "baseline" or "complete"
  std::string detail;                    ///< what was found, one line
  std::vector<std::string> missing;      ///< with "complete": the objects still to create
};

struct SeedAdoption {
  std::vector<AdoptedMigration> migrations;  ///< for versions 1 and 2, in order
  std::vector<std::string> differences;      ///< why adopting is refused
  std::vector<std::string> notes;            ///< what was found and is harmless
};

/// Whether the seed's objects exist in the current schema (any of its tables
/// or cleanup_old_messages()). Only asked while no Strata migration is recorded.
sdk::Result<bool> seed_objects_exist(Connection& c);

/// Compares them with Strata's migrations 1 and 2. Runs inside the caller's
/// transaction: it creates a scratch schema under a savepoint and rolls it back.
sdk::Result<SeedAdoption> inspect_seed(Connection& c);

/// Carries out a "complete": runs the statements of `m` that create `missing`.
sdk::Result<void> complete_migration(Connection& c, const AdoptedMigration& m);

}  // namespace strata::postgres
