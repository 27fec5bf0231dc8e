#include "clock_jumps.hpp"

#include <chrono>
#include <random>

#include <fmt/format.h>

namespace strata::chaos {

std::vector<ClockJump> clock_schedule(std::uint64_t seed) {
  std::mt19937_64 draw(seed ^ 0x636c6f636bULL);
  auto between = [&](std::int64_t low, std::int64_t high) {
    return std::uniform_int_distribution<std::int64_t>(low, high)(draw);
  };
  constexpr std::int64_t second = 1'000'000, minute = 60 * second, day = 24 * 60 * minute;
  std::vector<ClockJump> schedule(static_cast<std::size_t>(between(0, 4)));
  for (auto& jump : schedule) {
    jump.after_ms = static_cast<int>(between(20, 300));
    jump.by_us = between(0, 2) == 0 ? -between(second, 10 * minute) : between(minute, 2 * day);
  }
  return schedule;
}

std::string describe(const std::vector<ClockJump>& schedule) {
  if (schedule.empty()) return "none";
  std::string out;
  for (const auto& jump : schedule) {
    auto s = (jump.by_us < 0 ? -jump.by_us : jump.by_us) / 1'000'000;
    if (!out.empty()) out += ", ";
    out += jump.by_us < 0 ? '-' : '+';
    if (s >= 3600) out += fmt::format("{}h{:02}m", s / 3600, s / 60 % 60);
    else if (s >= 60) out += fmt::format("{}m{:02}s", s / 60, s % 60);
    else out += fmt::format("{}s", s);
  }
  return out;
}

ClockJumper::ClockJumper(JumpingClock& clock, std::vector<ClockJump> schedule)
    : thread_([this, &clock, schedule = std::move(schedule)] {
        for (const auto& jump : schedule) {
          // Sleeps in short steps so that the round never waits on the schedule.
          for (int waited = 0; waited < jump.after_ms; waited += 5) {
            if (stop_) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
          }
          clock.jump(jump.by_us);
        }
      }) {}

ClockJumper::~ClockJumper() {
  stop_ = true;
  thread_.join();
}

}  // namespace strata::chaos
