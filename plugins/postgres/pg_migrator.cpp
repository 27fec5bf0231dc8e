#include "pg_migrator.hpp"

#include <string>

#include "pg_pool.hpp"

namespace strata::postgres {
namespace {

using sdk::ErrorCode;
using sdk::fail;

// pg_advisory_xact_lock key: "strata" as a number, the same in every process.
constexpr const char* lock_sql = "SELECT pg_advisory_xact_lock(7391149215237181441)";
constexpr const char* table_sql =
    "CREATE TABLE IF NOT EXISTS strata_schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
    " applied_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now())";

int latest() { return migrations().empty() ? 0 : migrations().back().version; }

sdk::Result<int> current_version(Connection& c) {
  auto exists = c.exec("SELECT to_regclass('strata_schema_migrations') IS NOT NULL");
  if (!exists) return sdk::fail(exists.error());
  if (std::string(PQgetvalue(exists->get(), 0, 0)) != "t") return 0;
  auto version = c.exec("SELECT COALESCE(MAX(version), 0) FROM strata_schema_migrations");
  if (!version) return sdk::fail(version.error());
  return std::stoi(PQgetvalue(version->get(), 0, 0));
}

}  // namespace

sdk::Result<sdk::SchemaStatus> schema_status(Connection& c) {
  auto current = current_version(c);
  if (!current) return sdk::fail(current.error());
  return sdk::SchemaStatus{*current, latest()};
}

sdk::Result<sdk::SchemaStatus> migrate_to(Connection& c, int target) {
  if (target < 0 || target > latest())
    return fail(ErrorCode::invalid_argument,
                "no schema version " + std::to_string(target) + ": versions run from 0 to " + std::to_string(latest()));
  int reached = 0;
  auto done = in_transaction(c, [&]() -> sdk::Result<void> {
    for (const char* sql : {lock_sql, table_sql})
      if (auto ok = c.exec(sql); !ok) return sdk::fail(ok.error());
    auto current = current_version(c);
    if (!current) return sdk::fail(current.error());
    reached = *current;
    for (const auto& m : migrations()) {  // up, oldest first
      if (m.version <= reached || m.version > target) continue;
      if (auto ok = c.exec(m.up); !ok) {
        auto e = ok.error();
        e.message = "migration " + std::to_string(m.version) + "_" + m.name + " up failed: " + e.message;
        return sdk::fail(e);
      }
      if (auto ok = c.exec("INSERT INTO strata_schema_migrations (version, name) VALUES ($1, $2)",
                           {std::to_string(m.version), std::string(m.name)});
          !ok)
        return sdk::fail(ok.error());
      reached = m.version;
    }
    for (auto it = migrations().rbegin(); it != migrations().rend(); ++it) {  // down, newest first
      if (it->version > reached || it->version <= target) continue;
      if (auto ok = c.exec(it->down); !ok) {
        auto e = ok.error();
        e.message = "migration " + std::to_string(it->version) + "_" + it->name + " down failed: " + e.message;
        return sdk::fail(e);
      }
      if (auto ok = c.exec("DELETE FROM strata_schema_migrations WHERE version = $1", {std::to_string(it->version)});
          !ok)
        return sdk::fail(ok.error());
      reached = it->version - 1;
    }
    return {};
  });
  if (!done) return sdk::fail(done.error());
  return sdk::SchemaStatus{reached, latest()};
}

}  // namespace strata::postgres
