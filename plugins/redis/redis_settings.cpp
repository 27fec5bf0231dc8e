#include "redis_settings.hpp"

#include "strata/sdk/error.hpp"

namespace strata::redis {
namespace {

using sdk::ConfigType;
using sdk::field;

[[noreturn]] void refuse(const std::string& message) {
  throw sdk::Error{sdk::ErrorCode::invalid_argument, message, {}, false};
}


// "host:port" or "[v6]:port"; `what` names the list in messages ("sentinel").
std::pair<std::string, int> parse_endpoint(const std::string& text, const std::string& what) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    refuse(what + " '" + text + "' is not host:port");
  std::string host = text.substr(0, colon);
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = 0;
  try {
    std::size_t used = 0;
    port = std::stoi(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1) port = 0;
  } catch (const std::exception&) {
  }
  if (port < 1 || port > 65535) refuse(what + " '" + text + "' has no valid port (1..65535)");
  return {host, port};
}

}  // namespace

std::string Settings::address() const {
  if (sentinel_mode()) return "sentinel master '" + master_name + "'/" + std::to_string(db);
  if (cluster_mode()) {
    std::string out = "cluster ";
    for (const auto& seed : cluster) out += (out.size() > 8 ? "," : "") + seed.str();
    return out;
  }
  return host + ":" + std::to_string(port) + "/" + std::to_string(db);
}

sdk::ConfigSchema settings_schema() {
  return {
      field("host", ConfigType::string, "server host name or address").or_default("127.0.0.1").from_env("REDIS_HOST"),
      field("port", ConfigType::integer, "server port").or_default(6379).from_env("REDIS_PORT"),
      field("username", ConfigType::string, "ACL user name (Redis 6+); default user when absent"),
      field("password", ConfigType::string, "password (AUTH)").redact().from_env("REDIS_PASSWORD"),
      field("db", ConfigType::integer, "database index (the seed: sessions 1, cache 2)").or_default(0).from_env("REDIS_DB"),
      field("default_ttl_s", ConfigType::integer, "TTL in seconds for values stored without one; 0 = never expire")
          .or_default(3600),
      field("key_prefix", ConfigType::string,
            "prefix of every key of this instance, its namespace; ends with ':' (empty: the whole db)")
          .or_default(""),
      field("owns_db", ConfigType::boolean,
            "this instance owns its db: with no key_prefix, clear() and restore may empty it (FLUSHDB)")
          .or_default(false),
      field("pool.size", ConfigType::integer, "connections kept open at most").or_default(8),
      field("connect_timeout_ms", ConfigType::integer, "time allowed to connect").or_default(2000),
      field("command_timeout_ms", ConfigType::integer, "time allowed for one call, retries included").or_default(2000),
      field("sentinels", ConfigType::string_list,
            "Sentinel mode: sentinels (\"host:port\") asked for the primary of master_name; host and port unused"),
      field("master_name", ConfigType::string, "Sentinel mode: the monitored primary's name (SENTINEL MONITOR <name>)"),
      field("sentinel_password", ConfigType::string, "Sentinel mode: the sentinels' password (requirepass)").redact(),
      field("min_replicas_acked", ConfigType::integer,
            "writes return only once this many replicas have them (WAIT), else fail: for sessions whose revoke "
            "must survive a failover")
          .or_default(0),
      field("cluster", ConfigType::string_list,
            "Cluster mode: seed nodes (\"host:port\") asked for the slot map; host, port and db unused"),
      field("breaker.failures", ConfigType::integer,
            "Cluster mode: failures in a row after which a node's calls fail fast (its circuit opens)")
          .or_default(3),
      field("breaker.open_ms", ConfigType::integer,
            "Cluster mode: how long an open circuit fails calls before letting one trial call through")
          .or_default(1000),
      field("auto_pipeline", ConfigType::boolean,
            "single-key calls made at the same time share one round trip per server (one batch in flight each)")
          .or_default(false),
      field("retry.max_attempts", ConfigType::integer, "tries per call when the connection fails; delay min(n*50, 2000) ms")
          .or_default(3),
  };
}

Settings read_settings(const sdk::ConfigView& config) {
  Settings s;
  s.host = config.get<std::string>("host");
  if (s.host.empty()) refuse("host must not be empty");
  s.port = static_cast<int>(config.get_in_range("port", 1, 65535));
  s.username = config.find<std::string>("username");
  s.password = config.find<std::string>("password");
  if (s.password && s.password->empty()) s.password.reset();  // REDIS_PASSWORD= means no password
  s.db = static_cast<int>(config.get_in_range("db", 0, 1 << 20));
  if (auto ttl = config.get_in_range("default_ttl_s", 0, 10LL * 365 * 86400); ttl > 0)
    s.default_ttl = std::chrono::seconds(ttl);
  s.key_prefix = config.get<std::string>("key_prefix");
  // Namespaces end with the delimiter, so one never covers another's keys
  // ("app" would cover "app2…"; "app:" does not cover "app2:").
  if (!s.key_prefix.empty() && s.key_prefix.back() != ':')
    refuse("key_prefix '" + s.key_prefix + "' must end with ':' (say '" + s.key_prefix +
           ":'), so that this namespace never covers another's keys ('" + s.key_prefix + "' would cover '" +
           s.key_prefix + "2…')");
  s.owns_db = config.get<bool>("owns_db");
  s.pool_size = static_cast<int>(config.get_in_range("pool.size", 1, 1024));
  s.connect_timeout = std::chrono::milliseconds(config.get_in_range("connect_timeout_ms", 1, 600'000));
  s.command_timeout = std::chrono::milliseconds(config.get_in_range("command_timeout_ms", 1, 600'000));
  s.retry.max_attempts = static_cast<int>(config.get_in_range("retry.max_attempts", 1, 100));
  s.min_replicas_acked = static_cast<int>(config.get_in_range("min_replicas_acked", 0, 16));
  if (auto sentinels = config.find<std::vector<std::string>>("sentinels")) {
    for (const auto& text : *sentinels) s.sentinels.push_back(parse_endpoint(text, "sentinel"));
    if (s.sentinels.empty()) refuse("sentinels is empty: list at least one \"host:port\", or remove the key");
    auto name = config.find<std::string>("master_name");
    if (!name || name->empty()) refuse("sentinels needs master_name (the name the sentinels monitor)");
    s.master_name = *name;
    s.sentinel_password = config.find<std::string>("sentinel_password");
    if (s.sentinel_password && s.sentinel_password->empty()) s.sentinel_password.reset();
  } else if (config.find<std::string>("master_name")) {
    refuse("master_name is only used with sentinels");
  }
  s.auto_pipeline = config.get<bool>("auto_pipeline");
  s.breaker_failures = static_cast<int>(config.get_in_range("breaker.failures", 1, 1000));
  s.breaker_open = std::chrono::milliseconds(config.get_in_range("breaker.open_ms", 1, 600'000));
  if (auto seeds = config.find<std::vector<std::string>>("cluster")) {
    if (s.sentinel_mode()) refuse("cluster and sentinels are two different modes: set one of them");
    for (const auto& text : *seeds) {
      auto [host, port] = parse_endpoint(text, "cluster node");
      s.cluster.push_back({host, port});
    }
    if (s.cluster.empty()) refuse("cluster is empty: list at least one node \"host:port\", or remove the key");
    // Redis Cluster serves db 0 only (SELECT is refused): instances share it
    // and are kept apart by key_prefix.
    if (s.db != 0)
      refuse("db = " + std::to_string(s.db) + " cannot be used in cluster mode: Redis Cluster has only db 0; "
             "give each instance its own key_prefix instead");
  }
  return s;
}

}  // namespace strata::redis
