// The audit and cache conformance kits, unchanged, on the mongodb plugin
// against a MongoDB wire-protocol server (FerretDB in the suite).

#include <strata/sdk/testing/conformance.hpp>

#include "mongo_db.hpp"
#include "test_host.hpp"

namespace {

using namespace strata;

// Keeps the host and the database alive as long as the instance.
template <class Role>
std::shared_ptr<Role> holding(std::shared_ptr<Role> role, std::shared_ptr<Host> host,
                              std::shared_ptr<test::TempMongoDatabase> db) {
  return std::shared_ptr<Role>(role.get(), [role, host, db](Role*) mutable {
    role.reset();
    host.reset();
    db.reset();
  });
}

sdk::testing::AuditTarget mongodb_audit() {
  test::require_mongodb();
  return {[] {
    auto db = std::make_shared<test::TempMongoDatabase>();
    auto host = std::shared_ptr<Host>(test::open_host(db->table("[audit]")));
    return holding(host->audit(), host, db);
  }};
}

sdk::testing::CacheTarget mongodb_cache() {
  test::require_mongodb();
  // Each fresh() is a database of its own; its sibling is another collection of that database.
  struct Latest {
    std::shared_ptr<test::TempMongoDatabase> db;
    std::shared_ptr<Host> host;
  };
  auto latest = std::make_shared<Latest>();
  sdk::testing::CacheTarget target;
  target.fresh = [latest] {
    latest->db = std::make_shared<test::TempMongoDatabase>();
    latest->host = std::shared_ptr<Host>(test::open_host(
        latest->db->table("[cache.default]") + latest->db->table("[cache.other]", "collection = \"caches_other\"\n")));
    return holding(latest->host->cache("default"), latest->host, latest->db);
  };
  target.sibling = [latest] { return holding(latest->host->cache("other"), latest->host, latest->db); };
  target.default_ttl = std::chrono::seconds(3600);
  // FerretDB 1.24 (the suite's server) loses concurrent $inc updates of one
  // document (4 clients x 250 increments end at ~250); MongoDB does not. The
  // plugin relies on the server's atomic $inc, so this is the server's
  // capability, declared here rather than papered over in the plugin.
  target.atomic_increment = false;
  target.publish_subscribe = false;  // the mongodb cache has no publish/listen
  return target;
}

}  // namespace

STRATA_AUDIT_CONFORMANCE("mongodb", mongodb_audit())
STRATA_CACHE_CONFORMANCE("mongodb", mongodb_cache())
