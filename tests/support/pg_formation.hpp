#pragma once
// The pg_auto_failover formation the HA tests fail over: tools/pg-formation.sh,
// started by the ctest fixture `pg_formation_start` and stopped by
// `pg_formation_stop` (tests/CMakeLists.txt); a monitor and two data nodes
// with synchronous replication, on ports of their own.

#include <catch2/catch.hpp>

#include <string>

#include "backends.hpp"
#include "run_command.hpp"
#include "test_paths.hpp"

namespace strata::test {

/// Runs `tools/pg-formation.sh <command>` (start, failover, kill-primary, primary, ...).
inline std::string pg_formation(const std::string& command) {
  return run_command("bash '" + strata::test::paths::source_dir() + "/tools/pg-formation.sh' " + command);
}

/// Runs one SQL statement on the formation node listening on `port`, as postgres.
inline std::string pg_formation_sql(const std::string& port, const std::string& sql) {
  return run_command("psql -h 127.0.0.1 -p " + port + " -U postgres -d strata -Atqc \"" + sql + "\"");
}

/// Requires the formation (skipped on a laptop without it, a failure under CI=true).
inline void require_formation() {
  if (listening(formation_port() + 1) || listening(formation_port() + 2)) return;
  require_backend("the pg_auto_failover formation's primary (tools/pg-formation.sh start)", formation_port() + 1);
}

}  // namespace strata::test
