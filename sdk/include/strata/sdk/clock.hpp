#pragma once
// The time source the host gives plugins, so tests can move time.

#include <atomic>
#include <chrono>

#include "strata/sdk/timestamp.hpp"

namespace strata::sdk {

/// A source of the current time. Plugins that keep time (TTLs, expiry) ask
/// the clock in their PluginContext instead of the system, so that a test can
/// hand them a ManualClock.
class Clock {
 public:
  virtual ~Clock() = default;
  /// The current time.
  virtual Timestamp now() const noexcept = 0;
};

/// The wall clock.
class SystemClock final : public Clock {
 public:
  Timestamp now() const noexcept override { return Timestamp::now(); }
};

/// A clock that only moves when told to; thread-safe.
class ManualClock final : public Clock {
 public:
  /// Starts at `start` (defaults to the wall-clock time of construction).
  explicit ManualClock(Timestamp start = Timestamp::now()) noexcept : micros_(start.micros()) {}

  Timestamp now() const noexcept override { return Timestamp::from_micros(micros_.load()); }

  /// Moves the clock forward (or back, for a negative duration).
  template <class Rep, class Period>
  void advance(std::chrono::duration<Rep, Period> d) noexcept {
    micros_ += std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  }

 private:
  std::atomic<std::int64_t> micros_;
};

}  // namespace strata::sdk
