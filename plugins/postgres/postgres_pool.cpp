#include "postgres_pool.hpp"

namespace strata::postgres {

namespace {

sdk::PoolLimits pool_limits(const Settings& s) {
  sdk::PoolLimits limits;
  limits.max = s.pool_max;
  limits.idle_timeout = s.idle_timeout;
  limits.acquire_timeout = s.connect_timeout;
  return limits;
}

}  // namespace

Pool::Pool(Settings settings)
    : sdk::ConnectionPool<Connection>(pool_limits(settings), "PostgreSQL",
                                      [this] { return Connection::open(settings_); }),
      settings_(std::move(settings)) {}

sdk::Result<void> in_transaction(Connection& c, const std::function<sdk::Result<void>()>& op) {
  if (auto begun = c.exec("BEGIN"); !begun) return sdk::fail(begun.error());
  auto result = op();
  if (!result) {
    if (c.healthy()) (void)c.exec("ROLLBACK");
    return result;
  }
  if (auto committed = c.exec("COMMIT"); !committed) return sdk::fail(committed.error());
  return {};
}

}  // namespace strata::postgres
