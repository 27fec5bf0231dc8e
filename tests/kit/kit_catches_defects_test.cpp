// The conformance kits fail a plugin that breaks their contract: run on the
// kit_breaker test plugin, each of these test cases must FAIL, on the check
// named in tests/CMakeLists.txt (ctest passes them only when that check fails).

#include <strata/sdk/testing/conformance.hpp>

#include "test_host.hpp"

namespace {

using namespace strata;

std::shared_ptr<Host> breaker_host(const std::string& toml) {
  HostOptions options;
  options.plugin_path = {test::test_plugin_dir()};
  return test::open_host(toml, options);
}

sdk::testing::AuditTarget forgetful_audit() {
  return {[] { return breaker_host("[audit]\nplugin = \"kit_breaker\"\n")->audit(); }};
}

sdk::testing::CacheTarget no_backup_cache() {
  sdk::testing::CacheTarget target;
  target.fresh = [] { return breaker_host("[cache.default]\nplugin = \"kit_breaker\"\n")->cache(); };
  target.default_ttl = std::chrono::seconds(3600);
  target.backup = true;  // declared, and not kept
  return target;
}

}  // namespace

STRATA_AUDIT_CONFORMANCE("kit_breaker: metadata handed back as {}", forgetful_audit())
STRATA_CACHE_CONFORMANCE("kit_breaker: backup declared, answered unsupported", no_backup_cache())
