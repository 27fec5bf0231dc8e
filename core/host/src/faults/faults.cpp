// Fault rules: deciding which call a rule hits, reading `plugin = "faulty"`
// tables, and wrapping the wrapped plugin's instance.

#include "faulty_table.hpp"

#include <algorithm>

#include "faulty.hpp"

namespace strata {

FaultControl::FaultControl(std::vector<FaultRule> rules, std::uint64_t seed)
    : rules_(std::move(rules)), random_(seed) {}

void FaultControl::set(std::vector<FaultRule> rules) {
  std::lock_guard lock(mutex_);
  rules_ = std::move(rules);
}

std::vector<FaultRule> FaultControl::rules() const {
  std::lock_guard lock(mutex_);
  return rules_;
}

void FaultControl::reseed(std::uint64_t seed) {
  std::lock_guard lock(mutex_);
  random_.seed(seed);
}

std::uint64_t FaultControl::injected() const {
  std::lock_guard lock(mutex_);
  return injected_;
}

std::optional<FaultControl::Decision> FaultControl::decide(std::string_view method) {
  std::lock_guard lock(mutex_);
  for (const auto& rule : rules_) {
    if (rule.method != "*" && rule.method != method) continue;
    // One draw per matching rule, so a seed replays the same hits for the same calls.
    if (std::uniform_real_distribution<double>(0.0, 1.0)(random_) >= rule.probability) continue;
    ++injected_;
    return Decision{rule};
  }
  return std::nullopt;
}

namespace detail {
namespace {

using sdk::ConfigType;
using sdk::ErrorCode;
using sdk::field;

#define STRATA_METHOD_NAME_(KIND, RET, NAME, PARAMS, ARGS) #NAME,
std::vector<std::string> method_names(sdk::Role role) {
  switch (role) {
    case sdk::Role::storage: return {STRATA_SDK_STORAGE_METHODS(STRATA_METHOD_NAME_)};
    case sdk::Role::cache: return {STRATA_SDK_CACHE_METHODS(STRATA_METHOD_NAME_)};
    case sdk::Role::audit: return {STRATA_SDK_AUDIT_METHODS(STRATA_METHOD_NAME_)};
    case sdk::Role::cipher: return {STRATA_SDK_CIPHER_METHODS(STRATA_METHOD_NAME_)};
  }
  return {};
}
#undef STRATA_METHOD_NAME_

std::optional<ErrorCode> error_code(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(ErrorCode::key_destroyed); ++i)
    if (sdk::to_string(static_cast<ErrorCode>(i)) == name) return static_cast<ErrorCode>(i);
  return std::nullopt;
}

sdk::ConfigSchema faulty_schema() {
  return {
      field("wraps", ConfigType::string, "the plugin whose instance faults are injected into (its keys: `wrapped`)")
          .require(),
      field("seed", ConfigType::integer, "seeds the draws: the same seed and calls hit the same calls").or_default(1),
      field("faults", ConfigType::table_list, "rules, first match wins")
          .items({field("method", ConfigType::string, "a method of the role, or \"*\"").or_default("*"),
                  field("probability", ConfigType::number, "share of matching calls hit, 0 to 1").or_default(1.0),
                  field("latency_ms", ConfigType::integer, "added before the call").or_default(0),
                  field("error", ConfigType::string, "the error a hit call returns (an error code's name)"),
                  field("hang_ms", ConfigType::integer, "wait this long, then fail with timeout, not calling")
                      .or_default(0),
                  field("after_commit", ConfigType::boolean, "call the plugin, then report the error anyway")
                      .or_default(false),
                  field("partial", ConfigType::number, "batch methods: apply this share, then report the error")}),
  };
}

sdk::Result<FaultRule> read_rule(const sdk::ConfigView& item, sdk::Role role) {
  FaultRule rule;
  rule.method = item.get<std::string>("method");
  auto names = method_names(role);
  if (rule.method != "*" && std::find(names.begin(), names.end(), rule.method) == names.end()) {
    auto near = nearest_name(rule.method, names);
    return sdk::fail(ErrorCode::invalid_argument,
                     item.where() + ": method '" + rule.method + "' is not a " + std::string(sdk::to_string(role)) +
                         " method" + (near ? "; did you mean '" + *near + "'?" : std::string()));
  }
  rule.probability = item.get<double>("probability");
  if (!(rule.probability >= 0 && rule.probability <= 1))
    return sdk::fail(ErrorCode::invalid_argument, item.where() + ": probability must be between 0 and 1");
  rule.latency = std::chrono::milliseconds(item.get_in_range("latency_ms", 0, 3'600'000));
  rule.hang = std::chrono::milliseconds(item.get_in_range("hang_ms", 0, 3'600'000));
  rule.after_commit = item.get<bool>("after_commit");
  if (auto name = item.find<std::string>("error")) {
    rule.error = error_code(*name);
    if (!rule.error)
      return sdk::fail(ErrorCode::invalid_argument, item.where() + ": error '" + *name +
                                                        "' is not an error code (unavailable, timeout, auth_failed, "
                                                        "conflict, not_found, …)");
  }
  if (auto share = item.find<double>("partial")) {
    if (!(*share >= 0 && *share <= 1))
      return sdk::fail(ErrorCode::invalid_argument, item.where() + ": partial must be between 0 and 1");
    rule.partial = *share;
  }
  if ((rule.after_commit || rule.partial) && !rule.error)
    return sdk::fail(ErrorCode::invalid_argument,
                     item.where() + ": after_commit and partial report an error: name it with `error`");
  if (rule.latency.count() == 0 && rule.hang.count() == 0 && !rule.error)
    return sdk::fail(ErrorCode::invalid_argument,
                     item.where() + ": the rule does nothing: give it an error, latency_ms or hang_ms");
  return rule;
}

}  // namespace

sdk::Result<FaultyTable> read_faulty_table(const RoleTable& table, const std::filesystem::path& base_dir,
                                           const EnvLookup& env) {
  // The `wrapped` sub-table is the wrapped plugin's own; the rest is faulty's.
  RoleTable own = table, wrapped = table;
  ConfigNode::Entries own_entries, wrapped_entries;
  for (const auto& [key, node] : *table.node.table()) {
    if (key != "wrapped") {
      own_entries.emplace_back(key, node);
    } else if (const auto* entries = node.table()) {
      wrapped_entries = *entries;
    } else {
      return sdk::fail(ErrorCode::invalid_argument,
                       node.pos.str() + ": " + table.label() + ".wrapped must be a table (the wrapped plugin's keys)");
    }
  }
  own.node.value = own_entries;
  auto validated = validate_role_config(own, faulty_schema(), base_dir, env);
  if (!validated) return sdk::fail(validated.error());
  FaultyTable out;
  out.plugin = validated->view.get<std::string>("wraps");
  if (out.plugin == "faulty")
    return sdk::fail(ErrorCode::invalid_argument, table.label() + ": faulty cannot wrap faulty");
  std::vector<FaultRule> rules;
  for (const auto& item : validated->view.find<std::vector<sdk::ConfigView>>("faults").value_or(
           std::vector<sdk::ConfigView>{})) {
    auto rule = read_rule(item, table.role);
    if (!rule) return sdk::fail(rule.error());
    rules.push_back(std::move(*rule));
  }
  out.control = std::make_shared<FaultControl>(std::move(rules),
                                               static_cast<std::uint64_t>(validated->view.get<std::int64_t>("seed")));
  wrapped.plugin = out.plugin;
  ConfigNode plugin_key;
  plugin_key.value = out.plugin;
  plugin_key.pos = table.pos;
  wrapped_entries.insert(wrapped_entries.begin(), {"plugin", plugin_key});
  wrapped.node.value = std::move(wrapped_entries);
  out.wrapped = std::move(wrapped);
  return out;
}

PluginObject wrap_faulty(PluginObject object, const std::shared_ptr<FaultControl>& control, const std::string& plugin,
                         std::uint32_t abi_minor) {
  return std::visit(
      [&]<class Role>(std::shared_ptr<Role> inner) -> PluginObject {
        if constexpr (std::is_same_v<Role, sdk::Storage>)
          return std::shared_ptr<Role>(std::make_shared<FaultyStorage>(std::move(inner), control, plugin, abi_minor));
        else if constexpr (std::is_same_v<Role, sdk::Cache>)
          return std::shared_ptr<Role>(std::make_shared<FaultyCache>(std::move(inner), control, plugin, abi_minor));
        else if constexpr (std::is_same_v<Role, sdk::Audit>)
          return std::shared_ptr<Role>(std::make_shared<FaultyAudit>(std::move(inner), control, plugin, abi_minor));
        else
          return std::shared_ptr<Role>(std::make_shared<FaultyCipher>(std::move(inner), control, plugin, abi_minor));
      },
      std::move(object));
}

}  // namespace detail
}  // namespace strata
