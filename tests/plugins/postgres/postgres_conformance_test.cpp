// The storage conformance kit, unchanged, on the postgres plugin against a
// real PostgreSQL 15; every section gets a database of its own.

#include <strata/sdk/testing/storage_kit.hpp>

#include "postgres_db.hpp"
#include "test_host.hpp"

namespace {

using namespace strata;

sdk::testing::StorageTarget postgres_target() {
  test::require_postgres();
  return {[] {
            auto db = std::make_shared<test::TempDatabase>();
            auto host = std::shared_ptr<Host>(test::open_host(db->storage_table()));
            auto storage = host->storage();
            auto status = storage->schema_status();
            REQUIRE(status);
            REQUIRE(storage->migrate(status->latest));
            // Closing order: the storage's pool, then the database it used.
            return std::shared_ptr<sdk::Storage>(storage.get(), [storage, host, db](sdk::Storage*) mutable {
              storage.reset();
              host.reset();
              db.reset();
            });
          },
          true};
}

}  // namespace

STRATA_STORAGE_CONFORMANCE("postgres", postgres_target())
