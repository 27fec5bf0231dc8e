#include "mongodb_settings.hpp"

namespace strata::mongodb {
namespace {

using sdk::ConfigType;
using sdk::field;

}  // namespace

sdk::ConfigSchema connection_schema() {
  return {
      field("uri", ConfigType::string, "MongoDB URI; replica-set and auth URIs pass through untouched")
          .or_default("mongodb://127.0.0.1:27017/strata")
          .redact(),
      field("database", ConfigType::string, "database; default: the URI's, else \"strata\""),
      field("server_selection_timeout_ms", ConfigType::integer, "time to find a server before failing").or_default(2000),
      field("socket_timeout_ms", ConfigType::integer, "time to wait for a reply").or_default(5000),
      field("write_concern.w", ConfigType::string, "\"1\", \"majority\", or a number of members").or_default("1"),
      field("write_concern.journal", ConfigType::boolean, "acknowledged only once journaled").or_default(true),
  };
}

Settings read_connection(const sdk::ConfigView& config) {
  Settings s;
  s.uri = config.get<std::string>("uri");
  auto timeout = [&](const char* key) { return std::chrono::milliseconds(config.get_in_range(key, 1, 600'000)); };
  s.server_selection_timeout = timeout("server_selection_timeout_ms");
  s.socket_timeout = timeout("socket_timeout_ms");
  s.write_w = config.get<std::string>("write_concern.w");
  s.journal = config.get<bool>("write_concern.journal");
  if (auto db = config.find<std::string>("database")) s.database = *db;
  return s;
}

}  // namespace strata::mongodb
