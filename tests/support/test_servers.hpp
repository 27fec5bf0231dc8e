#pragma once
// Where the test suite and the benchmarks find their servers: the throwaway
// instances tools/services.sh starts, on the ports of tools/test-servers.env
// (compiled in by CMake; the same variables in the environment override them).
// Never the machine's own servers.

#include <cstdlib>
#include <string>

namespace strata::test {

/// A test server's port: the variable from the environment, else the value compiled in.
inline int server_port(const char* variable, int built_in) {
  const char* value = std::getenv(variable);
  return value && *value ? std::atoi(value) : built_in;
}
inline int postgres_port() { return server_port("STRATA_TEST_POSTGRES_PORT", STRATA_TEST_POSTGRES_PORT); }
inline int redis_port() { return server_port("STRATA_TEST_REDIS_PORT", STRATA_TEST_REDIS_PORT); }
inline int mongodb_port() { return server_port("STRATA_TEST_MONGODB_PORT", STRATA_TEST_MONGODB_PORT); }
/// The pg_auto_failover formation's monitor (tools/pg-formation.sh); its data nodes use the next two ports.
inline int formation_port() { return server_port("STRATA_TEST_FORMATION_PORT", STRATA_TEST_FORMATION_PORT); }
/// The first of the Sentinel group's three sentinels (tools/redis-sentinel.sh); its Redis nodes are at +10 and +11.
inline int sentinel_port() { return server_port("STRATA_TEST_SENTINEL_PORT", STRATA_TEST_SENTINEL_PORT); }
/// The first of the Redis Cluster's six nodes (tools/redis-cluster.sh).
inline int cluster_port() { return server_port("STRATA_TEST_CLUSTER_PORT", STRATA_TEST_CLUSTER_PORT); }
/// The MongoDB test server's URI, without a database.
inline std::string mongodb_uri() { return "mongodb://127.0.0.1:" + std::to_string(mongodb_port()); }

}  // namespace strata::test
