#pragma once
// The memory plugin's config keys (only the cache has any).

#include "strata/sdk/config.hpp"

namespace strata::memory {

/// The keys the plugin's README lists, with their types, defaults and docs.
sdk::ConfigSchema cache_schema();

}  // namespace strata::memory
