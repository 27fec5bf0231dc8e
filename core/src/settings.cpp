// Service settings from the config's host-level tables.

#include "strata/settings.hpp"

namespace strata {
namespace {

using sdk::ConfigType;
using sdk::ErrorCode;
using sdk::field;

sdk::ConfigSchema schema_for(std::string_view table) {
  if (table == "audit")
    return {
        field("on_failure", ConfigType::string, "when the sink fails: block, spool or drop").or_default("spool"),
        field("queue_size", ConfigType::integer, "events waiting for the flusher").or_default(4096),
        field("batch_size", ConfigType::integer, "events per append to the sink").or_default(256),
        field("flush_interval_ms", ConfigType::integer, "longest wait before a partial batch is written")
            .or_default(200),
        field("spool_path", ConfigType::string, "the spool file (default: <data dir>/audit-spool.jsonl)"),
    };
  if (table == "users")
    return {
        field("scrypt_log2_n", ConfigType::integer, "scrypt cost: N = 2^log2_n").or_default(15),
        field("scrypt_r", ConfigType::integer, "scrypt block size").or_default(8),
        field("scrypt_p", ConfigType::integer, "scrypt parallelism").or_default(1),
        field("cache_ttl_s", ConfigType::integer, "how long user lookups stay cached").or_default(300),
        field("min_password_length", ConfigType::integer, "shortest password accepted").or_default(8),
    };
  if (table == "sessions")
    return {field("ttl_s", ConfigType::integer, "session lifetime, restarted by every touch").or_default(86400)};
  if (table == "keys")
    return {field("lifetime_days", ConfigType::integer, "expiry of new user keys; 0: never").or_default(0)};
  return {
      field("purge_interval_s", ConfigType::integer, "expired-message purge interval; 0: off").or_default(3600),
      field("metrics_interval_s", ConfigType::integer, "metrics flush interval; 0: off").or_default(60),
  };
}

// Runs `read` with the view of one table, turning the view's range errors into results.
template <class F>
sdk::Result<void> read_table(const HostConfig& config, const EnvLookup& env, std::string_view name, F read,
                             std::vector<std::pair<std::string, sdk::ConfigView>>& tables) {
  ConfigNode empty;
  empty.value = ConfigNode::Entries{};
  const ConfigNode* node = &empty;
  std::string label = "[" + std::string(name) + "]";
  for (const auto& table : config.services)
    if (table.name == name) node = &table.node;
  auto validated = validate_table(*node, schema_for(name), label, config.base_dir, env);
  if (!validated) return sdk::fail(validated.error());
  try {
    read(validated->view);
  } catch (const sdk::Error& e) {
    return sdk::fail(ErrorCode::invalid_argument, config.source + ": " + label + " " + e.message);
  }
  tables.emplace_back(std::string(name), validated->view);
  return {};
}

}  // namespace

std::string_view to_string(AuditFailurePolicy policy) noexcept {
  switch (policy) {
    case AuditFailurePolicy::block: return "block";
    case AuditFailurePolicy::spool: return "spool";
    case AuditFailurePolicy::drop: return "drop";
  }
  return "spool";
}

std::filesystem::path default_data_dir(const EnvLookup& env) {
  if (auto dir = env("STRATA_DATA_DIR"); dir && !dir->empty()) return *dir;
  if (auto xdg = env("XDG_DATA_HOME"); xdg && !xdg->empty()) return std::filesystem::path(*xdg) / "strata";
  auto home = env("HOME");
  return std::filesystem::path(home ? *home : ".") / ".local" / "share" / "strata";
}

sdk::Result<ServiceSettings> read_service_settings(const HostConfig& config, const EnvLookup& env) {
  ServiceSettings s;
  auto audit = read_table(config, env, "audit", [&](const sdk::ConfigView& v) {
    auto policy = v.get<std::string>("on_failure");
    if (policy == "block") s.audit.on_failure = AuditFailurePolicy::block;
    else if (policy == "spool") s.audit.on_failure = AuditFailurePolicy::spool;
    else if (policy == "drop") s.audit.on_failure = AuditFailurePolicy::drop;
    else throw sdk::Error{ErrorCode::invalid_argument, "on_failure must be block, spool or drop, got '" + policy + "'", {}, false};
    s.audit.queue_size = static_cast<std::size_t>(v.get_in_range("queue_size", 1, 10'000'000));
    s.audit.batch_size = static_cast<std::size_t>(v.get_in_range("batch_size", 1, 100'000));
    s.audit.flush_interval = std::chrono::milliseconds(v.get_in_range("flush_interval_ms", 1, 3'600'000));
    auto spool = v.find<std::string>("spool_path");
    std::filesystem::path path = spool ? std::filesystem::path(*spool) : default_data_dir(env) / "audit-spool.jsonl";
    s.audit.spool_path = path.is_absolute() ? path : config.base_dir / path;
  }, s.tables);
  if (!audit) return sdk::fail(audit.error());
  // Shown with its computed default; and only where an [audit] table exists to hold it.
  auto& audit_view = s.tables.back().second;
  auto entries = audit_view.entries();
  if (!audit_view.contains("spool_path")) entries.emplace_back("spool_path", s.audit.spool_path.string());
  audit_view = sdk::ConfigView(std::move(entries), "[audit]");
  bool has_audit = false;
  for (const auto& role : config.roles) has_audit = has_audit || role.role == sdk::Role::audit;
  if (!has_audit) s.tables.pop_back();
  auto users = read_table(config, env, "users", [&](const sdk::ConfigView& v) {
    s.users.scrypt.log2_n = static_cast<int>(v.get_in_range("scrypt_log2_n", 10, 22));
    s.users.scrypt.r = static_cast<int>(v.get_in_range("scrypt_r", 1, 32));
    s.users.scrypt.p = static_cast<int>(v.get_in_range("scrypt_p", 1, 16));
    s.users.cache_ttl = std::chrono::seconds(v.get_in_range("cache_ttl_s", 1, 86400 * 30));
    s.users.min_password_length = static_cast<std::size_t>(v.get_in_range("min_password_length", 1, 1024));
  }, s.tables);
  if (!users) return sdk::fail(users.error());
  auto sessions = read_table(config, env, "sessions", [&](const sdk::ConfigView& v) {
    s.sessions.ttl = std::chrono::seconds(v.get_in_range("ttl_s", 1, 86400 * 365));
  }, s.tables);
  if (!sessions) return sdk::fail(sessions.error());
  auto keys = read_table(config, env, "keys", [&](const sdk::ConfigView& v) {
    auto days = v.get_in_range("lifetime_days", 0, 36500);
    if (days > 0) s.keys.lifetime = std::chrono::hours(24 * days);
  }, s.tables);
  if (!keys) return sdk::fail(keys.error());
  auto maintenance = read_table(config, env, "maintenance", [&](const sdk::ConfigView& v) {
    s.maintenance.purge_interval = std::chrono::seconds(v.get_in_range("purge_interval_s", 0, 86400 * 30));
    s.maintenance.metrics_interval = std::chrono::seconds(v.get_in_range("metrics_interval_s", 0, 86400));
  }, s.tables);
  if (!maintenance) return sdk::fail(maintenance.error());
  return s;
}

}  // namespace strata
