#pragma once
// Config tables the host parses for the code that reads them. The host reads
// [host], the role tables and its own [metrics] and [tracing]; every other
// table (the services' [users], [sessions], ... and their keys inside
// [audit]) is registered here, with its schema, by the code that owns it.
// The host parses, validates, checks and renders a registered table like its
// own without knowing what it means, and Host::table(name) hands the values
// in effect back to the owner.

// STRATA_API here: exported for the project's own tests; not installed.
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>
#include "strata/export.hpp"

#include "strata/sdk/config.hpp"
#include "strata/sdk/error.hpp"

namespace strata {

class Host;

struct ConfigTable {
  /// "users": the table [users]. A role's name ("audit"): keys that sit in
  /// that role's table beside the plugin's own.
  std::string name;
  sdk::ConfigSchema schema;
  /// What the schema cannot check (ranges, one-of values), when a host opens
  /// and before its plugins start: throws sdk::Error naming the key. Unset: nothing.
  std::function<void(const sdk::ConfigView& values)> check;
  /// The values in effect once the plugins have started: relative paths
  /// resolved against `base_dir`, and the defaults only the owner can work
  /// out (the audit spool's file, named after the sink) filled in. They are
  /// what Host::table() returns and `strata config` shows. Unset: as validated.
  std::function<sdk::Result<sdk::ConfigView>(const Host& host, const sdk::ConfigView& values,
                                             const std::filesystem::path& base_dir)>
      complete;
};

/// Adds a table, before any host opens: owners call it from a static
/// initializer (ConfigTableRegistration). A name registered twice is a
/// programming error, reported by throwing std::logic_error.
STRATA_API void register_config_table(ConfigTable table);

/// Every registered table, in the order registered.
STRATA_API const std::vector<ConfigTable>& registered_config_tables();

/// The registered table `name`, or null.
STRATA_API const ConfigTable* find_config_table(std::string_view name);

/// Registers a table when the library holding it is loaded:
/// `const ConfigTableRegistration users{{"users", schema, check, {}}};`
struct ConfigTableRegistration {
  explicit ConfigTableRegistration(ConfigTable table) { register_config_table(std::move(table)); }
};

}  // namespace strata
