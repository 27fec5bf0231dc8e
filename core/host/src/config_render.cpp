// The effective configuration as TOML, secrets redacted (`strata config`).

#include <sstream>
#include <toml++/toml.h>

#include "config.hpp"

namespace strata {
namespace {

constexpr const char* redacted = "<redacted>";

// The table a dotted key ("pool.max") lives in, created as needed; `leaf` gets "max".
toml::table& table_for(toml::table& root, const std::string& dotted, std::string& leaf) {
  toml::table* current = &root;
  std::size_t start = 0;
  for (std::size_t dot; (dot = dotted.find('.', start)) != std::string::npos; start = dot + 1) {
    std::string part = dotted.substr(start, dot - start);
    if (!current->contains(part)) current->insert(part, toml::table{});
    current = (*current)[part].as_table();
  }
  leaf = dotted.substr(start);
  return *current;
}

void add_view(toml::table& out, const sdk::ConfigView& view, const std::set<std::string>& secrets,
              const std::string& path) {
  for (const auto& [key, value] : view.entries()) {
    std::string leaf;
    toml::table& target = table_for(out, key, leaf);
    if (secrets.count(path + key)) {
      target.insert_or_assign(leaf, redacted);
      continue;
    }
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::vector<std::string>>) {
            toml::array items;
            for (const auto& s : v) items.push_back(s);
            target.insert_or_assign(leaf, std::move(items));
          } else if constexpr (std::is_same_v<T, std::vector<sdk::ConfigView>>) {
            toml::array items;
            for (std::size_t i = 0; i < v.size(); ++i) {
              toml::table item;
              add_view(item, v[i], secrets, path + key + "[" + std::to_string(i) + "].");
              items.push_back(std::move(item));
            }
            target.insert_or_assign(leaf, std::move(items));
          } else {
            target.insert_or_assign(leaf, v);
          }
        },
        value.value);
  }
}

}  // namespace

std::string render_config(const HostConfig& config, const std::vector<ValidatedConfig>& validated,
                          const std::vector<std::pair<std::string, sdk::ConfigView>>& settings_tables) {
  toml::table root;
  if (!config.plugin_path.empty()) {
    toml::array dirs;
    for (const auto& dir : config.plugin_path) dirs.push_back(dir.string());
    root.insert("host", toml::table{{"plugin_path", std::move(dirs)}});
  }
  for (std::size_t i = 0; i < config.roles.size() && i < validated.size(); ++i) {
    const RoleTable& role = config.roles[i];
    toml::table table{{"plugin", role.plugin}};
    add_view(table, validated[i].view, validated[i].secret_keys, "");
    if (role.role == sdk::Role::cache) {
      if (!root.contains("cache")) root.insert("cache", toml::table{});
      root["cache"].as_table()->insert(role.instance, std::move(table));
    } else {
      root.insert(std::string(sdk::to_string(role.role)), std::move(table));
    }
  }
  for (const auto& [name, view] : settings_tables) {
    if (!root.contains(name)) root.insert(name, toml::table{});
    if (auto* table = root[name].as_table()) add_view(*table, view, {}, "");
  }
  std::ostringstream out;
  out << root << "\n";
  return out.str();
}

}  // namespace strata
