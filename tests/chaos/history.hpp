#pragma once
// What a chaos round's clients saw, recorded as they went: every send tried,
// its outcome (acknowledged with an id, or unknown: an error, or a process
// killed before it returned), every read by sequence, and any violation a
// client noticed itself (a revoked session valid again).
//
// Clients in the checking process record into memory. Clients in worker
// processes, which the round SIGKILLs, also write each record as one line
// to a journal file the moment it happens (write(2), no buffering: a killed
// process loses nothing it wrote); read_journals() rebuilds the history
// from all of them. A send journaled as tried but never as answered is
// outcome unknown, exactly what its client could tell.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "list_append_check.hpp"
#include "strata/sdk/uuid.hpp"

namespace strata::chaos {

/// A backup a client took and verified: what it counted, from when.
struct TakenBackup {
  std::string dir;
  std::int64_t invoked_ns = 0;                  ///< the backup call began (now_ns)
  std::map<std::string, std::uint64_t> counts;  ///< the storage's records per table, as the manifest says
};

/// Steady-clock nanoseconds: comparable across the processes of one machine (CLOCK_MONOTONIC).
std::int64_t now_ns();

class History {
 public:
  History() = default;
  /// A history that also journals to `path` (a worker's).
  explicit History(const std::filesystem::path& journal);
  ~History();
  History(const History&) = delete;
  History& operator=(const History&) = delete;

  /// A send is about to be made.
  void sending(const ListOp& op);
  /// Its answer: the stored message's id, or none (an error: outcome unknown).
  void sent(ListOp op, const std::optional<sdk::Uuid>& id);
  /// A read by sequence returned.
  void read(ListOp op);
  /// A client saw a promise broken.
  void violation(const std::string& what);
  /// A backup returned and verified.
  void backup(const TakenBackup& taken);
  /// A worker's count of disk calls failed (--disk), as it ends.
  void disk_faults_injected(std::uint64_t n);

  /// Rebuilds one history from every journal `history-*.log` in `dir`.
  static void read_journals(const std::filesystem::path& dir, History& into);

  std::mutex mutex;
  std::map<std::string, sdk::Uuid> acked;  ///< text -> id of a send that returned ok
  std::set<std::string> unknown;           ///< texts of sends whose outcome is unknown
  std::set<std::string> tried;             ///< every text any client tried to send
  std::vector<std::string> violations;     ///< seen while running
  std::vector<ListOp> list_ops;            ///< sends and reads by sequence, for the isolation check
  std::vector<TakenBackup> backups;        ///< verified, for the restore check
  std::atomic<int> ops{0}, failed_ops{0};
  std::atomic<std::uint64_t> disk_faults{0};  ///< reported by the workers that were not killed

 private:
  void add(ListOp op);  // under mutex
  void journal(const std::string& line);
  int journal_fd_ = -1;
};

}  // namespace strata::chaos
