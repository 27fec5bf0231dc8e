#pragma once
// Settings of the host itself, read from its own config tables: [metrics]
// and [tracing]. The services' settings are theirs (strata/settings.hpp).
// Every key has a default; unknown keys and wrong types are errors like any
// other config error.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include "strata/export.hpp"

#include "strata/env.hpp"
#include "strata/sdk/error.hpp"

namespace strata {

/// [metrics]: the scrape endpoint (off unless `listen` is set).
struct MetricsSettings {
  std::optional<std::string> listen;  ///< "host:port" the host serves /metrics on
};

/// [tracing]: spans exported over OTLP/HTTP (off unless `otlp_endpoint` is set).
struct TracingSettings {
  std::optional<std::string> otlp_endpoint;  ///< e.g. "http://127.0.0.1:4318/v1/traces", used as given
  std::string service_name = "strata";       ///< the resource's service.name
  double sample_ratio = 1.0;                 ///< share of new traces recorded (a caller's sampled flag wins)
  std::size_t queue_size = 2048;  ///< spans waiting for export at most; more are dropped and counted
  std::size_t batch_size = 512;   ///< spans per export request at most
  std::chrono::milliseconds flush_interval{1000};  ///< longest wait before a partial batch is sent
  std::chrono::milliseconds export_timeout{2000};  ///< one export request, connect included
};

/// The host's own settings.
struct HostSettings {
  MetricsSettings metrics;
  TracingSettings tracing;
  /// The data directory ($STRATA_DATA_DIR, $XDG_DATA_HOME/strata,
  /// ~/.local/share/strata) when the environment names one; empty otherwise.
  std::filesystem::path data_dir;
};

/// The default data directory ($STRATA_DATA_DIR, $XDG_DATA_HOME/strata, ~/.local/share/strata).
/// None of them set is an error naming them: Strata never falls back to the
/// working directory.
STRATA_API sdk::Result<std::filesystem::path> default_data_dir(const EnvLookup& env);

}  // namespace strata
