// Validation of role tables against a provider's declared schema.

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config.hpp"
#include "strata/sdk/secret_file.hpp"

namespace strata {
namespace {

using sdk::ConfigField;
using sdk::ConfigType;
using sdk::ConfigValue;
using sdk::ErrorCode;
using sdk::fail;

// Walks one table (a role table, or an item of a table list).
class TableValidator {
 public:
  TableValidator(const std::filesystem::path& base_dir, const EnvLookup& env,
                 std::set<std::string>& secrets)
      : base_dir_(base_dir), env_(env), secrets_(secrets) {}

  // `where` names the table in messages ("[cipher]", "[cipher].keys[1]");
  // `path` prefixes secret keys ("", "keys[1].").
  sdk::Result<sdk::ConfigView> validate(const ConfigNode& table, const sdk::ConfigSchema& schema,
                                        const std::string& where, const std::string& path,
                                        bool has_plugin_key) {
    std::vector<std::pair<std::string, const ConfigNode*>> given;
    flatten(table, "", given, schema);

    std::vector<std::string> valid;
    if (has_plugin_key) valid.push_back("plugin");
    for (const auto& field : schema) valid.push_back(field.key);
    for (const auto& [key, node] : given) {
      if (has_plugin_key && key == "plugin") continue;
      if (!find_field(schema, key)) return unknown_key_error(key, node->key_pos, where, valid);
    }

    std::vector<std::pair<std::string, ConfigValue>> values;
    for (const auto& field : schema) {
      const ConfigNode* node = nullptr;
      for (const auto& [key, n] : given)
        if (key == field.key) node = n;
      if (node) {
        auto value = convert(field, *node, where, path);
        if (!value) return sdk::fail(value.error());
        values.emplace_back(field.key, std::move(*value));
        continue;
      }
      if (!field.env.empty()) {
        if (auto from_env = env_(field.env)) {
          auto value = coerce_text(field, *from_env);
          if (!value)
            return fail(ErrorCode::invalid_argument,
                        where + " key '" + field.key + "' from environment variable " + field.env +
                            ": " + value.error().message);
          if (field.secret) secrets_.insert(path + field.key);
          values.emplace_back(field.key, std::move(*value));
          continue;
        }
      }
      if (field.default_value) {
        values.emplace_back(field.key, *field.default_value);
        continue;
      }
      if (field.required) {
        std::string message = table.pos.str() + ": " + where + " is missing required key '" +
                              field.key + "' (" + std::string(sdk::to_string(field.type)) + ")";
        if (!field.env.empty()) message += ", and " + field.env + " is not set";
        if (!field.doc.empty()) message += ": " + field.doc;
        return fail(ErrorCode::invalid_argument, message);
      }
    }
    return sdk::ConfigView(std::move(values), where);
  }

 private:
  static const ConfigField* find_field(const sdk::ConfigSchema& schema, std::string_view key) {
    for (const auto& field : schema)
      if (field.key == key) return &field;
    return nullptr;
  }

  static bool is_secret_reference(const ConfigNode& node) {
    const auto* entries = node.table();
    return entries && entries->size() == 1 &&
           (entries->front().first == "env" || entries->front().first == "file");
  }

  // Nested tables become dotted keys, except secret references, which are values.
  static void flatten(const ConfigNode& table, const std::string& prefix,
                      std::vector<std::pair<std::string, const ConfigNode*>>& out,
                      const sdk::ConfigSchema& schema) {
    for (const auto& [key, node] : *table.table()) {
      std::string dotted = prefix + key;
      if (node.table() && !is_secret_reference(node) && !find_field(schema, dotted)) {
        flatten(node, dotted + ".", out, schema);
      } else {
        out.emplace_back(dotted, &node);
      }
    }
  }

  static constexpr std::size_t max_secret_bytes = 64 * 1024;

  sdk::Result<std::string> resolve_reference(const ConfigNode& node, const std::string& label) {
    const auto& [kind, target] = node.table()->front();
    const auto* name = std::get_if<std::string>(&target.value);
    if (!name)
      return fail(ErrorCode::invalid_argument,
                  target.pos.str() + ": " + label + ": { " + kind + " = … } takes a string");
    if (kind == "env") {
      auto value = env_(*name);
      if (!value)
        return fail(ErrorCode::invalid_argument, target.pos.str() + ": " + label +
                                                     ": secret environment variable '" + *name +
                                                     "' is not set");
      return *value;
    }
    std::filesystem::path file(*name);
    if (file.is_relative()) file = base_dir_ / file;
    // Without blocking on a FIFO, never a directory or a loop, bounded (/dev/zero is refused).
    auto read = sdk::read_secret_file(file.string(), sdk::SecretFileRules{max_secret_bytes, false});
    if (!read) return fail(ErrorCode::invalid_argument, target.pos.str() + ": " + label + ": " + read.error().message);
    std::string secret = std::move(*read);
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    return secret;
  }

  // Text (from the environment, a secret, or an interpolated string) to the field's type.
  static sdk::Result<ConfigValue> coerce_text(const ConfigField& field, const std::string& text) {
    switch (field.type) {
      case ConfigType::string: return ConfigValue(text);
      case ConfigType::integer: {
        std::int64_t v = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc() || end != text.data() + text.size())
          return fail(ErrorCode::invalid_argument, "'" + text + "' is not an integer");
        return ConfigValue(v);
      }
      case ConfigType::number: {
        char* end = nullptr;
        double v = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size())
          return fail(ErrorCode::invalid_argument, "'" + text + "' is not a number");
        return ConfigValue(v);
      }
      case ConfigType::boolean:
        if (text == "true" || text == "1") return ConfigValue(true);
        if (text == "false" || text == "0") return ConfigValue(false);
        return fail(ErrorCode::invalid_argument, "'" + text + "' is not true or false");
      default:
        return fail(ErrorCode::invalid_argument,
                    "a " + std::string(sdk::to_string(field.type)) + " cannot come from text");
    }
  }

  static std::string type_name(const ConfigNode& node) {
    switch (node.value.index()) {
      case 0: return "a boolean";
      case 1: return "an integer";
      case 2: return "a float";
      case 3: return "a string";
      case 4: return "an array";
      default: return "a table";
    }
  }

  sdk::Result<ConfigValue> convert(const ConfigField& field, const ConfigNode& node,
                                   const std::string& where, const std::string& path) {
    std::string label = where + "." + field.key;
    auto wrong_type = [&](const ConfigNode& at, const std::string& detail = {}) {
      return fail(ErrorCode::invalid_argument,
                  at.pos.str() + ": " + label + " must be " +
                      std::string(sdk::to_string(field.type)) + ", not " + type_name(at) + detail);
    };
    if (field.secret) secrets_.insert(path + field.key);
    if (is_secret_reference(node)) {
      secrets_.insert(path + field.key);
      auto secret = resolve_reference(node, label);
      if (!secret) return sdk::fail(secret.error());
      auto value = coerce_text(field, *secret);
      // Never echo a secret: say what was wrong, not what it was.
      if (!value)
        return fail(ErrorCode::invalid_argument, node.pos.str() + ": " + label + ": the secret's value is not " +
                                                     (field.type == ConfigType::integer ? "an integer"
                                                      : field.type == ConfigType::number ? "a number"
                                                      : field.type == ConfigType::boolean ? "true or false"
                                                                                          : "of the right type"));
      return value;
    }
    switch (field.type) {
      case ConfigType::string:
        if (const auto* s = std::get_if<std::string>(&node.value)) return ConfigValue(*s);
        return wrong_type(node);
      case ConfigType::boolean:
        if (const auto* b = std::get_if<bool>(&node.value)) return ConfigValue(*b);
        break;
      case ConfigType::integer:
        if (const auto* i = std::get_if<std::int64_t>(&node.value)) return ConfigValue(*i);
        break;
      case ConfigType::number:
        if (const auto* d = std::get_if<double>(&node.value)) return ConfigValue(*d);
        if (const auto* i = std::get_if<std::int64_t>(&node.value))
          return ConfigValue(static_cast<double>(*i));
        break;
      case ConfigType::string_list: {
        const auto* items = std::get_if<ConfigNode::Array>(&node.value);
        if (!items) return wrong_type(node);
        std::vector<std::string> out;
        for (const auto& item : *items) {
          const auto* s = std::get_if<std::string>(&item.value);
          if (!s) return wrong_type(item, " (in the array)");
          out.push_back(*s);
        }
        return ConfigValue(std::move(out));
      }
      case ConfigType::table_list: {
        const auto* items = std::get_if<ConfigNode::Array>(&node.value);
        if (!items) return wrong_type(node);
        std::vector<sdk::ConfigView> out;
        for (std::size_t i = 0; i < items->size(); ++i) {
          const ConfigNode& item = (*items)[i];
          if (!item.table()) return wrong_type(item, " (in the array)");
          std::string index = "[" + std::to_string(i) + "]";
          auto view = validate(item, field.item_fields, label + index, path + field.key + index + ".", false);
          if (!view) return sdk::fail(view.error());
          out.push_back(std::move(*view));
        }
        return ConfigValue(std::move(out));
      }
    }
    // Scalars written as an interpolated string, e.g. port = "${DB_PORT:-5432}".
    if (const auto* s = std::get_if<std::string>(&node.value); s && node.interpolated) {
      auto value = coerce_text(field, *s);
      if (!value)
        return fail(ErrorCode::invalid_argument, node.pos.str() + ": " + label + ": " + value.error().message);
      return value;
    }
    return wrong_type(node);
  }

  const std::filesystem::path& base_dir_;
  const EnvLookup& env_;
  std::set<std::string>& secrets_;
};

}  // namespace

sdk::Result<ValidatedConfig> validate_table(const ConfigNode& table, const sdk::ConfigSchema& schema,
                                            const std::string& label, const std::filesystem::path& base_dir,
                                            const EnvLookup& env) {
  ValidatedConfig out;
  TableValidator validator(base_dir, env, out.secret_keys);
  auto view = validator.validate(table, schema, label, "", false);
  if (!view) return sdk::fail(view.error());
  out.view = std::move(*view);
  return out;
}

sdk::Result<ValidatedConfig> validate_role_config(const RoleTable& table,
                                                  const sdk::ConfigSchema& schema,
                                                  const std::filesystem::path& base_dir,
                                                  const EnvLookup& env) {
  ValidatedConfig out;
  TableValidator validator(base_dir, env, out.secret_keys);
  auto view = validator.validate(table.node, schema, table.label(), "", true);
  if (!view) return sdk::fail(view.error());
  out.view = std::move(*view);
  return out;
}

}  // namespace strata
