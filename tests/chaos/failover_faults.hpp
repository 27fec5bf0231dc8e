#pragma once
// Failovers for --failover and --sentinel rounds, on the suite's throwaway
// server groups (started by ctest's fixtures): the pg_auto_failover
// formation (tools/pg-formation.sh: a monitor, a primary and a synchronous
// secondary) under the storage, and the Redis Sentinel group
// (tools/redis-sentinel.sh: a primary, two replicas, three sentinels) under
// the cache. At a seeded moment while the clients run, a group fails over:
// planned (pg_autoctl perform failover, SENTINEL FAILOVER) or by its
// primary's machine dying (SIGKILL; the monitor or the sentinels promote a
// replica). After the round the group is healed, so the next round has a
// replica to fail over to.

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

namespace strata::chaos {

struct Failover {
  enum class Kind { planned, primary_killed } kind = Kind::planned;
  int after_ms = 0;  ///< since the clients started
};

/// The failover of round `seed` for one group (`salt` tells the groups apart).
Failover failover_schedule(std::uint64_t seed, std::uint64_t salt);
/// "planned failover after 300 ms" or "primary killed after 300 ms".
std::string describe(const Failover& failover);

/// What a shell command line did.
struct GroupCommand {
  bool ok = false;  ///< it exited 0
  std::string out;  ///< stdout and stderr, trailing newlines cut
};
/// Runs a shell command line (strata-chaos is no Catch program: tests/support/run_command.hpp's REQUIRE is
/// not for it).
GroupCommand shell(const std::string& line);
/// Runs `tools/<script> <command>`.
GroupCommand group_command(const std::string& script, const std::string& command);

/// One group's failover during a round: the script's failover, kill-primary and heal commands.
class GroupFailover {
 public:
  explicit GroupFailover(std::string script) : script_(std::move(script)) {}
  ~GroupFailover() { (void)lift(); }
  GroupFailover(const GroupFailover&) = delete;
  GroupFailover& operator=(const GroupFailover&) = delete;

  /// Fails the group over from a thread of its own.
  void play(Failover failover);
  /// Waits for the failover to end and the group to be whole again; "" or what failed.
  std::string lift();
  /// Whether it began before lift() (not when the clients were done first).
  bool happened() const { return happened_; }

 private:
  std::string script_, error_;
  std::atomic<bool> stop_{false}, happened_{false};
  std::thread player_;
};

/// A database of the round's own on the formation's primary, dropped (on
/// whichever node is primary then) when it goes.
class FormationDatabase {
 public:
  explicit FormationDatabase(std::string name);
  ~FormationDatabase();
  FormationDatabase(const FormationDatabase&) = delete;
  FormationDatabase& operator=(const FormationDatabase&) = delete;

  const std::string& error() const { return error_; }
  const std::string& name() const { return name_; }
  /// The formation's multi-host URI for this database (target_session_attrs=read-write).
  const std::string& conninfo() const { return conninfo_; }

 private:
  std::string name_, error_, conninfo_;

 public:
  bool keep = false;  ///< not dropped: a failed round's, for a look afterwards
};

}  // namespace strata::chaos
