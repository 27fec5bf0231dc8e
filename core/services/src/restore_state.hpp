#pragma once
// What a restore keeps beside the host's data while it runs (restore_state.cpp):
//   restore.lock              an flock held for the whole restore: a second
//                             restore on the same data directory is refused
//                             at once, so "the target is empty" is checked
//                             and acted on by one restore at a time;
//   restore-in-progress.json  written (fsync'd) before the first instance is
//                             replaced, removed once the restore and its audit
//                             event are done. Left behind, it says a restore
//                             was cut off: `strata check` reports it, and
//                             restoring the same backup again completes it
//                             without --force.
// The directory is the one the audit spool lives in: the data directory,
// unless [audit] spool_path moves it.

#include <filesystem>
#include <optional>
#include <string>

#include "strata/export.hpp"  // STRATA_API here: exported for the project's tests only
#include "strata/sdk/error.hpp"
#include "strata/sdk/timestamp.hpp"

namespace strata::detail {

/// An exclusive, non-blocking flock on <dir>/restore.lock; released when destroyed.
class STRATA_API RestoreLock {
 public:
  /// `conflict` when another process (or this one) holds it.
  static sdk::Result<RestoreLock> take(const std::filesystem::path& dir);
  RestoreLock(RestoreLock&& other) noexcept;
  RestoreLock& operator=(RestoreLock&&) = delete;
  ~RestoreLock();

 private:
  explicit RestoreLock(int fd) : fd_(fd) {}
  int fd_;
};

/// A restore that started and has not finished.
struct RestoreInProgress {
  std::string backup_dir;       ///< the backup being restored, as given
  std::string manifest_sha256;  ///< which backup, whatever its path
  sdk::Timestamp started_at;
};

/// The marker in `dir`, if a restore left one.
STRATA_API std::optional<RestoreInProgress> read_restore_marker(const std::filesystem::path& dir);
/// Writes the marker, fsync'd (owner-only).
STRATA_API sdk::Result<void> write_restore_marker(const std::filesystem::path& dir, const RestoreInProgress& restore);
/// Removes the marker: the restore is complete.
STRATA_API void remove_restore_marker(const std::filesystem::path& dir);

}  // namespace strata::detail
