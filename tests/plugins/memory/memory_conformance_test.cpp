// The conformance kit on the memory plugin, loaded through the host.

#include <strata/sdk/testing/conformance.hpp>

#include "test_host.hpp"

namespace {

using namespace strata;
using sdk::testing::AuditTarget;
using sdk::testing::CacheTarget;
using sdk::testing::StorageTarget;

StorageTarget memory_storage() {
  return StorageTarget{[] { return test::open_host("[storage]\nplugin = \"memory\"\n")->storage(); }, true};
}

CacheTarget memory_cache(std::int64_t default_ttl_s) {
  auto clock = std::make_shared<sdk::ManualClock>();
  auto toml = "[cache.default]\nplugin = \"memory\"\ndefault_ttl_s = " + std::to_string(default_ttl_s) +
              "\n[cache.other]\nplugin = \"memory\"\n";
  // Each fresh() is a new host; its sibling comes from the same host, as in
  // production: clearing one instance must not touch the other.
  auto host = std::make_shared<std::shared_ptr<Host>>();
  CacheTarget target;
  target.fresh = [host, toml, clock] {
    *host = test::open_host(toml, HostOptions{clock, {}, {}, {}});
    return (*host)->cache("default");
  };
  target.sibling = [host] { return (*host)->cache("other"); };
  if (default_ttl_s > 0) target.default_ttl = std::chrono::seconds(default_ttl_s);
  target.advance_clock = [clock](sdk::Ttl d) { clock->advance(d); };
  return target;
}

AuditTarget memory_audit() {
  return AuditTarget{[] { return test::open_host("[audit]\nplugin = \"memory\"\n")->audit(); }};
}

}  // namespace

STRATA_STORAGE_CONFORMANCE("memory", memory_storage())
STRATA_CACHE_CONFORMANCE("memory", memory_cache(3600))
STRATA_CACHE_CONFORMANCE("memory without default TTL", memory_cache(0))
STRATA_AUDIT_CONFORMANCE("memory", memory_audit())
