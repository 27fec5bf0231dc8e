#pragma once
// Disk errors inside a chaos round, from libfiu: while they are on, the
// process's write, pwrite, writev and ftruncate calls fail with EIO or
// ENOSPC, are cut short, and fsync and fdatasync fail with EIO, each at the
// round's seeded rate. That hits everything Strata keeps on disk: the SQLite
// database and its WAL, the audit file, the spool, the ledger, the pause
// markers. The harness's own journal is spared (HarnessIo).
//
// libfiu's wrappers of the POSIX calls live in its preload library, which
// must be in the process from exec: load_disk_wrappers() re-executes the
// program with it in LD_PRELOAD (worker processes inherit it), and the
// decisions come from a callback here (fiu_enable_external), so rates,
// seed and the harness's exemption stay in this process's hands.

#include <cstdint>
#include <string>

namespace strata::chaos {

/// Shares of calls failed while the faults are on.
struct DiskFaults {
  double write = 0;        ///< write, pwrite, writev, ftruncate: -1 with EIO or ENOSPC
  double short_write = 0;  ///< write, pwrite: fewer bytes written than asked
  double sync = 0;         ///< fsync, fdatasync: -1 with EIO
};

/// A round's rates, drawn from its seed.
DiskFaults disk_schedule(std::uint64_t seed);
std::string describe(const DiskFaults& faults);

/// Returns "" when libfiu's POSIX wrappers are loaded; otherwise re-executes
/// this program (argv as given) with them preloaded, returning only the
/// reason if that failed.
std::string load_disk_wrappers(char** argv);

/// From now on this process's disk calls fail at `rates` (draws seeded by
/// `seed`), until disk_faults_off().
void disk_faults_on(const DiskFaults& rates, std::uint64_t seed);
void disk_faults_off();
/// Calls failed or cut short so far.
std::uint64_t disk_faults_injected();

/// While one lives, this thread's disk calls are spared (the harness's own files).
class HarnessIo {
 public:
  HarnessIo();
  ~HarnessIo();
  HarnessIo(const HarnessIo&) = delete;
  HarnessIo& operator=(const HarnessIo&) = delete;
};

}  // namespace strata::chaos
