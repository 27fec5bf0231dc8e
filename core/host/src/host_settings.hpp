#pragma once
// The host's own config tables ([metrics], [tracing]) and its settings from them.

#include <functional>
#include <string_view>
#include <vector>

#include "config_tables.hpp"
#include "strata/host_settings.hpp"

namespace strata::detail {

/// [metrics] and [tracing], handled like registered tables but not in the registry.
const std::vector<ConfigTable>& host_own_tables();

/// The host's settings from its tables' validated values (`table(name)`);
/// the tables' checks have passed, so nothing is out of range.
HostSettings read_host_settings(const std::function<const sdk::ConfigView&(std::string_view)>& table);

/// One of the host's own tables or a registered one, or null.
const ConfigTable* find_table(std::string_view name);

}  // namespace strata::detail
