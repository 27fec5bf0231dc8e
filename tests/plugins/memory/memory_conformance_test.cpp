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

// `max_value_bytes`: configured in the plugin and declared to the kit (0: neither).
CacheTarget memory_cache(std::int64_t default_ttl_s, std::size_t max_value_bytes = 0) {
  auto clock = std::make_shared<sdk::ManualClock>();
  auto toml = "[cache.default]\nplugin = \"memory\"\ndefault_ttl_s = " + std::to_string(default_ttl_s) +
              "\nmax_value_bytes = " + std::to_string(max_value_bytes) + "\n[cache.other]\nplugin = \"memory\"\n";
  // Each fresh() is a new host; its sibling comes from the same host, as in
  // production: clearing one instance must not touch the other.
  auto host = std::make_shared<std::shared_ptr<Host>>();
  CacheTarget target;
  target.fresh = [host, toml, clock] {
    HostOptions options;
    options.clock = clock;
    *host = test::open_host(toml, options);
    return (*host)->cache("default");
  };
  target.sibling = [host] { return (*host)->cache("other"); };
  if (default_ttl_s > 0) target.default_ttl = std::chrono::seconds(default_ttl_s);
  target.advance_clock = [clock](sdk::Ttl d) { clock->advance(d); };
  if (max_value_bytes > 0) target.max_value_bytes = max_value_bytes;
  return target;
}

// A storage that implements the required methods only (the memory plugin's,
// forwarded) and leaves every optional one at its `unsupported` default:
// what an out-of-tree plugin's first version looks like. The kit must pass
// it with every capability declared absent.
#define STRATA_FORWARD_(KIND, RETURN, NAME, PARAMETERS, ARGUMENTS) STRATA_FORWARD_##KIND(RETURN, NAME, PARAMETERS, ARGUMENTS)
#define STRATA_FORWARD_REQUIRED(RETURN, NAME, PARAMETERS, ARGUMENTS) \
  RETURN NAME PARAMETERS override { return inner_->NAME ARGUMENTS; }
#define STRATA_FORWARD_OPTIONAL_1_0(...)
#define STRATA_FORWARD_OPTIONAL_1_1(...)
#define STRATA_FORWARD_OPTIONAL_1_2(...)
#define STRATA_FORWARD_OPTIONAL_1_3(...)
#define STRATA_FORWARD_OPTIONAL_1_4(...)
#define STRATA_FORWARD_OPTIONAL_1_5(...)
#define STRATA_FORWARD_OPTIONAL_1_6(...)
#define STRATA_FORWARD_OPTIONAL_1_7(...)
#define STRATA_FORWARD_OPTIONAL_1_8(...)
#define STRATA_FORWARD_OPTIONAL_1_9(...)
#define STRATA_FORWARD_OPTIONAL_1_10(...)
#define STRATA_FORWARD_OPTIONAL_1_11(...)
#define STRATA_FORWARD_OPTIONAL_1_12(...)

class RequiredOnlyStorage final : public sdk::Storage {
 public:
  explicit RequiredOnlyStorage(std::shared_ptr<sdk::Storage> inner) : inner_(std::move(inner)) {}
  STRATA_SDK_STORAGE_METHODS(STRATA_FORWARD_)

 private:
  std::shared_ptr<sdk::Storage> inner_;
};

StorageTarget required_only_storage() {
  StorageTarget target;
  target.fresh = [] {
    return std::make_shared<RequiredOnlyStorage>(test::open_host("[storage]\nplugin = \"memory\"\n")->storage());
  };
  target.backup = false;
  target.key_rotation = false;
  target.outbox = false;
  target.count_expired = false;
  target.seed_adoption = false;
  target.checked_sends = false;
  target.session_revocations = false;
  target.inbox_sequence = false;
  target.data_keys = false;
  return target;
}

AuditTarget memory_audit() {
  return AuditTarget{[] { return test::open_host("[audit]\nplugin = \"memory\"\n")->audit(); }};
}

}  // namespace

STRATA_STORAGE_CONFORMANCE("memory", memory_storage())
STRATA_STORAGE_CONFORMANCE("required methods only, every capability declared absent", required_only_storage())
STRATA_CACHE_CONFORMANCE("memory", memory_cache(3600))
STRATA_CACHE_CONFORMANCE("memory without default TTL", memory_cache(0))
// As a memcached-like backend would declare its item size (1 MiB less its overhead).
STRATA_CACHE_CONFORMANCE("memory with a declared value limit of 1,000,000 bytes", memory_cache(3600, 1'000'000))

TEST_CASE("memory cache: a value limit below the kit's floor is refused at start, naming the key",
          "[memory][cache]") {
  auto error = test::open_error("[cache.default]\nplugin = \"memory\"\nmax_value_bytes = 1024\n");
  CHECK(error.code == sdk::ErrorCode::invalid_argument);
  CHECK(error.message.find("max_value_bytes must be 0 (no limit) or at least 65536, got 1024") != std::string::npos);
}
STRATA_AUDIT_CONFORMANCE("memory", memory_audit())
