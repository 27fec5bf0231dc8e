#pragma once
// A bounded pool of connections to one Redis server with the seed's retry
// strategy: the standalone server, the primary Sentinel names, or one
// cluster node (then with a circuit breaker).

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "redis_breaker.hpp"
#include "redis_connection.hpp"
#include "redis_sentinel.hpp"
#include "strata/sdk/log.hpp"

namespace strata::redis {

/// Whether a command may be sent again after the connection broke with the
/// command possibly delivered (strata/sdk/retry.hpp). GET/SET/MGET are;
/// INCRBY and SET NX are not.
using Repeatable = sdk::Repeatable;

template <class T>
using Op = std::function<sdk::Result<T>(Connection&)>;

class AutoPipeline;

/// Sleeps the seed's delay before attempt `attempt + 1` (logging why); false
/// when that would pass the deadline or retry.max_attempts.
bool wait_to_retry(const Settings& settings, const sdk::Logger& log, int attempt, std::chrono::steady_clock::time_point deadline,
                   const sdk::Error& why);

/// What one try of an operation came to.
template <class T>
struct Attempt {
  sdk::Result<T> result;
  bool sent = false;                  // the operation ran: its commands may have reached the server
  bool broke = false;                 // ... and the connection broke (a reply may be lost)
  bool refused = false;               // the node's circuit is open: nothing was tried
  std::optional<Redirect> redirect;   // cluster: MOVED or ASK (nothing was run)
};

/// At most pool.size connections, opened on demand. A call that finds its
/// connection broken discards it and retries on a new one after
/// min(attempt * 50, 2000) ms, up to retry.max_attempts, within command_timeout.
class Pool {
 public:
  using Clock = std::chrono::steady_clock;
  /// The configured server (standalone), or the primary Sentinel names.
  Pool(Settings settings, sdk::Logger log);
  /// One cluster node, behind a circuit breaker.
  Pool(Settings settings, sdk::Logger log, Endpoint node);
  ~Pool();

  /// Runs `op` on a connection, retrying as described above.
  template <class T>
  sdk::Result<T> run(Repeatable repeatable, const Op<T>& op);
  /// One try, no retry: the cluster retries itself, perhaps on another node.
  template <class T>
  Attempt<T> try_once(const Op<T>& op, Clock::time_point deadline);

  /// Runs one command, retrying like run(); with auto_pipeline, batched
  /// with other callers' commands (redis_auto_pipeline.hpp).
  sdk::Result<Reply> run_command(Repeatable repeatable, const Command& command);
  /// One try of one command (auto-pipelined, if on), no retry.
  Attempt<Reply> try_command(const Command& command, Clock::time_point deadline);
  /// One try of independent commands in one round trip, an attempt each:
  /// a reply (or its Redis error, or its MOVED/ASK) each, and "broke" for
  /// those whose reply the connection lost. An auto-pipelined batch.
  std::vector<Attempt<Reply>> try_each(std::span<const Command> commands, Clock::time_point deadline);

  /// A connection held across a send and a later receive (cluster mode's
  /// scatter-gather), refused at once while the breaker is open; give it back
  /// with checkin(), which tells the breaker how it went.
  sdk::Result<std::unique_ptr<Connection>> checkout(Clock::time_point deadline);
  void checkin(std::unique_ptr<Connection> connection);

  const Settings& settings() const noexcept { return settings_; }
  /// Sentinel mode's view of the primary; null otherwise.
  PrimaryLocator* locator() noexcept { return locator_.get(); }
  /// The cluster node's breaker; null otherwise.
  const Breaker* breaker() const noexcept { return breaker_.get(); }

 private:
  sdk::Result<std::unique_ptr<Connection>> acquire(Clock::time_point deadline);
  void release(std::unique_ptr<Connection> connection);
  void discard();
  // run() and run_command(): `try_one(deadline)` tried until it is not worth retrying.
  template <class T, class Try>
  sdk::Result<T> retrying(Repeatable repeatable, const Try& try_one);
  static std::unique_ptr<AutoPipeline> make_pipeline(const Settings& settings);
  std::string where() const { return node_ ? node_->str() : settings_.address(); }

  Settings settings_;
  std::optional<Endpoint> node_;             // cluster mode: this pool's node
  std::unique_ptr<PrimaryLocator> locator_;  // Sentinel mode: where the primary is now
  std::unique_ptr<Breaker> breaker_;         // cluster mode
  std::unique_ptr<AutoPipeline> pipeline_;   // auto_pipeline = true
  sdk::Logger log_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;  // connections in use or idle
};

template <class T>
Attempt<T> Pool::try_once(const Op<T>& op, Clock::time_point deadline) {
  if (breaker_ && !breaker_->allow()) return {sdk::fail(breaker_->refusal(where())), false, false, true, {}};
  auto connection = acquire(deadline);
  if (!connection) return {sdk::fail(connection.error()), false, false, false, {}};
  auto result = op(**connection);
  const bool broke = (*connection)->broken();
  auto redirect = (*connection)->redirect();
  checkin(std::move(*connection));
  if (!broke) return {std::move(result), true, false, false, std::move(redirect)};
  sdk::Error error = result ? sdk::Error{sdk::ErrorCode::unavailable, "connection broke", {}, true} : result.error();
  return {sdk::fail(error), true, true, false, {}};
}

template <class T>
sdk::Result<T> Pool::run(Repeatable repeatable, const Op<T>& op) {
  return retrying<T>(repeatable, [&](Clock::time_point deadline) { return try_once(op, deadline); });
}

template <class T, class Try>
sdk::Result<T> Pool::retrying(Repeatable repeatable, const Try& try_one) {
  const auto deadline = Clock::now() + settings_.command_timeout;
  for (int attempt = 1;; ++attempt) {
    Attempt<T> tried = try_one(deadline);
    if (tried.sent && !tried.broke) return std::move(tried.result);  // a reply, or a Redis error reply
    const auto& error = tried.result.error();
    if (!tried.sent) {
      // Nothing was sent: safe to retry whatever the command, unless retrying cannot help.
      if (!error.retryable || !wait_to_retry(settings_, log_, attempt, deadline, error)) return std::move(tried.result);
      continue;
    }
    // The connection broke with the command perhaps delivered: only repeatable ones go again.
    if (repeatable == Repeatable::no || !wait_to_retry(settings_, log_, attempt, deadline, error)) return std::move(tried.result);
  }
}

}  // namespace strata::redis
