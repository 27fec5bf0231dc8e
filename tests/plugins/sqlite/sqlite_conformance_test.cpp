// The storage conformance kit, unchanged, on the sqlite plugin; every section
// gets a database file of its own, removed afterwards.

#include <strata/sdk/testing/storage_kit.hpp>

#include "test_host.hpp"

namespace {

using namespace strata;

sdk::testing::StorageTarget sqlite_target() {
  return {[] {
            auto dir = std::filesystem::temp_directory_path() / ("strata-sqlite-" + sdk::Uuid::generate().str());
            auto host = std::shared_ptr<Host>(
                test::open_host("[storage]\nplugin = \"sqlite\"\npath = \"" + (dir / "strata.db").string() + "\"\n"));
            auto storage = host->storage();
            return std::shared_ptr<sdk::Storage>(storage.get(), [storage, host, dir](sdk::Storage*) mutable {
              storage.reset();
              host.reset();
              std::filesystem::remove_all(dir);
            });
          },
          true,
          true,
          true,
          true,
          true};  // seed_adoption: keys rewrap and adopt run in batches here too
}

}  // namespace

STRATA_STORAGE_CONFORMANCE("sqlite", sqlite_target())
