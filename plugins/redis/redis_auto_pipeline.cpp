#include "redis_auto_pipeline.hpp"

#include <exception>

namespace strata::redis {

Attempt<Reply> AutoPipeline::try_once(const Command& command, const Send& send) {
  Call me{&command, std::nullopt, {}};
  std::unique_lock lock(mutex_);
  queue_.push_back(&me);
  while (!me.outcome) {
    if (leading_) {
      me.woken.wait(lock);
      continue;
    }
    lead(lock, send);
  }
  return std::move(*me.outcome);
}

void AutoPipeline::lead(std::unique_lock<std::mutex>& lock, const Send& send) {
  leading_ = true;
  const std::size_t n = std::min(queue_.size(), max_batch_);
  std::vector<Call*> batch(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
  lock.unlock();

  std::vector<Command> commands;
  commands.reserve(n);
  for (const Call* call : batch) commands.push_back(*call->command);  // views: the callers' buffers stay put
  std::vector<Attempt<Reply>> outcomes;
  std::exception_ptr failure;
  try {
    outcomes = send(commands);
  } catch (...) {
    // Nothing may be left waiting on a batch that will never answer: the
    // others get an error, the leader the exception (after handing over).
    failure = std::current_exception();
    outcomes.clear();
    for (std::size_t i = 0; i < n; ++i)
      outcomes.push_back({sdk::fail(sdk::ErrorCode::internal, "auto-pipelined batch failed"), false, false, false, {}});
  }

  lock.lock();
  leading_ = false;
  for (std::size_t i = 0; i < n; ++i) batch[i]->outcome = std::move(outcomes[i]);
  // Woken under the lock: a caller returns (destroying its Call) only after
  // taking the lock, so no notify reaches a Call that is gone.
  for (Call* call : batch) call->woken.notify_one();
  if (!queue_.empty()) queue_.front()->woken.notify_one();  // the next batch's leader
  if (failure) std::rethrow_exception(failure);
}

}  // namespace strata::redis
