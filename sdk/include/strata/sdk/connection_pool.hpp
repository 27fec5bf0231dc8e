#pragma once
// A bounded pool of connections to one server, for plugins that talk to a
// database over connections of their own. The bundled PostgreSQL plugin's
// pool is this one; an out-of-tree storage plugin gets the same behaviour by
// giving it a way to open a connection.
//
//   struct MyConnection {
//     bool healthy() const;   // usable after a call: false once the link broke
//     bool idle_and_alive();  // cheap check before reuse (the server may have closed it)
//   };
//   sdk::ConnectionPool<MyConnection> pool({.max = 20}, "MyDB", [&] { return MyConnection::open(settings); });
//   auto n = pool.run<int>(sdk::Repeatable::yes, [](MyConnection& c) { return c.count_rows(); });

#include <chrono>
#include <concepts>
#include <cstdint>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "strata/sdk/audit.hpp"
#include "strata/sdk/error.hpp"
#include "strata/sdk/retry.hpp"

namespace strata::sdk {

/// What a pooled connection tells the pool.
template <class C>
concept PooledConnection = requires(C& c, const C& cc) {
  { cc.healthy() } -> std::convertible_to<bool>;
  { c.idle_and_alive() } -> std::convertible_to<bool>;
};

/// The pool's bounds (the seed's node-postgres defaults).
struct PoolLimits {
  int max = 20;                                    ///< connections open at most
  std::chrono::milliseconds idle_timeout{30'000};  ///< idle longer: closed
  /// Waiting for a free connection (all `max` busy) longer than this: `timeout`.
  std::chrono::milliseconds acquire_timeout{2'000};
  /// A call whose connection broke runs again on a new one when Repeatable::yes,
  /// as this says (default: once more, at once).
  RetryPolicy retry{2, std::chrono::milliseconds(0), std::chrono::milliseconds(0)};
};

/// What a pool holds now (ConnectionPool::usage).
struct PoolUsage {
  int open = 0;                ///< connections open, idle or in use
  int idle = 0;                ///< of those, idle
  int max = 0;                 ///< limits.max
  int waiting = 0;             ///< callers waiting for a free connection now
  std::uint64_t timeouts = 0;  ///< waits that ended in `timeout`, since the pool was made
};

/// `usage` as the OpenTelemetry connection-pool metrics, in their Prometheus
/// names: db_client_connection_count (state idle / used), _max,
/// _pending_requests and _timeouts_total, labelled db_client_connection_pool_name.
inline std::vector<Metric> connection_pool_metrics(const PoolUsage& usage, const std::string& pool_name) {
  const auto now = Timestamp::now();
  const std::map<std::string, std::string> pool{{"db_client_connection_pool_name", pool_name}};
  auto with_state = [&](const char* state) {
    auto labels = pool;
    labels.emplace("db_client_connection_state", state);
    return labels;
  };
  return {
      {now, "db_client_connection_count", static_cast<double>(usage.idle), with_state("idle")},
      {now, "db_client_connection_count", static_cast<double>(usage.open - usage.idle), with_state("used")},
      {now, "db_client_connection_max", static_cast<double>(usage.max), pool},
      {now, "db_client_connection_pending_requests", static_cast<double>(usage.waiting), pool},
      {now, "db_client_connection_timeouts_total", static_cast<double>(usage.timeouts), pool},
  };
}

/// At most `limits.max` connections, opened on demand by `open`, newest idle
/// first, closed after `limits.idle_timeout` idle. An idle connection the
/// server closed is dropped before reuse. Safe to call from several threads.
template <PooledConnection Connection>
class ConnectionPool {
 public:
  using Open = std::function<Result<std::unique_ptr<Connection>>()>;

  /// `server` names the backend in errors ("PostgreSQL").
  ConnectionPool(PoolLimits limits, std::string server, Open open)
      : limits_(limits), server_(std::move(server)), open_connection_(std::move(open)) {}

  /// Runs `op` on a connection. A connection found broken afterwards is
  /// discarded; a repeatable call then runs again on a new one, as
  /// limits.retry allows. An exception from `op` discards the connection
  /// (it may be mid-transaction) and propagates.
  template <class T>
  Result<T> run(Repeatable repeatable, const std::function<Result<T>(Connection&)>& op) {
    for (int attempt = 1;; ++attempt) {
      auto connection = acquire();
      if (!connection) return fail(connection.error());
      std::optional<Result<T>> outcome;
      try {
        outcome.emplace(op(**connection));
      } catch (...) {
        connection->reset();
        discard();
        throw;
      }
      if ((*connection)->healthy()) {
        release(std::move(*connection));
        return std::move(*outcome);
      }
      connection->reset();
      discard();
      const auto now = Clock::now();
      if (repeatable == Repeatable::no || !limits_.retry.may_retry(attempt, now, Clock::time_point::max()))
        return std::move(*outcome);
      std::this_thread::sleep_for(limits_.retry.delay(attempt));
    }
  }

  /// Closes every idle connection (e.g. after a restore replaced what they
  /// had prepared statements against).
  void close_idle() {
    std::lock_guard lock(mutex_);
    open_ -= static_cast<int>(idle_.size());
    idle_.clear();
  }

  /// Connections open now (idle or in use).
  int open_connections() const {
    std::lock_guard lock(mutex_);
    return open_;
  }

  const PoolLimits& limits() const noexcept { return limits_; }

  /// What the pool holds now (for gauges: connection_pool_metrics).
  PoolUsage usage() const {
    std::lock_guard lock(mutex_);
    return {open_, static_cast<int>(idle_.size()), limits_.max, waiting_, timeouts_};
  }

 private:
  using Clock = std::chrono::steady_clock;
  struct Idle {
    std::unique_ptr<Connection> connection;
    Clock::time_point since;
  };

  Result<std::unique_ptr<Connection>> acquire() {
    const auto deadline = Clock::now() + limits_.acquire_timeout;
    {
      std::unique_lock lock(mutex_);
      for (;;) {
        while (!idle_.empty()) {
          auto idle = std::move(idle_.back());
          idle_.pop_back();
          if (Clock::now() - idle.since < limits_.idle_timeout && idle.connection->idle_and_alive())
            return std::move(idle.connection);
          --open_;
        }
        if (open_ < limits_.max) break;
        ++waiting_;
        const bool timed_out = returned_.wait_until(lock, deadline) == std::cv_status::timeout;
        --waiting_;
        if (timed_out && idle_.empty() && open_ >= limits_.max) {
          ++timeouts_;
          return fail(ErrorCode::timeout, "no " + server_ + " connection free within " +
                                              std::to_string(limits_.acquire_timeout.count()) + " ms: all " +
                                              std::to_string(limits_.max) + " (pool.max) are busy");
        }
      }
      ++open_;  // reserved before connecting, outside the lock
    }
    auto connection = open_connection_();
    if (!connection) discard();
    return connection;
  }

  void release(std::unique_ptr<Connection> connection) {
    const auto now = Clock::now();
    {
      std::lock_guard lock(mutex_);
      // Close connections idle past the timeout, oldest first (front).
      while (!idle_.empty() && now - idle_.front().since >= limits_.idle_timeout) {
        idle_.erase(idle_.begin());
        --open_;
      }
      idle_.push_back({std::move(connection), now});
    }
    returned_.notify_one();
  }

  void discard() {
    {
      std::lock_guard lock(mutex_);
      --open_;
    }
    returned_.notify_one();
  }

  PoolLimits limits_;
  std::string server_;
  Open open_connection_;
  mutable std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<Idle> idle_;
  int open_ = 0;
  int waiting_ = 0;            // guarded by mutex_
  std::uint64_t timeouts_ = 0;  // guarded by mutex_
};

}  // namespace strata::sdk
