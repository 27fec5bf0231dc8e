#pragma once
// A circuit breaker for one Redis node (cluster mode). After `failures`
// connection failures in a row its circuit opens: calls to the node fail at
// once with `unavailable` instead of each waiting for a connect or read
// timeout, so a dead shard does not slow the threads (and the pool slots)
// that serve the others. Every `open_for` one trial call is let through;
// its success closes the circuit.

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>

#include "strata/sdk/error.hpp"

namespace strata::redis {

class Breaker {
 public:
  using Clock = std::chrono::steady_clock;
  Breaker(int failures, std::chrono::milliseconds open_for) : failures_(failures), open_for_(open_for) {}

  /// True when a call may go to the node: the circuit is closed, or open
  /// long enough for the next trial (which this caller then is).
  bool allow();
  void succeeded();
  void failed();
  /// "closed", "open" or "half-open" (open, with a trial due), for gauges.
  std::string state() const;
  bool closed() const;
  /// The error of a call refused by the open circuit.
  sdk::Error refusal(const std::string& node) const;

 private:
  const int failures_;
  const std::chrono::milliseconds open_for_;
  // Every call asks allow() and reports back: while all is well (closed, no
  // failures) both are one atomic load, no lock shared by the node's callers.
  std::atomic<bool> open_{false};
  std::atomic<int> in_a_row_{0};
  mutable std::mutex mutex_;  // the rest
  Clock::time_point next_trial_{};
};

}  // namespace strata::redis
