#pragma once
// The PostgreSQL plugin's configuration: schema, parsed values, libpq keywords.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "strata/sdk/config.hpp"
#include "strata/sdk/database_info.hpp"

namespace strata::postgres {

/// Everything the storage needs to reach and use its database.
struct Settings {
  /// libpq connection keywords and values (host, port, ..., or dbname=<conninfo> to expand).
  std::vector<std::pair<std::string, std::string>> keywords;
  bool expand_conninfo = false;          // keywords hold a conninfo string to expand
  std::string display;                   // "host:port/dbname" for messages (no password)
  int pool_max = 20;
  std::chrono::milliseconds idle_timeout{30'000};
  std::chrono::milliseconds connect_timeout{2'000};
  std::chrono::milliseconds statement_timeout{0};  // 0: none
  std::chrono::milliseconds command_timeout{0};    // 0: wait as long as the server takes
  std::optional<std::string> cleanup_schedule;     // pg_cron schedule for cleanup_old_messages()
  std::vector<std::string> replicas;               // standbys' conninfos reads may go to
  std::chrono::milliseconds replica_retry{5000};   // a failed replica is probed again after this
  std::int64_t purge_batch = 1000;                 // rows per purge transaction
  std::chrono::milliseconds purge_pause{10};       // between purge batches
  std::string pg_dump = "pg_dump";                 // backup tool: a name looked up in PATH, or a path
  std::string pg_restore = "pg_restore";
};

/// The keys this plugin accepts, with the seed's DB_* variables as fallbacks.
sdk::ConfigSchema settings_schema();

/// Reads validated config; throws sdk::Error for values out of range.
Settings read_settings(const sdk::ConfigView& config);

/// The database the keywords name, for the host's call metrics: its name,
/// and the first host and port of a multi-host conninfo (never the password).
sdk::DatabaseInfo database_info(const Settings& settings);

}  // namespace strata::postgres
