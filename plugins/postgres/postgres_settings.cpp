#include "postgres_settings.hpp"

#include <libpq-fe.h>

#include <charconv>
#include <memory>

#include "strata/sdk/error.hpp"

namespace strata::postgres {

using sdk::ConfigType;
using sdk::field;

sdk::ConfigSchema settings_schema() {
  return {
      field("conninfo", ConfigType::string,
            "libpq connection string or URI, passed through untouched (multi-host, target_session_attrs); "
            "overrides host/port/user/password/dbname/sslmode")
          .redact(),
      field("host", ConfigType::string, "server host").or_default("127.0.0.1").from_env("DB_HOST"),
      field("port", ConfigType::integer, "server port").or_default(5432).from_env("DB_PORT"),
      field("user", ConfigType::string, "role name").or_default("postgres").from_env("DB_USER"),
      field("password", ConfigType::string, "role password").redact().from_env("DB_PASSWORD"),
      field("dbname", ConfigType::string, "database name").or_default("secure_messaging").from_env("DB_NAME"),
      field("sslmode", ConfigType::string, "libpq sslmode").or_default("prefer"),
      field("pool.max", ConfigType::integer, "connections kept at most (the seed: 20)").or_default(20),
      field("pool.idle_timeout_ms", ConfigType::integer,
            "idle connections are closed after this (the seed: 30 s)")
          .or_default(30'000),
      field("pool.connect_timeout_ms", ConfigType::integer,
            "time allowed to connect, or to wait for a free connection (the seed: 2 s)")
          .or_default(2'000),
      field("statement_timeout_ms", ConfigType::integer, "server-side statement timeout; 0 = none")
          .or_default(0),
      field("command_timeout_ms", ConfigType::integer,
            "client-side wait for an answer, after which the connection is given up (a server that stops "
            "answering, a partition); 0 = wait as long as the server takes")
          .or_default(0),
      field("cleanup.schedule", ConfigType::string,
            "cron schedule (e.g. \"0 0 * * *\") to purge expired messages with pg_cron; needs the extension"),
      field("replicas", ConfigType::string_list,
            "conninfos of standbys that reads may go to (read-your-writes by WAL position; see README)"),
      field("replica_retry_ms", ConfigType::integer, "a replica that failed is probed again after this")
          .or_default(5000),
      field("purge.batch_size", ConfigType::integer,
            "expired messages deleted per transaction by purge_expired (each batch commits on its own)")
          .or_default(1000),
      field("purge.pause_ms", ConfigType::integer,
            "pause between purge batches, so concurrent writes get their turn")
          .or_default(10),
      field("backup.pg_dump", ConfigType::string,
            "pg_dump used by `strata backup` (a name in PATH, or a path)")
          .or_default("pg_dump"),
      field("backup.pg_restore", ConfigType::string,
            "pg_restore used by `strata restore` (a name in PATH, or a path)")
          .or_default("pg_restore"),
  };
}

Settings read_settings(const sdk::ConfigView& config) {
  Settings s;
  if (auto conninfo = config.find<std::string>("conninfo")) {
    s.keywords = {{"dbname", *conninfo}};
    s.expand_conninfo = true;
    s.display = "the server named by conninfo";
  } else {
    auto host = config.get<std::string>("host");
    auto port = std::to_string(config.get_in_range("port", 1, 65535));
    auto dbname = config.get<std::string>("dbname");
    s.keywords = {{"host", host}, {"port", port}, {"user", config.get<std::string>("user")},
                  {"dbname", dbname}, {"sslmode", config.get<std::string>("sslmode")}};
    if (auto password = config.find<std::string>("password"); password && !password->empty())
      s.keywords.emplace_back("password", *password);
    s.display = host + ":" + port + "/" + dbname;
  }
  s.keywords.emplace_back("application_name", "strata");
  // UTC and ISO dates whatever the server's defaults: TIMESTAMP columns hold UTC.
  s.keywords.emplace_back("options", "-c TimeZone=UTC -c DateStyle=ISO");
  s.pool_max = static_cast<int>(config.get_in_range("pool.max", 1, 1000));
  s.idle_timeout = std::chrono::milliseconds(config.get_in_range("pool.idle_timeout_ms", 1, 86'400'000));
  s.connect_timeout = std::chrono::milliseconds(config.get_in_range("pool.connect_timeout_ms", 1, 600'000));
  s.statement_timeout = std::chrono::milliseconds(config.get_in_range("statement_timeout_ms", 0, 86'400'000));
  s.command_timeout = std::chrono::milliseconds(config.get_in_range("command_timeout_ms", 0, 86'400'000));
  s.cleanup_schedule = config.find<std::string>("cleanup.schedule");
  if (auto replicas = config.find<std::vector<std::string>>("replicas")) s.replicas = std::move(*replicas);
  s.replica_retry = std::chrono::milliseconds(config.get_in_range("replica_retry_ms", 1, 3'600'000));
  s.purge_batch = config.get_in_range("purge.batch_size", 1, 1'000'000);
  s.purge_pause = std::chrono::milliseconds(config.get_in_range("purge.pause_ms", 0, 60'000));
  s.pg_dump = config.get<std::string>("backup.pg_dump");
  s.pg_restore = config.get<std::string>("backup.pg_restore");
  return s;
}

sdk::DatabaseInfo database_info(const Settings& settings) {
  std::string dbname, host, port;
  for (const auto& [key, value] : settings.keywords) {
    if (key == "dbname") dbname = value;
    if (key == "host") host = value;
    if (key == "port") port = value;
  }
  if (settings.expand_conninfo) {
    std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(PQconninfoParse(dbname.c_str(), nullptr),
                                                                         &PQconninfoFree);
    dbname.clear();
    for (auto* o = options.get(); o && o->keyword; ++o) {
      if (!o->val) continue;
      std::string_view key = o->keyword;
      if (key == "dbname") dbname = o->val;
      if (key == "host") host = o->val;
      if (key == "port") port = o->val;
    }
  }
  // A multi-host conninfo lists hosts and ports separated by commas: the first of each.
  host = host.substr(0, host.find(','));
  port = port.substr(0, port.find(','));
  sdk::DatabaseInfo info{"postgresql", dbname, host.empty() ? "localhost" : host, 5432};
  if (!port.empty()) std::from_chars(port.data(), port.data() + port.size(), info.server_port);
  return info;
}

}  // namespace strata::postgres
