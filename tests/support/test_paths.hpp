#pragma once
// Paths from the build that tests need: the checkout, the test-only plugins,
// the built CLI and helper programs. They come from test_paths.cpp, which
// tests/CMakeLists.txt generates, not from -D flags: an absolute path on a
// compile line keys ccache's entry to one clone, so every test object was
// compiled again in each CI clone.

#include <string>

namespace strata::test::paths {

const std::string& source_dir();            ///< the checkout
std::string test_data_dir();                ///< tests/data in it
const std::string& test_plugin_dir();       ///< where the test-only plugins are built
const std::string& strata_cli();            ///< the built `strata`
const std::string& crash_sender();          ///< tests/services/crash_sender.cpp, built
const std::string& interop_node_modules();  ///< the seed's npm packages, installed into the build tree
const std::string& otel_collector();        ///< tests/tracing/otelcol, built by the otelcol_build fixture
const std::string& toxiproxy();             ///< toxiproxy's server, built by the toxiproxy_build fixture

}  // namespace strata::test::paths
