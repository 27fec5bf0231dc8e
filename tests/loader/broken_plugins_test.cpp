// Plugins built broken on purpose: each refused with its own message naming
// the file, and the host keeps working afterwards.

#include <set>

#include "test_host.hpp"

using namespace strata;

namespace {

sdk::Error load_error(const std::string& plugin) {
  HostOptions options;
  options.plugin_path = {test::test_plugin_dir()};
  return test::open_error("[cache.default]\nplugin = \"" + plugin + "\"\n", options);
}

}  // namespace

TEST_CASE("loader: every broken plugin is refused with its own message", "[loader]") {
  struct Case {
    std::string plugin;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"broken_no_entry", "has no strata_plugin_v1 entry point"},
      {"broken_abi_major", "(major versions differ)"},
      {"broken_abi_minor", "newer than this host's ABI"},
      {"broken_fingerprint", "build fingerprint 'gcc-4;libstdc++-cxx11abi-0;sdk-abi-1' does not match"},
      {"broken_unknown_role", "provider #1 declares unknown role 9"},
      {"broken_duplicate_role", "provides the cache role twice"},
      {"broken_undefined_symbol", "undefined symbol: strata_test_symbol_nobody_defines"},
      {"broken_missing_dependency", "libstrata-test-gone.so: cannot open shared object file"},
      {"broken_throws", "failed to start: broken_throws: unexpected exception: refusing to start, on purpose"},
  };
  std::set<std::string> messages;
  for (const auto& c : cases) {
    auto error = load_error(c.plugin);
    INFO(c.plugin << ": " << error.message);
    CHECK(error.message.find(c.message) != std::string::npos);
    CHECK(error.message.find("libstrata-" + c.plugin + ".so") != std::string::npos);  // names the file
    CHECK(error.message.find("[cache.default] at test.toml:1:1") == 0);
    messages.insert(error.message);
  }
  CHECK(messages.size() == cases.size());

  // After all that, loading works as before.
  auto host = test::open_host("[cache.default]\nplugin = \"memory\"\n");
  REQUIRE(host->cache()->set("k", sdk::as_bytes("v"), std::nullopt));
  CHECK(host->cache()->get("k").value() == sdk::to_bytes("v"));
}

TEST_CASE("loader: a file that calls itself by another name is refused", "[loader]") {
  auto dir = std::filesystem::temp_directory_path() / ("strata-impostor-" + sdk::Uuid::generate().str());
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(test::test_plugin_dir() / "libstrata-lifecycle.so", dir / "libstrata-impostor.so");
  HostOptions options;
  options.plugin_path = {dir};
  auto error = test::open_error("[cache.default]\nplugin = \"impostor\"\n", options);
  CHECK(error.message.find("it calls itself 'lifecycle', not 'impostor'") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("loader: a library is loaded once however many instances use it", "[loader]") {
  auto host = test::open_host("[storage]\nplugin = \"memory\"\n[cache.a]\nplugin = \"memory\"\n"
                              "[cache.b]\nplugin = \"memory\"\n[audit]\nplugin = \"memory\"\n");
  std::set<std::filesystem::path> paths;
  for (const auto& i : host->instances()) paths.insert(i.path);
  CHECK(paths.size() == 1);
}
