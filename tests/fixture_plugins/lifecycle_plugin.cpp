// libstrata-lifecycle.so: a well-formed plugin whose cache logs start and stop.
#include "test_cache.hpp"

STRATA_PLUGIN("lifecycle", "0.0.1", "test plugin: logs start and stop",
              strata::sdk::provide<strata::test::TestCache>())
