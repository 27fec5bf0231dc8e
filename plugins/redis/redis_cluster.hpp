#pragma once
// Cluster mode: keys are sharded over 16,384 hash slots, each served by one
// primary. The slot map is read with CLUSTER SLOTS from the seeds (then from
// any node it names), kept, and read again when a node answers MOVED, a
// connection to a node fails, or a slot has no known owner. Each node has its
// own connection pool behind its own circuit breaker, so a dead shard fails
// fast and leaves the calls to the others alone.

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "redis_pool.hpp"
#include "strata/sdk/sdk.hpp"

namespace strata::redis {

inline constexpr int slot_count = 16384;

/// The hash slot of a key: CRC16 (XMODEM) mod 16384 of the key, or of its
/// hash tag, the text between the first '{' and the next '}' when not empty
/// (so "{user1}:a" and "{user1}:b" share a slot).
int key_slot(std::string_view key);

/// Positions in a call's key list; each group's keys may share one
/// multi-key command (one slot in cluster mode, all keys otherwise).
using KeyGroups = std::vector<std::vector<std::size_t>>;

/// A multi-key call in two halves, so that every node can be sent its share
/// before any reply is read: the commands for some groups of the keys, and
/// what to do with their replies (in the same order).
struct GroupCall {
  std::function<std::vector<Command>(const KeyGroups&)> commands;
  std::function<sdk::Result<void>(const KeyGroups&, std::vector<Reply>&)> take;
  /// Both halves on one connection (a retry, or the one server of standalone mode).
  sdk::Result<void> run(Connection& c, const KeyGroups& groups) const;
};

class Cluster {
 public:

  Cluster(const Settings& settings, sdk::Logger log);

  /// Runs `op` on the primary of `slot`: MOVED updates the map and goes
  /// there, ASK goes there once after ASKING, a broken connection is retried
  /// (repeatable calls only) after re-reading the map, all within
  /// command_timeout. A node whose circuit is open fails the call at once
  /// unless the map names another owner.
  sdk::Result<void> run(int slot, Repeatable repeatable, const Op<void>& op);
  /// One command on the primary of `slot`, as run() (auto-pipelined with
  /// other callers' commands to that node, if on).
  sdk::Result<Reply> run_command(int slot, Repeatable repeatable, const Command& command);
  /// Sends each primary that owns some of `keys` its share, grouped by slot,
  /// then reads the replies: one round trip for all nodes together. A node
  /// that redirects or fails has its groups retried slot by slot as in run().
  sdk::Result<void> run_grouped(std::span<const std::string> keys, Repeatable repeatable, const GroupCall& call);
  /// Runs `op` on every primary in turn (SCAN, FLUSHDB, PING); an error names the node.
  sdk::Result<void> each_primary(Repeatable repeatable, const Op<void>& op);
  /// The topology for `strata check`: each primary with its slots, replicas and circuit.
  std::vector<sdk::Metric> gauges();

 private:
  using Clock = Pool::Clock;
  struct Node {
    Node(Endpoint where, const Settings& settings, const sdk::Logger& log) : at(where), pool(settings, log, where) {}
    Endpoint at;
    Pool pool;
    std::vector<Endpoint> replicas;  // as the last map said
  };

  sdk::Result<void> run_until(int slot, Repeatable repeatable, const Op<void>& op, Clock::time_point deadline);
  // The routing and retry loop of run_until() and run_command(): `try_on(node,
  // asking)` is one try on the node that should serve `slot` (after ASKING
  // when `asking`), followed by redirects and retries as run() describes.
  template <class T, class TryOn>
  sdk::Result<T> route(int slot, Repeatable repeatable, Clock::time_point deadline, const TryOn& try_on);
  Node& node(const Endpoint& at);
  Node* owner(int slot);
  std::vector<Node*> primaries();
  /// How many slots `n` serves (null: how many have no known primary).
  std::size_t slots_of(const Node* n) const;
  /// Reads the slot map again; `forced` (MOVED) skips the at-most-every-100-ms limit.
  sdk::Result<void> refresh(bool forced = false);

  const Settings& settings_;
  sdk::Logger log_;
  std::mutex refresh_mutex_;  // one refresh at a time; the others use its result
  Clock::time_point refreshed_at_{};
  std::shared_mutex mutex_;                   // guards nodes_ and their replicas
  std::vector<std::unique_ptr<Node>> nodes_;  // never removed, so pointers stay valid
  // slot -> its primary (null: unknown). Read on every call, by every thread:
  // atomics, so routing a call takes no lock.
  std::vector<std::atomic<Node*>> slots_;
};

}  // namespace strata::redis
