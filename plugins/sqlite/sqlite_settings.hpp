#pragma once
// The sqlite plugin's config keys.

#include "strata/sdk/config.hpp"

namespace strata::sqlite {

/// The keys the plugin's README lists, with their types, defaults and docs.
sdk::ConfigSchema storage_schema();

}  // namespace strata::sqlite
