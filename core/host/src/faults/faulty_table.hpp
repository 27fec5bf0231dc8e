#pragma once
// `plugin = "faulty"` in a role table: its own keys (wraps, seed, faults)
// read into a FaultControl, and the `wrapped` sub-table turned into the
// role table of the plugin it wraps, which the host then loads as usual.

#include <filesystem>
#include <memory>
#include <string>
#include <variant>

#include "config.hpp"
#include "strata/faults.hpp"
#include "strata/sdk/sdk.hpp"

namespace strata::detail {

/// A role instance as the host holds it.
using PluginObject = std::variant<std::shared_ptr<sdk::Storage>, std::shared_ptr<sdk::Cache>,
                                  std::shared_ptr<sdk::Audit>, std::shared_ptr<sdk::Cipher>>;

struct FaultyTable {
  std::string plugin;                     ///< `wraps`
  RoleTable wrapped;                      ///< the wrapped plugin's table (`plugin` = wraps)
  std::shared_ptr<FaultControl> control;  ///< the rules, seeded
};

/// Reads a `plugin = "faulty"` table; errors name the table, the rule and the key.
sdk::Result<FaultyTable> read_faulty_table(const RoleTable& table, const std::filesystem::path& base_dir,
                                           const EnvLookup& env);

/// `object` behind a decorator that injects what `control` says. `abi_minor`
/// is the wrapped plugin's: a method newer than it is never called.
PluginObject wrap_faulty(PluginObject object, const std::shared_ptr<FaultControl>& control, const std::string& plugin,
                         std::uint32_t abi_minor);

}  // namespace strata::detail
