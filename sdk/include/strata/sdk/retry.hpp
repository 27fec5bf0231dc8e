#pragma once
// How a plugin retries a call that failed for a transient reason (a lost
// connection, a failover): which calls may run again, and how long to wait.
// The bundled PostgreSQL and Redis plugins use it; so may any plugin.

#include <algorithm>
#include <chrono>

namespace strata::sdk {

/// Whether a call may run again after its connection broke with the call
/// possibly delivered. Reads may (GET, SELECT); writes that could have taken
/// effect may not (INSERT, INCRBY, SET NX): running them twice is not the
/// same as once, so their error goes back to the caller.
enum class Repeatable { yes, no };

/// Attempts and back-off: attempt n (1-based) that failed is followed, after
/// min(n * step, cap), by attempt n + 1, up to `max_attempts` in all. The
/// defaults are the seed's ioredis strategy (min(n * 50, 2000) ms, 3 tries).
struct RetryPolicy {
  int max_attempts = 3;
  std::chrono::milliseconds step{50};
  std::chrono::milliseconds cap{2000};

  /// The wait after failed attempt `attempt` (1-based).
  constexpr std::chrono::milliseconds delay(int attempt) const {
    return std::min(step * std::max(attempt, 1), cap);
  }
  /// Whether attempt `attempt` may be followed by another: attempts remain,
  /// and waiting the delay from `now` does not pass `deadline`.
  template <class Clock, class Duration>
  constexpr bool may_retry(int attempt, std::chrono::time_point<Clock, Duration> now,
                           std::chrono::time_point<Clock, Duration> deadline) const {
    return attempt < max_attempts && now + delay(attempt) < deadline;
  }
};

}  // namespace strata::sdk
