#pragma once
// Configuration as a plugin sees it: a declared schema, and a validated view.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "strata/sdk/error.hpp"

namespace strata::sdk {

/// The type of a configuration value.
enum class ConfigType {
  string,      ///< TOML string
  integer,     ///< TOML integer (64-bit)
  number,      ///< TOML float or integer
  boolean,     ///< TOML boolean
  string_list, ///< TOML array of strings
  table_list,  ///< TOML array of tables, each validated against item_fields
};

/// The type's name as used in error messages.
constexpr std::string_view to_string(ConfigType type) noexcept {
  switch (type) {
    case ConfigType::string: return "string";
    case ConfigType::integer: return "integer";
    case ConfigType::number: return "number";
    case ConfigType::boolean: return "boolean";
    case ConfigType::string_list: return "array of strings";
    case ConfigType::table_list: return "array of tables";
  }
  return "unknown";
}

struct ConfigValue;

/// A validated set of configuration values: every declared key is present
/// (given, from its environment variable, or its default) unless optional and
/// absent; secret references are already resolved. Nested tables appear as
/// dotted keys ("pool.max").
class ConfigView {
 public:
  ConfigView() = default;
  /// Builds a view from (key, value) pairs; the host does this after validation.
  explicit ConfigView(std::vector<std::pair<std::string, ConfigValue>> entries,
                      std::string where = {});

  /// Whether the key has a value.
  bool contains(std::string_view key) const noexcept;

  /// The value of a key, which must be present with type T; otherwise throws
  /// Error (invalid_argument), which plugin trampolines turn into a value.
  /// T is one of bool, std::int64_t, double, std::string,
  /// std::vector<std::string>, std::vector<ConfigView>.
  template <class T>
  T get(std::string_view key) const;

  /// The value of a key if present; throws Error if present with another type.
  template <class T>
  std::optional<T> find(std::string_view key) const;

  /// An integer that must lie in [low, high]; throws Error (invalid_argument)
  /// naming the key and the range otherwise.
  std::int64_t get_in_range(std::string_view key, std::int64_t low, std::int64_t high) const {
    auto value = get<std::int64_t>(key);
    if (value < low || value > high)
      throw Error{ErrorCode::invalid_argument,
                  std::string(key) + " must be between " + std::to_string(low) + " and " + std::to_string(high) +
                      ", got " + std::to_string(value),
                  {}, false};
    return value;
  }

  /// All entries, in declaration order.
  const std::vector<std::pair<std::string, ConfigValue>>& entries() const noexcept {
    return entries_;
  }

  /// Where these values come from, for messages: "[cache.session]" or "[cipher].keys[1]".
  const std::string& where() const noexcept { return where_; }

 private:
  const ConfigValue* lookup(std::string_view key) const noexcept;

  std::vector<std::pair<std::string, ConfigValue>> entries_;
  std::string where_;
};

/// One configuration value.
struct ConfigValue {
  using Variant = std::variant<bool, std::int64_t, double, std::string, std::vector<std::string>,
                               std::vector<ConfigView>>;
  Variant value;

  ConfigValue() = default;
  template <class T>
    requires std::is_constructible_v<Variant, T&&>
  ConfigValue(T&& v) : value(std::forward<T>(v)) {}  // NOLINT: implicit by design
  ConfigValue(const char* s) : value(std::string(s)) {}  // NOLINT: implicit by design
  ConfigValue(int v) : value(std::int64_t{v}) {}        // NOLINT: implicit by design
};

/// One key a provider accepts, as declared in its schema.
struct ConfigField {
  std::string key;                           ///< dotted for nested tables: "pool.max"
  ConfigType type = ConfigType::string;      ///< expected type
  std::string doc;                           ///< one line, shown by `strata config --schema`
  bool required = false;                     ///< missing and no env/default: an error
  std::optional<ConfigValue> default_value;  ///< used when absent
  bool secret = false;                       ///< never printed; shown redacted
  std::string env;                           ///< environment variable used when absent (the seed's names)
  std::vector<ConfigField> item_fields;      ///< table_list only: the keys of each table

  // Fluent setters, so schemas read as one line per key:
  //   field("port", ConfigType::integer, "server port").or_default(5432).from_env("DB_PORT")
  /// Marks the key required.
  ConfigField require() && { required = true; return std::move(*this); }
  /// Sets the default value.
  ConfigField or_default(ConfigValue v) && { default_value = std::move(v); return std::move(*this); }
  /// Marks the value secret (never printed).
  ConfigField redact() && { secret = true; return std::move(*this); }
  /// Names the environment variable used when the key is absent.
  ConfigField from_env(std::string variable) && { env = std::move(variable); return std::move(*this); }
  /// Sets the keys of each table of a table_list.
  ConfigField items(std::vector<ConfigField> fields) && { item_fields = std::move(fields); return std::move(*this); }
};

/// Starts a schema entry: field("default_ttl_s", ConfigType::integer, "TTL for values stored without one").
inline ConfigField field(std::string key, ConfigType type, std::string doc) {
  ConfigField f;
  f.key = std::move(key);
  f.type = type;
  f.doc = std::move(doc);
  return f;
}

/// The keys a provider accepts.
using ConfigSchema = std::vector<ConfigField>;

// ---- inline definitions -------------------------------------------------

inline ConfigView::ConfigView(std::vector<std::pair<std::string, ConfigValue>> entries,
                              std::string where)
    : entries_(std::move(entries)), where_(std::move(where)) {}

inline const ConfigValue* ConfigView::lookup(std::string_view key) const noexcept {
  for (const auto& [k, v] : entries_)
    if (k == key) return &v;
  return nullptr;
}

inline bool ConfigView::contains(std::string_view key) const noexcept {
  return lookup(key) != nullptr;
}

template <class T>
std::optional<T> ConfigView::find(std::string_view key) const {
  const ConfigValue* v = lookup(key);
  if (!v) return std::nullopt;
  if (const T* typed = std::get_if<T>(&v->value)) return *typed;
  if constexpr (std::is_same_v<T, double>) {
    if (const auto* i = std::get_if<std::int64_t>(&v->value)) return static_cast<double>(*i);
  }
  throw Error{ErrorCode::invalid_argument,
              where_ + " key '" + std::string(key) + "' has another type than the plugin expects",
              {}, false};
}

template <class T>
T ConfigView::get(std::string_view key) const {
  if (auto v = find<T>(key)) return *std::move(v);
  throw Error{ErrorCode::invalid_argument,
              where_ + " has no value for '" + std::string(key) + "'", {}, false};
}

}  // namespace strata::sdk
