// Must not compile: a storage provider that implements one required method
// of the 23. The test (tests/CMakeLists.txt) checks that the compiler's first
// error says where the list of required methods is, not only that the class
// is "not constructible from const PluginContext&".

#include <strata/sdk/plugin.hpp>

namespace {

struct IncompleteStorage : strata::sdk::Storage {
  explicit IncompleteStorage(const strata::sdk::PluginContext&) {}
  static strata::sdk::ConfigSchema config_schema() { return {}; }
  strata::sdk::Result<void> health() override { return {}; }
};

}  // namespace

STRATA_PLUGIN("incomplete", "0.0.0", "a storage missing required methods",
              strata::sdk::provide<IncompleteStorage>())
