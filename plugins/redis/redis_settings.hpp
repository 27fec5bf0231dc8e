#pragma once
// The Redis plugin's configuration: schema and parsed values.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "strata/sdk/config.hpp"
#include "strata/sdk/retry.hpp"

namespace strata::redis {

/// A server's address.
struct Endpoint {
  std::string host;
  int port = 0;
  std::string str() const { return host + ":" + std::to_string(port); }
  bool operator==(const Endpoint&) const = default;
};

/// Everything a cache instance needs to reach its Redis database.
struct Settings {
  std::string host;
  int port = 6379;
  std::optional<std::string> username;  // Redis 6 ACL user; absent: the default user
  std::optional<std::string> password;
  int db = 0;
  std::optional<std::chrono::seconds> default_ttl;  // empty: values without a TTL never expire
  std::string key_prefix;
  bool owns_db = false;
  int pool_size = 8;
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds command_timeout{2000};
  sdk::RetryPolicy retry;  ///< retry.max_attempts; the seed's delay min(n * 50, 2000) ms
  // Sentinel mode: the primary of `master_name` is asked of these
  // ("host:port" each); host and port above are then not used.
  std::vector<std::pair<std::string, int>> sentinels;
  std::string master_name;
  std::optional<std::string> sentinel_password;
  int min_replicas_acked = 0;  // writes wait (WAIT) until this many replicas have them
  // Cluster mode: the slot map is asked of these seeds (then of the nodes it names).
  std::vector<Endpoint> cluster;
  // Cluster mode: a node's circuit opens after this many failures in a row
  // and lets one trial call through every breaker_open.
  int breaker_failures = 3;
  std::chrono::milliseconds breaker_open{1000};
  // Single-command calls made at the same time share a round trip
  // (redis_auto_pipeline.hpp).
  bool auto_pipeline = false;

  bool sentinel_mode() const noexcept { return !sentinels.empty(); }
  bool cluster_mode() const noexcept { return !cluster.empty(); }

  /// "127.0.0.1:6379/2" (or "sentinel master 'mymaster'/2", "cluster 10.0.0.1:7000,…"), for messages.
  std::string address() const;
};

/// The keys this plugin accepts, with the seed's environment variables as fallbacks.
sdk::ConfigSchema settings_schema();

/// Reads validated config; throws sdk::Error for values out of range.
Settings read_settings(const sdk::ConfigView& config);

/// The most commands one auto-pipelined batch carries; callers beyond wait for the next.
inline constexpr std::size_t auto_pipeline_max_batch = 256;

}  // namespace strata::redis
