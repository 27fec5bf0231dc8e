#include "redis_breaker.hpp"

namespace strata::redis {

bool Breaker::allow() {
  if (!open_.load(std::memory_order_acquire)) return true;
  std::lock_guard lock(mutex_);
  if (!open_) return true;
  auto now = Clock::now();
  if (now < next_trial_) return false;
  // This caller is the trial; the next one waits another period, whether
  // or not this one ever reports back.
  next_trial_ = now + open_for_;
  return true;
}

void Breaker::succeeded() {
  if (in_a_row_.load(std::memory_order_acquire) == 0 && !open_.load(std::memory_order_acquire)) return;
  std::lock_guard lock(mutex_);
  in_a_row_ = 0;
  open_ = false;
}

void Breaker::failed() {
  std::lock_guard lock(mutex_);
  if (++in_a_row_ >= failures_ && !open_) {
    open_ = true;
    next_trial_ = Clock::now() + open_for_;
  }
}

std::string Breaker::state() const {
  std::lock_guard lock(mutex_);  // for next_trial_
  if (!open_) return "closed";
  return Clock::now() < next_trial_ ? "open" : "half-open";
}

bool Breaker::closed() const { return !open_.load(std::memory_order_acquire); }

sdk::Error Breaker::refusal(const std::string& node) const {
  return sdk::Error{sdk::ErrorCode::unavailable,
                    "Redis node " + node + " failed " + std::to_string(in_a_row_.load()) +
                        " times in a row: its circuit is open, calls to it fail at once (a trial call every " +
                        std::to_string(open_for_.count()) + " ms)",
                    {},
                    true};
}

}  // namespace strata::redis
