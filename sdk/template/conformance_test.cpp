// Runs the SDK's cache conformance kit on ExampleCache, with a clock the kit can move.
// (Catch2's main comes from CMakeLists.txt: Catch2WithMain on v3, CATCH_CONFIG_MAIN on v2.)
#include <strata/sdk/testing/cache_kit.hpp>

#include "example_cache.hpp"

namespace {

strata::sdk::testing::CacheTarget example_target() {
  auto clock = std::make_shared<strata::sdk::ManualClock>();
  strata::sdk::testing::CacheTarget target;
  target.fresh = [clock] {
    strata::sdk::PluginContext context;
    context.plugin = "example_cache";
    context.instance = "default";
    context.role = strata::sdk::Role::cache;
    context.config = strata::sdk::ConfigView({{"default_ttl_s", std::int64_t{3600}}});
    context.clock = clock;
    return std::make_shared<example::ExampleCache>(context);
  };
  target.default_ttl = std::chrono::seconds(3600);
  target.advance_clock = [clock](strata::sdk::Ttl d) { clock->advance(d); };
  target.backup = false;  // ExampleCache keeps nothing worth backing up
  target.publish_subscribe = false;  // nor does it carry messages between processes
  return target;
}

}  // namespace

STRATA_CACHE_CONFORMANCE("example_cache", example_target())
