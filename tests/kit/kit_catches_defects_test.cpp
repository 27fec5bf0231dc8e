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

// The documented way for a target to refuse its config: fresh() throws sdk::Error.
sdk::testing::AuditTarget refused_audit() {
  return {[]() -> std::shared_ptr<sdk::Audit> {
    throw sdk::Error{sdk::ErrorCode::invalid_argument, "kit_breaker: this config is refused", {}, false};
  }};
}

sdk::testing::CacheTarget no_backup_cache() {
  sdk::testing::CacheTarget target;
  target.fresh = [] { return breaker_host("[cache.default]\nplugin = \"kit_breaker\"\n")->cache(); };
  target.default_ttl = std::chrono::seconds(3600);
  target.backup = true;  // declared, and not kept
  target.publish_subscribe = false;
  return target;
}

// A cache that declares a value limit to the kit and does not keep it: the
// memory plugin, configured without one, stores the larger value.
sdk::testing::CacheTarget unkept_value_limit() {
  sdk::testing::CacheTarget target;
  target.fresh = [] { return test::open_host("[cache.default]\nplugin = \"memory\"\n")->cache(); };
  target.default_ttl = std::chrono::seconds(3600);
  target.max_value_bytes = 65536;  // declared, and not kept
  return target;
}

}  // namespace

STRATA_AUDIT_CONFORMANCE("kit_breaker: metadata handed back as {}", forgetful_audit())
STRATA_CACHE_CONFORMANCE("kit_breaker: a declared value limit not kept", unkept_value_limit())
STRATA_CACHE_CONFORMANCE("kit_breaker: backup declared, answered unsupported", no_backup_cache())
STRATA_AUDIT_CONFORMANCE("kit_breaker: fresh() refuses its config", refused_audit())

// The kit's own diagnostics (each of these must fail, saying what
// tests/CMakeLists.txt expects): codes by name, the asking line, the hint.
TEST_CASE("kit diagnostics: error codes print by name", "[kit_diagnostics]") {
  sdk::Result<void> refused = sdk::fail(sdk::ErrorCode::not_found, "kit_breaker: nothing here");
  sdk::testing::detail::expect_error(refused, sdk::ErrorCode::unsupported);
}

TEST_CASE("kit diagnostics: an unsupported answer names the capability flags, at the asking line",
          "[kit_diagnostics]") {
  sdk::Result<int> answer = sdk::fail(sdk::ErrorCode::unsupported, "kit_breaker: no outbox here");
  sdk::testing::detail::expect_ok(std::move(answer));  // the line the failure must name
}
