#pragma once
// The backup format across a host's instances (backup.cpp): what
// Services::backup and Services::restore (services_backup.cpp) write and
// read, around their own steps (users' data keys, sessions, audit events).

#include <filesystem>

#include "strata/host.hpp"
#include "strata/services/backup.hpp"

namespace strata::detail {

/// Writes a backup of every instance of `host` into a new directory under `options.out_dir`.
sdk::Result<BackupResult> write_backup(const Host& host, const BackupOptions& options);

/// Restores the backup in `dir` into every instance of `host`. `state_dir`:
/// where the restore-in-progress marker goes (restore_state.hpp); the caller
/// holds the restore lock there.
sdk::Result<RestoreResult> restore_backup(const Host& host, const std::filesystem::path& dir, bool force,
                                          const std::filesystem::path& state_dir);

}  // namespace strata::detail
