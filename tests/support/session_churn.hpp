#pragma once
// Session churn through a failover, for the Redis Sentinel and Cluster tests:
// 8 threads create a session token and revoke it, over and over, while a
// disruption moves a primary; then every acknowledged revoke is checked.

#include <strata/sdk/sdk.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

namespace strata::test {

struct ChurnOutcome {
  std::size_t ok = 0, failed = 0;
  double longest_gap_s = 0;    // longest time without any acknowledgement
  double failing_window_s = 0;  // from the first failed call to the last
  std::vector<std::string> revoked;  // tokens whose revoke was acknowledged
  std::vector<std::string> other_errors;  // anything but unavailable / timeout
};

/// Runs the churn for a second, calls `disrupt`, and goes on until calls have
/// gone through for 2 s since the last pause of half a second (a minute at most).
/// `read_back`: each created token is also looked up before its revoke, and
/// must be found (an error is a failed call; "not there" is reported).
inline ChurnOutcome sessions_through(sdk::Cache& cache, const std::function<void()>& disrupt, bool read_back = false) {
  using Clock = std::chrono::steady_clock;
  using namespace std::chrono_literals;
  ChurnOutcome out;
  std::mutex mutex;
  std::vector<Clock::time_point> ok_at;
  Clock::time_point first_failure{}, last_failure{};
  std::atomic<bool> stop{false};
  {
    std::vector<std::jthread> threads;
    // Declared after the threads, so destroyed (stop set) before they are
    // joined: a failed REQUIRE in `disrupt` must not leave them spinning.
    struct StopOnExit {
      std::atomic<bool>& stop;
      ~StopOnExit() { stop = true; }
    } stop_on_exit{stop};
    for (int t = 0; t < 8; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; !stop; ++i) {
          std::string token = "token:" + std::to_string(t) + ":" + std::to_string(i);
          auto created = cache.set(token, sdk::as_bytes(std::string("session")), std::chrono::minutes(5));
          if (created && read_back) {
            auto found = cache.exists(token);
            if (!found) {
              created = sdk::fail(found.error());
            } else if (!*found) {
              std::lock_guard lock(mutex);
              out.other_errors.push_back("the acknowledged session " + token + " was not found by the next read");
            }
          }
          auto revoked = created ? cache.remove(token) : sdk::Result<bool>(sdk::fail(created.error()));
          std::lock_guard lock(mutex);
          if (created && revoked) {
            ++out.ok;
            ok_at.push_back(Clock::now());
            out.revoked.push_back(token);
          } else {
            if (out.failed++ == 0) first_failure = Clock::now();
            last_failure = Clock::now();
            const auto& e = created ? revoked.error() : created.error();
            if (e.code != sdk::ErrorCode::unavailable && e.code != sdk::ErrorCode::timeout)
              out.other_errors.push_back(e.describe());
          }
        }
      });
    std::this_thread::sleep_for(1s);
    disrupt();
    for (auto give_up = Clock::now() + 60s; Clock::now() < give_up;) {
      std::this_thread::sleep_for(100ms);
      std::lock_guard lock(mutex);
      if (ok_at.empty() || Clock::now() - ok_at.back() > 200ms) continue;
      auto resumed = std::adjacent_find(ok_at.rbegin(), ok_at.rend(),
                                        [](auto later, auto earlier) { return later - earlier > 500ms; });
      if (resumed == ok_at.rend() || Clock::now() - *resumed > 2s) break;
    }
    stop = true;
  }
  out.failing_window_s = std::chrono::duration<double>(last_failure - first_failure).count();
  std::sort(ok_at.begin(), ok_at.end());
  for (std::size_t i = 1; i < ok_at.size(); ++i)
    out.longest_gap_s = std::max(out.longest_gap_s, std::chrono::duration<double>(ok_at[i] - ok_at[i - 1]).count());
  return out;
}

/// How many acknowledged revokes came back: tokens that validate again after the failover.
inline std::size_t resurrected(sdk::Cache& cache, const ChurnOutcome& outcome) {
  std::size_t count = 0;
  for (const auto& token : outcome.revoked) {
    auto found = cache.get(token);
    REQUIRE(found);
    count += found->has_value() ? 1 : 0;
  }
  return count;
}

/// Prints what the churn saw under `what` (the failover's name), then checks
/// it: only unavailable/timeout failures, real traffic, and no acknowledged
/// revoke come back on the new primary.
inline void check_no_revoke_lost(sdk::Cache& cache, const ChurnOutcome& outcome, const std::string& what) {
  std::printf("%s under 8 threads: %zu create+revoke pairs acknowledged, %zu failed (unavailable/timeout) "
              "within %.2f s, longest time without any acknowledgement %.2f s\n",
              what.c_str(), outcome.ok, outcome.failed, outcome.failing_window_s, outcome.longest_gap_s);
  std::fflush(stdout);
  INFO((outcome.other_errors.empty() ? std::string() : outcome.other_errors.front()));
  CHECK(outcome.other_errors.empty());
  CHECK(outcome.ok > 100);
  CHECK(resurrected(cache, outcome) == 0);
}

}  // namespace strata::test
