#pragma once
// Fault injection for testers: `plugin = "faulty"` in any role table wraps
// the instance of another plugin (`wraps`, its keys in the `wrapped`
// sub-table) and makes its calls slow, fail, hang, half-apply a batch, or
// apply and then report failure (the outcome-unknown case), by rules with a
// probability and a seed. The rules come from the config and can be replaced
// while the host runs: Host::faults(role, instance)->set(...).
//
//   [storage]
//   plugin = "faulty"
//   wraps = "postgres"
//   seed = 7
//   [storage.wrapped]
//   dbname = "app"
//   [[storage.faults]]
//   method = "insert_messages"   # a method of the role, or "*"
//   probability = 0.2
//   error = "unavailable"
//
// See core/README.md, "Fault injection".

#include "strata/export.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "strata/sdk/error.hpp"

namespace strata {

/// One rule: which calls it hits, how often, and what it does to them.
struct FaultRule {
  std::string method = "*";                       ///< a method of the role ("get_user"), or "*" for all
  double probability = 1.0;                       ///< share of matching calls it hits, 0 to 1
  std::chrono::milliseconds latency{0};           ///< added before the call (alone: a slow backend)
  /// The error a hit call returns; none with only `latency`: the call then succeeds, late.
  std::optional<sdk::ErrorCode> error;
  /// Instead of calling the plugin, wait this long and fail with `timeout` (a backend that hangs
  /// until the caller's deadline).
  std::chrono::milliseconds hang{0};
  /// Call the plugin, then report `error` anyway: applied but reported failed (outcome unknown).
  bool after_commit = false;
  /// For a batch method (its first argument a list: insert_messages, append, set_many, …): pass
  /// this share of the batch, then report `error`. Unset: all or nothing.
  std::optional<double> partial;
  /// Run first, in the calling thread, whenever the rule hits (set from code only, not from the config).
  /// A race test's barrier: the call waits inside it while the test makes something happen elsewhere,
  /// then goes on as the rest of the rule says (no other field set: the plugin is called as usual).
  std::function<void(std::string_view method)> on_hit;
};

/// The rules of one faulty instance; safe to change from any thread while calls run.
class STRATA_API FaultControl {
 public:
  /// What a call is to suffer (decided by FaultControl::decide).
  struct Decision {
    FaultRule rule;
  };

  FaultControl(std::vector<FaultRule> rules, std::uint64_t seed);

  /// Replaces the rules (the random sequence goes on from where it is).
  void set(std::vector<FaultRule> rules);
  /// No fault from now on.
  void clear() { set({}); }
  std::vector<FaultRule> rules() const;
  /// Restarts the random sequence: the same seed and the same calls in the same order hit the same calls.
  void reseed(std::uint64_t seed);
  /// Calls a rule hit so far.
  std::uint64_t injected() const;

  /// The first rule matching `method` that hits this call, if any (one draw per matching rule).
  std::optional<Decision> decide(std::string_view method);

 private:
  mutable std::mutex mutex_;
  std::vector<FaultRule> rules_;
  std::mt19937_64 random_;
  std::uint64_t injected_ = 0;
};

}  // namespace strata
