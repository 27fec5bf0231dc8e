#pragma once
// The logging callback the host gives plugins.

#include <functional>
#include <string_view>

namespace strata::sdk {

/// Severity of a log line.
enum class LogLevel { debug, info, warning, error };

/// Where a plugin writes diagnostics (for example "cache down, serving misses").
/// The host decides where lines go; plugins never write to stderr themselves.
using Logger = std::function<void(LogLevel, std::string_view message)>;

}  // namespace strata::sdk
