#pragma once
// Key backups: users' data keys, backed up apart from the data
// (core/README.md, "Erasure"). A data backup holds ciphertexts and no data
// key (every storage keeps them out of its own backup), so it yields nothing
// without a key backup; key backups are kept a short time
// ([erasure] key_backup_retention_days) and the ones this host wrote are
// scrubbed when a user is erased. That bounds how long any backup can still
// give back an erased user's messages.
//
// A key backup is a directory beside the data backup it was taken with,
// strata-keys-<UTC stamp>, holding keys.json: every data key record (live
// keys still wrapped by the cipher, tombstones as id, user and times),
// authenticated like a backup manifest (backup_authentication.hpp), so a
// forged or edited one is refused. The host lists the key backups it wrote
// in its data directory (key-backups.list) so that an erase finds them all.

#include <filesystem>
#include <string>
#include <vector>

#include "strata/export.hpp"
#include "strata/sdk/sdk.hpp"
#include "strata/services/backup.hpp"
#include "strata/settings.hpp"

namespace strata::detail {

inline constexpr std::string_view key_backup_prefix = "strata-keys-";

/// Where the host lists the key backups it wrote (ServiceSettings::state_dir,
/// beside the restore marker); empty when the host has no state directory.
inline std::filesystem::path key_backup_list(const ServiceSettings& settings) {
  auto dir = settings.state_dir();
  return dir.empty() ? std::filesystem::path() : dir / "key-backups.list";
}

/// A key backup written: its directory and how many records it holds.
struct WrittenKeyBackup {
  std::filesystem::path dir;
  std::uint64_t records = 0;
};

/// Writes every data key record of `storage` to out_dir/strata-keys-<stamp>
/// and adds that directory to `ledger_file` (the host's list).
STRATA_API sdk::Result<WrittenKeyBackup> write_key_backup(sdk::Storage& storage, sdk::Cipher& cipher,
                                                               const std::filesystem::path& out_dir,
                                                               const std::string& stamp, sdk::Timestamp now,
                                                               const std::filesystem::path& ledger_file);

/// The records of a key backup, its authentication checked with `cipher`.
STRATA_API sdk::Result<std::vector<sdk::DataKey>> read_key_backup(const std::filesystem::path& dir,
                                                                  sdk::Cipher& cipher);

/// The key backups directly inside `dir`, oldest first.
STRATA_API std::vector<std::filesystem::path> key_backups_in(const std::filesystem::path& dir);

/// The key backups listed in `ledger_file` that still exist.
STRATA_API std::vector<std::filesystem::path> listed_key_backups(const std::filesystem::path& ledger_file);

/// Deletes the key backups directly inside `dir` taken before `cutoff`; the ones deleted.
STRATA_API sdk::Result<std::vector<std::filesystem::path>> prune_key_backups(const std::filesystem::path& dir,
                                                                            sdk::Timestamp cutoff);

/// Rewrites a key backup with every live key of `user` replaced by a
/// tombstone (destroyed at `at`), authenticated again. How many it replaced.
STRATA_API sdk::Result<std::size_t> scrub_key_backup(const std::filesystem::path& dir, const sdk::Uuid& user,
                                                     sdk::Cipher& cipher, sdk::Timestamp at);

/// Stores `records` into `storage`: tombstones first (so a key destroyed
/// anywhere in what is given never comes back), then the live keys; adds
/// to `counts`.
STRATA_API sdk::Result<void> restore_data_keys(sdk::Storage& storage, const std::vector<sdk::DataKey>& records,
                                               DataKeyRestore& counts);

}  // namespace strata::detail
