#pragma once
// The pg_auto_failover formation the HA tests fail over: tools/pg-formation.sh,
// started by the ctest fixture `pg_formation_start` and stopped by
// `pg_formation_stop` (tests/CMakeLists.txt); a monitor and two data nodes
// with synchronous replication, on ports of their own.

#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <string>

#include "backends.hpp"

namespace strata::test {

/// Runs `tools/pg-formation.sh <command>`; its output (trailing newline cut). Fails the test if it fails.
inline std::string pg_formation(const std::string& command) {
  std::string line = "bash '" STRATA_SOURCE_DIR "/tools/pg-formation.sh' " + command + " 2>&1";
  FILE* pipe = ::popen(line.c_str(), "r");
  REQUIRE(pipe);
  std::string out;
  std::array<char, 4096> buffer{};
  while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) out.append(buffer.data(), n);
  int status = ::pclose(pipe);
  INFO("tools/pg-formation.sh " << command << ":\n" << out);
  REQUIRE(status == 0);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

/// Requires the formation (skipped on a laptop without it, a failure under CI=true).
inline void require_formation() {
  if (listening(formation_port() + 1) || listening(formation_port() + 2)) return;
  require_backend("the pg_auto_failover formation's primary (tools/pg-formation.sh start)", formation_port() + 1);
}

}  // namespace strata::test
