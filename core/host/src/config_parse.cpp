// Parsing the host config: TOML -> ConfigNode tree -> HostConfig.

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <toml++/toml.h>

#include "config.hpp"

#include "host_settings.hpp"

namespace strata {
namespace {

using sdk::ErrorCode;
using sdk::fail;
using sdk::Role;

SourcePos position(const toml::source_region& region, const std::string& file) {
  return SourcePos{file, region.begin.line, region.begin.column};
}

sdk::Result<ConfigNode> convert(const toml::node& node, const std::string& file,
                                const EnvLookup& env) {
  ConfigNode out;
  out.pos = position(node.source(), file);
  switch (node.type()) {
    case toml::node_type::string: {
      const std::string& raw = node.as_string()->get();
      auto expanded = interpolate(raw, env);
      if (!expanded)
        return fail(ErrorCode::invalid_argument, out.pos.str() + ": " + expanded.error().message);
      out.interpolated = raw.find("${") != std::string::npos;
      out.value = std::move(*expanded);
      return out;
    }
    case toml::node_type::integer: out.value = node.as_integer()->get(); return out;
    case toml::node_type::floating_point: out.value = node.as_floating_point()->get(); return out;
    case toml::node_type::boolean: out.value = node.as_boolean()->get(); return out;
    case toml::node_type::array: {
      ConfigNode::Array items;
      for (const toml::node& item : *node.as_array()) {
        auto converted = convert(item, file, env);
        if (!converted) return converted;
        items.push_back(std::move(*converted));
      }
      out.value = std::move(items);
      return out;
    }
    case toml::node_type::table: {
      ConfigNode::Entries entries;
      for (const auto& [key, value] : *node.as_table()) {
        auto converted = convert(value, file, env);
        if (!converted) return converted;
        converted->key_pos = position(key.source(), file);
        entries.emplace_back(std::string(key.str()), std::move(*converted));
      }
      out.value = std::move(entries);
      return out;
    }
    default:
      return fail(ErrorCode::invalid_argument,
                  out.pos.str() + ": dates and times are not used in Strata configs; write a string");
  }
}

// The `plugin` key of a role table, which must be a string.
sdk::Result<RoleTable> role_table(Role role, std::string instance, const ConfigNode& node) {
  RoleTable table{role, std::move(instance), {}, node.pos, node};
  const ConfigNode* plugin = node.find("plugin");
  if (!node.table())
    return fail(ErrorCode::invalid_argument, node.pos.str() + ": " + table.label() + " must be a table");
  if (!plugin)
    return fail(ErrorCode::invalid_argument,
                node.pos.str() + ": " + table.label() + " has no 'plugin' key (e.g. plugin = \"memory\")");
  const auto* name = std::get_if<std::string>(&plugin->value);
  if (!name || name->empty())
    return fail(ErrorCode::invalid_argument,
                plugin->pos.str() + ": " + table.label() + ".plugin must be a non-empty string");
  table.plugin = *name;
  return table;
}

bool valid_instance_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  return true;
}

// A settings table of its own: [metrics], or a registered one such as [users].
bool is_settings_table(std::string_view key) {
  return !single_instance_role(key) && key != "cache" && detail::find_table(key);
}

// Keys registered under a role's name (the audit pipeline's, in [audit]) sit
// beside the plugin's: move them out, so the plugin validates only its own.
SettingsTable split_registered_keys(RoleTable& role, const ConfigTable& registered) {
  SettingsTable owned{registered.name, "[" + registered.name + "]", ConfigNode{}};
  owned.node.pos = role.node.pos;
  ConfigNode::Entries mine, plugins;
  for (auto& entry : std::get<ConfigNode::Entries>(role.node.value)) {
    bool registered_key = std::ranges::any_of(
        registered.schema, [&](const sdk::ConfigField& f) { return f.key == entry.first; });
    (registered_key ? mine : plugins).push_back(std::move(entry));
  }
  owned.node.value = std::move(mine);
  role.node.value = std::move(plugins);
  return owned;
}

sdk::Result<void> read_host_table(const ConfigNode& node, HostConfig& config) {
  if (!node.table())
    return fail(ErrorCode::invalid_argument, node.pos.str() + ": [host] must be a table");
  for (const auto& [key, value] : *node.table()) {
    if (key != "plugin_path") return unknown_key_error(key, value.key_pos, "[host]", {"plugin_path"});
    auto add = [&](const ConfigNode& item) -> sdk::Result<void> {
      const auto* dir = std::get_if<std::string>(&item.value);
      if (!dir)
        return fail(ErrorCode::invalid_argument,
                    item.pos.str() + ": [host].plugin_path takes a string or an array of strings");
      std::filesystem::path p(*dir);
      config.plugin_path.push_back(p.is_absolute() ? p : config.base_dir / p);
      return {};
    };
    if (const auto* items = std::get_if<ConfigNode::Array>(&value.value)) {
      for (const auto& item : *items)
        if (auto r = add(item); !r) return r;
    } else if (auto r = add(value); !r) {
      return r;
    }
  }
  return {};
}

}  // namespace

std::string SourcePos::str() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

const ConfigNode* ConfigNode::find(std::string_view key) const {
  if (const Entries* entries = table())
    for (const auto& [k, v] : *entries)
      if (k == key) return &v;
  return nullptr;
}

std::string RoleTable::label() const {
  if (role == Role::cache) return "[cache." + instance + "]";
  return "[" + std::string(sdk::to_string(role)) + "]";
}

std::optional<Role> single_instance_role(std::string_view table_name) {
  for (Role role : {Role::storage, Role::audit, Role::cipher})
    if (sdk::to_string(role) == table_name) return role;
  return std::nullopt;
}

sdk::Result<HostConfig> parse_config(std::string_view text, std::string source,
                                     std::filesystem::path base_dir, const EnvLookup& env) {
  HostConfig config;
  config.source = source;
  config.base_dir = std::move(base_dir);
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return fail(ErrorCode::invalid_argument,
                position(e.source(), source).str() + ": malformed TOML: " +
                    std::string(e.description()));
  }
  auto tree = convert(root, source, env);
  if (!tree) return sdk::fail(tree.error());

  static const std::vector<std::string> top_level = [] {
    std::vector<std::string> names{"host", "storage", "cache", "audit", "cipher"};
    for (const auto* tables : {&detail::host_own_tables(), &registered_config_tables()})
      for (const auto& table : *tables)
        if (is_settings_table(table.name)) names.emplace_back(table.name);
    return names;
  }();
  std::vector<RoleTable> caches;
  std::optional<RoleTable> storage, audit, cipher;
  for (const auto& [key, node] : *tree->table()) {
    if (key == "host") {
      if (auto r = read_host_table(node, config); !r) return sdk::fail(r.error());
    } else if (is_settings_table(key)) {
      if (!node.table())
        return fail(ErrorCode::invalid_argument, node.pos.str() + ": [" + key + "] must be a table");
      config.tables.push_back(SettingsTable{key, "[" + key + "]", node});
    } else if (auto role = single_instance_role(key)) {
      auto table = role_table(*role, "default", node);
      if (!table) return sdk::fail(table.error());
      if (const auto* registered = find_config_table(key))
        config.tables.push_back(split_registered_keys(*table, *registered));
      (*role == Role::storage ? storage : *role == Role::audit ? audit : cipher) = std::move(*table);
    } else if (key == "cache") {
      if (!node.table() || node.find("plugin"))
        return fail(ErrorCode::invalid_argument,
                    node.pos.str() +
                        ": [cache] holds named instances: write [cache.default] (and e.g. [cache.session])");
      for (const auto& [name, instance] : *node.table()) {
        if (!valid_instance_name(name))
          return fail(ErrorCode::invalid_argument,
                      instance.key_pos.str() + ": cache instance name '" + name +
                          "' must use only a-z, 0-9, '_' and '-'");
        auto table = role_table(Role::cache, name, instance);
        if (!table) return sdk::fail(table.error());
        caches.push_back(std::move(*table));
      }
    } else {
      return unknown_key_error(key, node.key_pos, "the config's top level", top_level);
    }
  }
  // Start order: the cipher first (others may need it), then storage, caches, audit;
  // the host shuts down in reverse.
  for (auto* single : {&cipher, &storage})
    if (*single) config.roles.push_back(std::move(**single));
  for (auto& cache : caches) config.roles.push_back(std::move(cache));
  if (audit) config.roles.push_back(std::move(*audit));
  return config;
}

sdk::Result<HostConfig> load_config_file(const std::filesystem::path& path, const EnvLookup& env) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return fail(ErrorCode::not_found,
                "cannot read config file '" + path.string() + "': " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  std::filesystem::path base = path.has_parent_path() ? path.parent_path() : ".";
  return parse_config(text.str(), path.string(), std::filesystem::absolute(base), env);
}

}  // namespace strata
