// The registry of config tables the host parses for their owners.

#include "config_tables.hpp"

#include <stdexcept>

namespace strata {
namespace {

// A function's static: ready whichever static initializer registers first.
std::vector<ConfigTable>& tables() {
  static std::vector<ConfigTable> registered;
  return registered;
}

}  // namespace

void register_config_table(ConfigTable table) {
  if (find_config_table(table.name))
    throw std::logic_error("config table [" + table.name + "] is registered twice");
  tables().push_back(std::move(table));
}

const std::vector<ConfigTable>& registered_config_tables() {
  return tables();
}

const ConfigTable* find_config_table(std::string_view name) {
  for (const auto& table : tables())
    if (table.name == name) return &table;
  return nullptr;
}

}  // namespace strata
