#pragma once
// A bounded pool of PostgreSQL connections (the seed's node-postgres defaults).

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "pg_connection.hpp"

namespace strata::postgres {

/// Whether a call may run again on a new connection after the first one was
/// lost mid-call. Reads may; writes may not (they could have committed).
enum class Repeatable { yes, no };

/// At most pool.max connections, opened on demand, closed after
/// pool.idle_timeout_ms idle. Waiting for a free connection, or connecting,
/// longer than pool.connect_timeout_ms is `timeout`. Idle connections the
/// server closed (restart, pg_terminate_backend) are dropped before reuse.
class Pool {
 public:
  explicit Pool(Settings settings);

  /// Runs `op` on a connection; a lost connection is discarded, and a
  /// repeatable call tried once more on a fresh one.
  template <class T>
  sdk::Result<T> run(Repeatable repeatable, const std::function<sdk::Result<T>(Connection&)>& op);

  const Settings& settings() const noexcept { return settings_; }
  /// Closes every idle connection (after a restore replaced the schema they prepared against).
  void close_idle();

 private:
  using Clock = std::chrono::steady_clock;
  sdk::Result<std::unique_ptr<Connection>> acquire();
  void release(std::unique_ptr<Connection> connection);
  void discard();

  Settings settings_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;
};

template <class T>
sdk::Result<T> Pool::run(Repeatable repeatable, const std::function<sdk::Result<T>(Connection&)>& op) {
  for (int attempt = 1;; ++attempt) {
    auto connection = acquire();
    if (!connection) return sdk::fail(connection.error());
    std::optional<sdk::Result<T>> outcome;
    try {
      outcome.emplace(op(**connection));
    } catch (...) {
      // A row Strata cannot read (pg_rows.hpp) throws out of `op`, maybe
      // mid-transaction: the connection goes, its place in the pool is freed.
      connection->reset();
      discard();
      throw;
    }
    auto& result = *outcome;
    if ((*connection)->healthy()) {
      release(std::move(*connection));
      return std::move(result);
    }
    connection->reset();
    discard();
    if (repeatable == Repeatable::no || attempt == 2) return std::move(result);
  }
}

/// Runs `op` inside BEGIN ... COMMIT on `c`, rolling back if it fails.
sdk::Result<void> in_transaction(Connection& c, const std::function<sdk::Result<void>()>& op);

}  // namespace strata::postgres
