#pragma once
// Auto-pipelining (`auto_pipeline = true`): concurrent single-command calls
// to one server share one round trip. A caller that finds no batch in
// flight leads: it takes every command queued so far (up to max_batch),
// sends them in one write, reads the replies and hands each caller its own.
// Callers that arrive meanwhile queue for the next batch, whose first caller
// is woken to lead it. The server then reads and answers a batch at once
// instead of one command per connection and wake-up, which is what a
// machine running several Redis servers on few cores runs out of first
// (BENCHMARKS.md, cluster mode at 50 connections).
//
// Each command keeps its own outcome: its reply or Redis error, a MOVED or
// ASK meant for it alone, or — when the connection broke — "broke", so that
// the caller's usual retry rules apply exactly as without batching.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "redis_connection.hpp"
#include "redis_pool.hpp"

namespace strata::redis {

class AutoPipeline {
 public:
  /// Sends a batch and returns one attempt per command, in order (Pool::try_each).
  using Send = std::function<std::vector<Attempt<Reply>>(std::span<const Command>)>;

  explicit AutoPipeline(std::size_t max_batch) : max_batch_(max_batch) {}

  /// One try of `command`, batched with whatever other callers send now;
  /// `send` is used if this caller ends up leading a batch.
  Attempt<Reply> try_once(const Command& command, const Send& send);

 private:
  struct Call {
    const Command* command;
    std::optional<Attempt<Reply>> outcome;
    std::condition_variable woken;  // its outcome is in, or it is to lead the next batch
  };
  // Sends up to max_batch_ queued calls (the leader's own among them, if it
  // is still queued) and fills in their outcomes; `lock` is released meanwhile.
  void lead(std::unique_lock<std::mutex>& lock, const Send& send);

  const std::size_t max_batch_;
  std::mutex mutex_;
  std::deque<Call*> queue_;  // waiting for a batch
  bool leading_ = false;     // a batch is in flight
};

}  // namespace strata::redis
