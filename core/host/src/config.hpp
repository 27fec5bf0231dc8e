#pragma once
// The host's configuration file: parsing (toml++), interpolation, secret
// references, and validation of each role table against its provider's
// schema. Internal to the host: applications pass a file or a string to
// Host::open_file / open_string and never see these types.

// STRATA_API on an internal function: exported for the project's own unit
// tests and fuzz targets; not in the installed headers.
#include "strata/export.hpp"
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "strata/env.hpp"
#include "strata/sdk/config.hpp"
#include "strata/sdk/error.hpp"
#include "strata/sdk/plugin.hpp"

namespace strata {

/// A place in a config file, printed as "file:line:column".
struct SourcePos {
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::string str() const;
};

struct ConfigEntry;

/// A parsed TOML value with its position. Strings are already interpolated.
struct ConfigNode {
  using Array = std::vector<ConfigNode>;
  // A named entry rather than std::pair: a pair of the node inside the node
  // asks whether the node is default-constructible while the node is still
  // being defined, which clang (the fuzz build) refuses.
  using Entries = std::vector<ConfigEntry>;
  std::variant<bool, std::int64_t, double, std::string, Array, Entries> value;
  SourcePos pos;              ///< where the value starts
  SourcePos key_pos;          ///< where its key is written (tables' entries only)
  bool interpolated = false;  ///< a string that contained ${...}: may be coerced to a number

  const Entries* table() const { return std::get_if<Entries>(&value); }
  const ConfigNode* find(std::string_view key) const;
};

/// A key of a table and its value (`first`, `second`, as a map's entries).
struct ConfigEntry {
  std::string first;
  ConfigNode second;
};

/// One role table: [storage], [cache.<instance>], [audit] or [cipher].
struct RoleTable {
  sdk::Role role = sdk::Role::storage;
  std::string instance;  ///< "default" except for named cache instances
  std::string plugin;    ///< the `plugin` key
  SourcePos pos;         ///< where the table starts
  ConfigNode node;       ///< the table, `plugin` included
  /// "[storage]" or "[cache.session]".
  std::string label() const;
};

/// The role whose one instance a top-level table of this name configures
/// ([storage], [audit], [cipher]); none for any other name, [cache] included
/// (its instances are [cache.<name>] tables).
std::optional<sdk::Role> single_instance_role(std::string_view table_name);

/// A table of settings rather than of a plugin: the host's own ([metrics],
/// [tracing]) or one registered by its owner (config_tables.hpp), such as
/// the services' [users] or their keys inside [audit].
struct SettingsTable {
  std::string name;   ///< "metrics", "users", ... or a role's name ("audit")
  std::string label;  ///< "[metrics]", ...
  ConfigNode node;    ///< the table (for a role's name: only the registered keys)
};

/// A parsed configuration file.
struct HostConfig {
  std::string source;                        ///< file name, or "<string>"
  std::filesystem::path base_dir;            ///< relative paths resolve here
  std::vector<std::filesystem::path> plugin_path;  ///< [host].plugin_path
  std::vector<RoleTable> roles;              ///< in start order: cipher, storage, caches, audit
  std::vector<SettingsTable> tables;         ///< settings tables, in file order
};

/// Parses TOML text. Errors name file:line:column: malformed TOML, unknown
/// tables or keys (with the nearest valid name), unset variables.
STRATA_API sdk::Result<HostConfig> parse_config(std::string_view text, std::string source,
                                     std::filesystem::path base_dir, const EnvLookup& env);

/// Reads and parses a file; an unreadable file is an error naming it.
sdk::Result<HostConfig> load_config_file(const std::filesystem::path& path, const EnvLookup& env);

/// A role table's values validated against a schema.
struct ValidatedConfig {
  sdk::ConfigView view;
  std::set<std::string> secret_keys;  ///< keys (e.g. "password", "keys[0].key") never to print
};

/// Checks every key of `table` against `schema`: unknown keys (with a
/// suggestion), types, required keys; fills env fallbacks and defaults;
/// resolves `{ env = "…" }` and `{ file = "…" }` secret references.
sdk::Result<ValidatedConfig> validate_role_config(const RoleTable& table,
                                                  const sdk::ConfigSchema& schema,
                                                  const std::filesystem::path& base_dir,
                                                  const EnvLookup& env);

/// Checks a settings table against a schema (as validate_role_config does
/// for plugins); `label` names it in messages.
sdk::Result<ValidatedConfig> validate_table(const ConfigNode& table, const sdk::ConfigSchema& schema,
                                            const std::string& label, const std::filesystem::path& base_dir,
                                            const EnvLookup& env);

/// Renders the effective configuration as TOML: `validated[i]` holds the
/// values of `config.roles[i]`; secrets are shown as "<redacted>".
/// `settings_tables` (table name, values) are rendered too; one named like a
/// role table ("audit") merges into it.
std::string render_config(const HostConfig& config, const std::vector<ValidatedConfig>& validated,
                          const std::vector<std::pair<std::string, sdk::ConfigView>>& settings_tables = {});

/// Replaces ${VAR}, ${VAR:-default} (the default may nest) and $$ in `text`.
/// An unset variable without a default is an error naming it.
STRATA_API sdk::Result<std::string> interpolate(std::string_view text, const EnvLookup& env);

/// "file:l:c: unknown key 'x' in [where]; did you mean 'y'?" (or the list of valid keys).
sdk::Unexpected unknown_key_error(const std::string& key, const SourcePos& pos, const std::string& where,
                                  const std::vector<std::string>& valid);

/// The candidate closest to `word` by edit distance, if close enough to be a likely typo.
std::optional<std::string> nearest_name(std::string_view word,
                                        const std::vector<std::string>& candidates);

}  // namespace strata
