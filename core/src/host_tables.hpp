#pragma once
// The registry of host-level tables: the config tables the host's services
// read ([users], [sessions], [keys], [maintenance], and the audit pipeline's
// keys inside [audit]). One entry per table — name, schema, reader — used by
// the parser (which tables exist, which [audit] keys are the pipeline's), the
// validator and renderer (the schema), and the settings (the reader).
// Adding a table or a key means editing host_tables.cpp only.

#include <functional>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "strata/settings.hpp"

namespace strata::detail {

struct HostTable {
  std::string_view name;  ///< "users": the table [users]; "audit": keys inside the audit role's table
  sdk::ConfigSchema schema;
  /// Stores the validated values in `settings`; throws sdk::Error for a value out of range.
  std::function<void(const sdk::ConfigView& values, ServiceSettings& settings, const HostConfig& config,
                     const EnvLookup& env)>
      read;
};

/// Every host-level table, in the order the settings read them.
const std::vector<HostTable>& host_tables();

/// Whether `name` is a host-level table of its own (not "audit", whose keys
/// share the audit role's table).
bool is_host_table(std::string_view name);

/// Whether `key` of [audit] belongs to the host's audit pipeline rather than the plugin.
bool is_audit_pipeline_key(std::string_view key);

}  // namespace strata::detail

namespace strata {

/// Reads and validates the host-level tables of `config`. The spool path
/// defaults to $STRATA_DATA_DIR, else $XDG_DATA_HOME/strata, else
/// ~/.local/share/strata, as the embedded config's data directory.
sdk::Result<ServiceSettings> read_service_settings(const HostConfig& config, const EnvLookup& env);

}  // namespace strata::detail
