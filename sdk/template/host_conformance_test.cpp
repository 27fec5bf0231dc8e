// The cache kit again, on the built libstrata-example_cache.so loaded the way
// an application loads it: through the host (strata/host.hpp), from a TOML
// table that leaves default_ttl_s out, so the schema's default (3600 s) is
// what the kit checks. Catches what the direct test cannot: a schema default
// the constructor ignores, a missing export, a library that does not load.
#include <strata/host.hpp>
#include <strata/sdk/testing/cache_kit.hpp>

namespace {

strata::sdk::testing::CacheTarget hosted_target() {
  auto clock = std::make_shared<strata::sdk::ManualClock>();
  strata::sdk::testing::CacheTarget target;
  target.fresh = [clock]() -> std::shared_ptr<strata::sdk::Cache> {
    strata::HostOptions options;
    options.clock = clock;
    auto host = strata::Host::open_string("[cache.default]\nplugin = \"" EXAMPLE_CACHE_LIBRARY "\"\n", options);
    if (!host) throw host.error();  // the kit prints it: "sdk::Error: <message> (<code>)"
    std::shared_ptr<strata::Host> shared(std::move(*host));
    // The instance belongs to its host: the pointer keeps the host (and the library) alive.
    return std::shared_ptr<strata::sdk::Cache>(shared, shared->cache("default").get());
  };
  target.default_ttl = std::chrono::seconds(3600);  // the schema's default, not set above
  target.advance_clock = [clock](strata::sdk::Ttl d) { clock->advance(d); };
  target.backup = false;
  target.publish_subscribe = false;
  return target;
}

}  // namespace

STRATA_CACHE_CONFORMANCE("example_cache through the host", hosted_target())
