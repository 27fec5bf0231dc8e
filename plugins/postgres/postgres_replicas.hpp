#pragma once
// Read replicas with read-your-writes, exact by WAL position.
//
// After each write this process commits, the primary's WAL position
// (pg_current_wal_lsn()) is remembered. A read may go to a replica only if
// the replica has replayed at least that position (pg_last_wal_replay_lsn()),
// so a process never reads older data than it wrote: not a lag threshold,
// the exact position. A replica's replayed position is cached and asked
// again only when a read needs more than the cache says, so reads in a
// process that wrote nothing since cost no extra round trip.
//
// A replica that fails (unreachable, or no longer a standby) is skipped and
// probed again after `replica_retry` (its reads go to the primary meanwhile).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "postgres_pool.hpp"
#include "strata/sdk/audit.hpp"
#include "strata/sdk/log.hpp"

namespace strata::postgres {

/// A WAL position (PostgreSQL's pg_lsn, "16/B374D848") as one number.
using Lsn = std::uint64_t;
/// Parses "X/Y"; 0 for anything else (NULL, empty).
Lsn parse_lsn(const char* text);

/// One standby reads may go to.
struct Replica {
  Replica(std::string name, Settings settings) : name(std::move(name)), pool(std::move(settings)) {}
  std::string name;  ///< its conninfo without secrets, for logs and metric labels
  Pool pool;
  std::atomic<Lsn> replayed{0};                  ///< the highest replay position seen
  std::atomic<std::int64_t> refreshed_ns{0};     ///< when `replayed` was last asked (steady clock)
  std::atomic<std::int64_t> down_until_ns{0};    ///< 0: in use; else skipped until then
  std::atomic<std::uint64_t> reads{0};           ///< reads it served
};

class ReplicaSet {
 public:
  /// One replica per conninfo, each with a pool set up like the primary's.
  ReplicaSet(Pool& primary, const std::vector<std::string>& conninfos, std::chrono::milliseconds retry,
             sdk::Logger log);

  bool empty() const noexcept { return replicas_.empty(); }
  /// Records a commit of this process: reads must now see `lsn` or later.
  void wrote(Lsn lsn) noexcept;
  /// The primary's position after a write on `c` (one round trip; only with replicas).
  void note_write(Connection& c) noexcept;
  /// A replica that has replayed everything this process wrote, or null
  /// (read from the primary). Round-robin among those that qualify.
  Replica* pick();
  /// A read on `replica` failed for lack of the server: skip it for a while.
  void failed(Replica& replica, const sdk::Error& error);
  /// Per replica: lag behind the primary in bytes and seconds, whether in
  /// use, reads served; and reads that went to the primary because no replica
  /// had caught up. Asks each server (for `strata check` and metrics).
  std::vector<sdk::Metric> gauges();

 private:
  bool refresh(Replica& replica);  // asks its replay position; false if it failed
  sdk::Result<Lsn> primary_position();

  Pool& primary_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  std::chrono::milliseconds retry_;
  sdk::Logger log_;
  std::atomic<Lsn> written_{0};
  std::atomic<bool> position_unknown_{false};  // a write's position could not be read
  std::atomic<std::size_t> next_{0};
  std::atomic<std::uint64_t> primary_reads_{0};
  std::atomic<std::uint64_t> position_checks_{0};  // replay positions asked (the read-your-writes cost)
};

}  // namespace strata::postgres
