#pragma once
// A bounded pool of Redis connections with the seed's retry strategy.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "redis_connection.hpp"
#include "redis_sentinel.hpp"
#include "strata/sdk/log.hpp"

namespace strata::redis {

/// Whether a command may be sent again after the connection broke with the
/// command possibly delivered. GET/SET/MGET are; INCRBY and SET NX are not.
enum class Repeatable { yes, no };

/// At most pool.size connections, opened on demand. A call that finds its
/// connection broken discards it and retries on a new one after
/// min(attempt * 50, 2000) ms, up to retry.max_attempts, within command_timeout.
class Pool {
 public:
  Pool(Settings settings, sdk::Logger log);

  /// Runs `op` on a connection, retrying as described above.
  template <class T>
  sdk::Result<T> run(Repeatable repeatable, const std::function<sdk::Result<T>(Connection&)>& op);

  const Settings& settings() const noexcept { return settings_; }
  /// Sentinel mode's view of the primary; null in standalone mode.
  PrimaryLocator* locator() noexcept { return locator_.get(); }

 private:
  using Clock = std::chrono::steady_clock;
  sdk::Result<std::unique_ptr<Connection>> acquire(Clock::time_point deadline);
  void release(std::unique_ptr<Connection> connection);
  void discard();
  /// Sleeps before attempt `attempt + 1`; false when that would pass the deadline or the limit.
  bool back_off(int attempt, Clock::time_point deadline, const sdk::Error& why);

  Settings settings_;
  std::unique_ptr<PrimaryLocator> locator_;  // Sentinel mode: where the primary is now
  sdk::Logger log_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;  // connections in use or idle
};

template <class T>
sdk::Result<T> Pool::run(Repeatable repeatable, const std::function<sdk::Result<T>(Connection&)>& op) {
  const auto deadline = Clock::now() + settings_.command_timeout;
  for (int attempt = 1;; ++attempt) {
    auto connection = acquire(deadline);
    if (!connection) {
      // Nothing was sent: safe to retry whatever the command, unless retrying cannot help.
      if (!connection.error().retryable || !back_off(attempt, deadline, connection.error()))
        return sdk::fail(connection.error());
      continue;
    }
    auto result = op(**connection);
    if (!(*connection)->broken()) {
      release(std::move(*connection));
      return result;
    }
    connection->reset();
    discard();
    if (locator_) locator_->invalidate();  // perhaps a failover: ask the sentinels again
    sdk::Error error = result ? sdk::Error{sdk::ErrorCode::unavailable, "connection broke", {}, true} : result.error();
    if (repeatable == Repeatable::no || !back_off(attempt, deadline, error)) return sdk::fail(error);
  }
}

}  // namespace strata::redis
