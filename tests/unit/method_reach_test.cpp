// Every method of every role, called through the host on a loaded plugin,
// reaches the plugin: the sentinel plugin answers each with an error naming
// the method, so a decorator or guard that answers on its own (an
// `unsupported` default, a wrong ABI gate) fails here. The calls are
// generated from the same tables as the guards and decorators.

#include <type_traits>

#include "test_host.hpp"

namespace strata::test {
namespace {

// Calls `method` on `role` with default-constructed arguments and returns the
// error message it answered (the sentinel's), or a note that it succeeded.
template <class Role, class R, class... A>
std::string answer(Role& role, R (Role::*method)(A...)) {
  auto result = (role.*method)(std::decay_t<A>{}...);
  if (result) return "succeeded without reaching the plugin";
  INFO(result.error().describe());
  CHECK(result.error().plugin == "sentinel");  // stamped by the plugin-side guard
  return result.error().message;
}

#define STRATA_REACHES_(KIND, RET, NAME, PARAMS, ARGS)                          \
  CHECK(answer(*role, &std::remove_cvref_t<decltype(*role)>::NAME) == "sentinel:" #NAME); \
  CHECK(host->metrics()->prometheus().find("operation=\"" #NAME "\"") != std::string::npos);

}  // namespace

TEST_CASE("host: every method of every role reaches the plugin, timed", "[host][methods]") {
  HostOptions options;
  options.plugin_path = {test_plugin_dir()};
  auto host = open_host("[storage]\nplugin = \"sentinel\"\n[cache.default]\nplugin = \"sentinel\"\n"
                        "[audit]\nplugin = \"sentinel\"\n[cipher]\nplugin = \"sentinel\"\n",
                        options);
  SECTION("storage") {
    auto role = host->storage();
    STRATA_SDK_STORAGE_METHODS(STRATA_REACHES_)
  }
  SECTION("cache") {
    auto role = host->cache();
    STRATA_SDK_CACHE_METHODS(STRATA_REACHES_)
  }
  SECTION("audit") {
    auto role = host->audit();
    STRATA_SDK_AUDIT_METHODS(STRATA_REACHES_)
  }
  SECTION("cipher") {
    auto role = host->cipher();
    STRATA_SDK_CIPHER_METHODS(STRATA_REACHES_)
  }
}

}  // namespace strata::test
