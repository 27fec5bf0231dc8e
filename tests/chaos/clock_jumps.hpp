#pragma once
// Clock jumps for the chaos rounds: the wall clock the host is given steps
// forward (a suspended VM waking, a clock set hours ahead) and back (an NTP
// step) at seeded moments while the clients run. Intervals the services
// wait on must not follow it; times they record may.

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "strata/sdk/clock.hpp"

namespace strata::chaos {

/// The system clock plus an offset that jumps; thread-safe.
class JumpingClock final : public sdk::Clock {
 public:
  sdk::Timestamp now() const noexcept override {
    return sdk::Timestamp::from_micros(sdk::Timestamp::now().micros() + offset_us_.load());
  }
  void jump(std::int64_t micros) noexcept { offset_us_ += micros; }

 private:
  std::atomic<std::int64_t> offset_us_{0};
};

/// One step of the schedule: after `after_ms` (since the previous one), move by `by_us`.
struct ClockJump {
  int after_ms = 0;
  std::int64_t by_us = 0;
};

/// The schedule of round `seed`: none to four jumps, forward by a minute to
/// two days or back by a second to ten minutes.
std::vector<ClockJump> clock_schedule(std::uint64_t seed);

/// "+3h12m, -40s" (or "none").
std::string describe(const std::vector<ClockJump>& schedule);

/// Plays a schedule on a clock from a thread of its own until it ends or the
/// object goes (the round's clients finished first).
class ClockJumper {
 public:
  ClockJumper(JumpingClock& clock, std::vector<ClockJump> schedule);
  ~ClockJumper();
  ClockJumper(const ClockJumper&) = delete;
  ClockJumper& operator=(const ClockJumper&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace strata::chaos
