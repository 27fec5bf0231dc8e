#include "pg_pool.hpp"

namespace strata::postgres {

Pool::Pool(Settings settings) : settings_(std::move(settings)) {}

sdk::Result<std::unique_ptr<Connection>> Pool::acquire() {
  const auto deadline = Clock::now() + settings_.connect_timeout;
  {
    std::unique_lock lock(mutex_);
    for (;;) {
      // Newest idle first; anything idle too long or closed by the server goes.
      while (!idle_.empty()) {
        auto connection = std::move(idle_.back());
        idle_.pop_back();
        if (Clock::now() - connection->idle_since < settings_.idle_timeout && connection->idle_and_alive())
          return connection;
        --open_;
      }
      if (open_ < settings_.pool_max) break;
      if (returned_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          open_ >= settings_.pool_max)
        return sdk::fail(sdk::ErrorCode::timeout,
                         "no PostgreSQL connection free within " + std::to_string(settings_.connect_timeout.count()) +
                             " ms: all " + std::to_string(settings_.pool_max) + " (pool.max) are busy");
    }
    ++open_;
  }
  auto connection = Connection::open(settings_);
  if (!connection) discard();
  return connection;
}

void Pool::release(std::unique_ptr<Connection> connection) {
  connection->idle_since = Clock::now();
  {
    std::lock_guard lock(mutex_);
    // Close connections idle past the timeout, oldest first (front of the list).
    while (!idle_.empty() && Clock::now() - idle_.front()->idle_since >= settings_.idle_timeout) {
      idle_.erase(idle_.begin());
      --open_;
    }
    idle_.push_back(std::move(connection));
  }
  returned_.notify_one();
}

void Pool::discard() {
  {
    std::lock_guard lock(mutex_);
    --open_;
  }
  returned_.notify_one();
}

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

void Pool::close_idle() {
  std::lock_guard lock(mutex_);
  open_ -= static_cast<int>(idle_.size());
  idle_.clear();
}

}  // namespace strata::postgres
