// The cache conformance kit on the redis plugin against a real Redis 7 on
// the test server (127.0.0.1:redis_port()), for the seed's two instances: sessions in db 1, cache in db 2.

#include <strata/sdk/testing/cache_kit.hpp>

#include "backends.hpp"
#include "test_host.hpp"

namespace {

using namespace strata;

// Each run gets its own key prefix, so runs never see each other's keys.
std::string redis_table(const std::string& instance, int db, const std::string& prefix, bool owns_db = false,
                        const std::string& extra = "") {
  return "[cache." + instance + "]\nplugin = \"redis\"\nhost = \"127.0.0.1\"\nport = " + std::to_string(test::redis_port()) + "\ndb = " + std::to_string(db) +
         "\nkey_prefix = \"" + prefix + "\"\nowns_db = " + (owns_db ? "true" : "false") + "\n" + extra;
}

// Each fresh() is a new host with a key prefix of its own; its sibling shares the db under another prefix.
sdk::testing::CacheTarget redis_target(int db, const std::string& extra = "") {
  test::require_redis();
  auto host = std::make_shared<std::shared_ptr<Host>>();
  sdk::testing::CacheTarget target;
  target.fresh = [host, db, extra] {
    std::string run = "strata-test:" + sdk::Uuid::generate().str();
    *host = test::open_host(redis_table("default", db, run + ":main:", false, extra) +
                            redis_table("other", db, run + ":sibling:", false, extra));
    return (*host)->cache("default");
  };
  target.sibling = [host] { return (*host)->cache("other"); };
  target.default_ttl = std::chrono::seconds(3600);
  return target;
}

sdk::testing::CacheTarget redis_owning_db_target() {
  test::require_redis();
  // db 9 is the test suite's scratch db: an instance that owns its db may FLUSHDB it.
  // The instance is its whole db: fresh() hands it back emptied.
  auto host = std::shared_ptr<Host>(test::open_host(redis_table("default", 9, "", true)));
  sdk::testing::CacheTarget target;
  target.fresh = [host] {
    if (!host->cache()->clear()) FAIL("cannot clear Redis db 9");
    return host->cache("default");
  };
  target.default_ttl = std::chrono::seconds(3600);
  return target;
}

}  // namespace

STRATA_CACHE_CONFORMANCE("redis session (db 1)", redis_target(1))
STRATA_CACHE_CONFORMANCE("redis default (db 2)", redis_target(2))
STRATA_CACHE_CONFORMANCE("redis default (db 2), auto-pipelined", redis_target(2, "auto_pipeline = true\n"))
STRATA_CACHE_CONFORMANCE("redis owning its db (FLUSHDB)", redis_owning_db_target())
