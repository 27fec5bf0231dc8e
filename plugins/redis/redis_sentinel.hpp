#pragma once
// Sentinel mode: where the primary is. The sentinels are asked
// (`SENTINEL get-master-addr-by-name`) in turn, the first answer is kept
// until a connection to it fails or it turns out to be a replica (a
// failover happened), and then asked again. Each new connection checks
// `ROLE` before use, as the Sentinel client guidelines say: a sentinel's
// answer can be a moment stale.

#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "redis_connection.hpp"

namespace strata::redis {

class PrimaryLocator {
 public:
  explicit PrimaryLocator(const Settings& settings) : settings_(settings) {}

  /// The primary's address: cached, else asked of the sentinels.
  sdk::Result<Endpoint> primary();
  /// Forgets the cached address (a connection to it failed or met a replica).
  void invalidate();
  /// Opens a connection to the primary and checks its ROLE is master.
  sdk::Result<std::unique_ptr<Connection>> connect();
  /// How many of the sentinels answer, and which primary they name, for `strata check`.
  std::pair<int, std::optional<Endpoint>> survey();

 private:
  sdk::Result<Endpoint> ask(const std::pair<std::string, int>& sentinel);

  const Settings& settings_;
  std::mutex mutex_;
  std::optional<Endpoint> cached_;
};

}  // namespace strata::redis
