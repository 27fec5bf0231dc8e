// libstrata-kit_breaker.so: the memory plugin with two deliberate defects,
// for the test that the conformance kits catch them (tests/kit/): an audit
// sink that hands back every event's metadata as {}, and a cache that answers
// `unsupported` to backup() although its instantiation declares the capability.

#include "memory_audit.hpp"
#include "memory_cache.hpp"

namespace strata::test {

class ForgetfulAudit : public memory::MemoryAudit {
 public:
  using MemoryAudit::MemoryAudit;
  sdk::Result<std::vector<sdk::AuditEvent>> query(const sdk::AuditQuery& query) override {
    auto events = MemoryAudit::query(query);
    if (events)
      for (auto& e : *events) e.metadata = "{}";
    return events;
  }
};

class NoBackupCache : public memory::MemoryCache {
 public:
  using MemoryCache::MemoryCache;
  sdk::Result<sdk::BackupReport> backup(const std::filesystem::path&) override {
    return sdk::fail(sdk::ErrorCode::unsupported, "no backup here");
  }
};

}  // namespace strata::test

STRATA_PLUGIN("kit_breaker", "1.0.0", "The memory plugin with two defects the conformance kits must catch",
              strata::sdk::provide<strata::test::ForgetfulAudit>(), strata::sdk::provide<strata::test::NoBackupCache>())
