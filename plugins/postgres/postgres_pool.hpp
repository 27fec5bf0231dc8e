#pragma once
// The PostgreSQL plugin's connection pool: the SDK's ConnectionPool
// (strata/sdk/connection_pool.hpp) over libpq connections, bounded by the
// seed's node-postgres settings (pool.max, pool.idle_timeout_ms,
// pool.connect_timeout_ms).

#include <functional>

#include "postgres_connection.hpp"
#include "strata/sdk/connection_pool.hpp"

namespace strata::postgres {

using Repeatable = sdk::Repeatable;

/// At most pool.max connections, opened on demand, closed after
/// pool.idle_timeout_ms idle. Waiting for a free connection, or connecting,
/// longer than pool.connect_timeout_ms is `timeout`. Idle connections the
/// server closed (restart, pg_terminate_backend) are dropped before reuse; a
/// repeatable call whose connection was lost runs once more on a new one.
class Pool : public sdk::ConnectionPool<Connection> {
 public:
  explicit Pool(Settings settings);
  const Settings& settings() const noexcept { return settings_; }

 private:
  Settings settings_;
};

/// Runs `op` inside BEGIN ... COMMIT on `c`, rolling back if it fails.
sdk::Result<void> in_transaction(Connection& c, const std::function<sdk::Result<void>()>& op);

}  // namespace strata::postgres
