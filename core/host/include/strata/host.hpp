#pragma once
// strata::Host: opens a config, loads the plugins it names, and hands out
// typed role instances. What an embedding application starts from.

#include "strata/export.hpp"
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "strata/env.hpp"
#include "strata/faults.hpp"
#include "strata/host_settings.hpp"
#include "strata/metrics.hpp"
#include "strata/sdk/sdk.hpp"
#include "strata/tracing.hpp"

namespace strata {

struct HostConfig;  // the parsed file (internal)
class Tracer;       // the host's tracer (internal; the services use it)

/// How a host is opened; every field has a sensible default.
struct HostOptions {
  std::shared_ptr<const sdk::Clock> clock;          ///< default: the system clock
  sdk::Logger log;                                  ///< default: warnings and errors to stderr
  EnvLookup env;                                    ///< default: the process environment
  std::vector<std::filesystem::path> plugin_path;   ///< searched before [host].plugin_path
  /// Time and count every plugin call in metrics() (a few tens of nanoseconds a call).
  bool instrument = true;
  /// Called with every finished span (services calls, plugin calls), on the
  /// thread that ran it; with or without [tracing] otlp_endpoint. Tracing is
  /// on when either is set. Needs `instrument`.
  SpanCallback on_span;
};

/// One running role instance.
struct InstanceInfo {
  sdk::Role role = sdk::Role::storage;
  std::string instance;        ///< "default", or a cache instance name
  std::string plugin;          ///< plugin name
  std::string version;         ///< plugin version
  std::string description;     ///< plugin description
  std::uint32_t abi_major = 0;
  std::uint32_t abi_minor = 0;
  std::filesystem::path path;  ///< library file
};

/// The outcome of one instance's health check.
struct HealthReport {
  InstanceInfo instance;
  sdk::Result<void> status;
  std::chrono::microseconds latency{0};
};

/// A running set of plugin instances. Instances start in the order cipher,
/// storage, caches, audit, and stop in reverse when the host is destroyed;
/// plugin libraries stay loaded while the host or any instance lives.
class STRATA_API Host {
 public:
  /// Opens a config file.
  static sdk::Result<std::unique_ptr<Host>> open_file(const std::filesystem::path& path,
                                                      HostOptions options = {});
  /// Opens config text; `source` names it in messages, `base_dir` resolves relative paths.
  static sdk::Result<std::unique_ptr<Host>> open_string(std::string_view toml,
                                                        HostOptions options = {},
                                                        std::string source = "<string>",
                                                        std::filesystem::path base_dir = {});
  /// Opens the built-in default config (config/embedded.toml, compiled in):
  /// SQLite storage, memory caches, file audit and AES-256-GCM, all in the
  /// data directory (STRATA_DATA_DIR, else ~/.local/share/strata). No server needed.
  static sdk::Result<std::unique_ptr<Host>> open_embedded(HostOptions options = {});
  ~Host();
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  /// The storage instance, or nullptr when the config has no [storage].
  std::shared_ptr<sdk::Storage> storage() const;
  /// A cache instance by name, or nullptr.
  std::shared_ptr<sdk::Cache> cache(std::string_view instance = "default") const;
  /// The audit instance, or nullptr.
  std::shared_ptr<sdk::Audit> audit() const;
  /// The cipher instance, or nullptr.
  std::shared_ptr<sdk::Cipher> cipher() const;

  /// Every running instance, in start order.
  std::vector<InstanceInfo> instances() const;
  /// Runs every instance's health check.
  std::vector<HealthReport> check() const;
  /// The effective configuration as TOML, secrets redacted.
  std::string effective_config() const;
  /// The plugin search directories, in order.
  const std::vector<std::filesystem::path>& plugin_search_path() const;

  /// The host's own settings ([metrics], [tracing]) and the data directory.
  const HostSettings& settings() const;
  /// The values in effect of a settings table that is not the host's own
  /// (the services' [users], their keys in [audit], ...), defaults filled:
  /// read by the code that registered it (config_tables.hpp); empty for a
  /// name nobody registered.
  const sdk::ConfigView& table(std::string_view name) const;
  /// An instance's validated config without its secrets (empty for no such
  /// instance): what may be shown, hashed or compared.
  sdk::ConfigView public_config(sdk::Role role, std::string_view instance = "default") const;
  /// The environment the host was opened with (HostOptions::env).
  const EnvLookup& env() const;
  /// Plugin-call metrics, and the services' counters.
  const std::shared_ptr<Metrics>& metrics() const;
  /// Where metrics() is served for Prometheus ([metrics] listen), as
  /// "host:port" with the port bound; nullopt when not served (the default).
  std::optional<std::string> metrics_address() const;
  /// The fault rules of a `plugin = "faulty"` instance (strata/faults.hpp),
  /// to change while the host runs; null for any other instance.
  std::shared_ptr<FaultControl> faults(sdk::Role role, std::string_view instance = "default") const;
  /// The tracer, when tracing is on ([tracing] otlp_endpoint, HostOptions::on_span); null otherwise.
  const std::shared_ptr<Tracer>& tracer() const;
  /// The clock every plugin and service uses.
  const std::shared_ptr<const sdk::Clock>& clock() const;
  /// The host's logger.
  const sdk::Logger& log() const;

 private:
  struct State;
  explicit Host(std::unique_ptr<State> state);
  static sdk::Result<std::unique_ptr<Host>> open(sdk::Result<HostConfig> config, HostOptions options);

  std::unique_ptr<State> state_;
};

}  // namespace strata
