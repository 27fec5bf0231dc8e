// The plugin's one exported symbol: name, version, description, providers.
#include "example_cache.hpp"

STRATA_PLUGIN("example_cache", "0.1.0", "Example cache plugin built from sdk/template",
              strata::sdk::provide<example::ExampleCache>())
