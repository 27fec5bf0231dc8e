#pragma once
// The connection keys both roles accept (uri, database, timeouts, write concern).

#include <chrono>
#include <string>

#include "strata/sdk/sdk.hpp"

namespace strata::mongodb {

/// Connection settings common to both roles.
struct Settings {
  std::string uri;
  std::string database;
  std::chrono::milliseconds server_selection_timeout{2000};
  std::chrono::milliseconds socket_timeout{5000};
  std::string write_w = "1";  // "majority" or a number
  bool journal = true;
};

/// The keys both roles accept; each role adds its own (collections, TTLs).
sdk::ConfigSchema connection_schema();
Settings read_connection(const sdk::ConfigView& config);

}  // namespace strata::mongodb
