#pragma once
// Where the host reads environment variables (config interpolation, the
// seed's variables, the data directory): an application may pass its own.

#include "strata/export.hpp"
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace strata {

/// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

/// The process environment (getenv).
STRATA_API EnvLookup process_env();

}  // namespace strata
