#pragma once
// Backup and restore across every role instance of a host.
//
// A backup is one directory named by its UTC start time
// (strata-backup-20261125T033900Z), a sub-directory per role instance
// ("storage", "cache.default", "audit", …) written by that instance's
// plugin, and manifest.json: Strata's version, a fingerprint of the config
// (secrets redacted before hashing), each plugin's name, version and schema
// version, start and end times, and the size and SHA-256 of every file. The
// manifest carries a checksum of itself, so a damaged manifest is refused,
// and, when the host has a cipher, an HMAC under a key only the cipher opens
// (backup_authentication.hpp), so a forged one is too: a host with a cipher
// restores only manifests it can authenticate.
// With encryption, every file is sealed by the cipher role (associated data:
// its path in the backup) and the manifest names the key.
//
// Restore checks everything before it writes anything: the manifest, every
// checksum, that each instance exists in the config with the same plugin,
// and that the targets are empty unless forced. A failure midway names what
// was restored, what failed and what was not attempted.
//
// Backup and restore are Services members (Services::backup, ::restore), so
// they are always audited; verify_backup needs no host.

#include "strata/export.hpp"
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "strata/host.hpp"
#include "strata/services/audit_log.hpp"

namespace strata {

struct BackupOptions {
  std::filesystem::path out_dir = ".";  ///< the backup directory is created inside
  bool encrypt = false;                 ///< seal every file with the cipher role
};

/// One instance in a backup or a restore.
struct InstanceBackup {
  std::string role;      ///< "storage", "cache", "audit"
  std::string instance;  ///< "default", "session", …
  std::string plugin;
  std::string plugin_version;
  std::string schema_version;
  std::string dir;                               ///< sub-directory in the backup
  std::map<std::string, std::uint64_t> counts;   ///< records per table, collection or keyspace
  std::vector<std::string> files;
};

struct BackupResult {
  std::filesystem::path dir;                 ///< the backup directory
  std::vector<InstanceBackup> instances;     ///< backed up
  std::vector<std::string> skipped;          ///< "cipher: …" — what was not, and why
  /// The key backup taken with it (strata-keys-<stamp> beside it): users'
  /// data keys, kept apart and for a short time (core/README.md, "Erasure").
  /// None without a cipher or a storage with data keys.
  std::optional<std::filesystem::path> key_backup;
  std::uint64_t data_keys = 0;                            ///< records in it, tombstones included
  std::vector<std::filesystem::path> key_backups_deleted;  ///< older than [erasure] key_backup_retention_days
};

/// What a restore did with the key backups beside the data backup.
struct DataKeyRestore {
  std::vector<std::filesystem::path> sources;  ///< the key backups read
  std::uint64_t restored = 0;                  ///< live keys stored
  std::uint64_t present = 0;                   ///< live keys the storage already had
  std::uint64_t refused_destroyed = 0;         ///< refused: destroyed (an erased user's); they stay destroyed
  std::uint64_t tombstones = 0;                ///< destroyed ids recorded
};

struct RestoreResult {
  std::vector<InstanceBackup> restored;  ///< with the counts the plugins reported
  std::optional<DataKeyRestore> data_keys;  ///< none: no key backup beside it, or nothing to hold data keys
};

/// What verify_backup found.
struct VerifiedBackup {
  std::vector<InstanceBackup> instances;  ///< what the manifest lists
  bool authenticated = false;             ///< the manifest's MAC was checked with the cipher, and matched
  bool authenticable = false;             ///< the manifest carries a MAC (it was taken with a cipher)
};

/// Checks a backup without restoring: manifest checksum, every file's size
/// and SHA-256, no file missing or unlisted; with `cipher`, also the
/// manifest's authentication (see Services::restore for the rule). Without
/// one only integrity is checked: a forger can recompute checksums.
STRATA_API sdk::Result<VerifiedBackup> verify_backup(const std::filesystem::path& dir, sdk::Cipher* cipher = nullptr);

/// What to tell an operator when a restore on `host`'s data directory
/// started and did not finish (killed, crashed, an instance failed); nullopt
/// otherwise. `strata check` reports it.
STRATA_API std::optional<std::string> unfinished_restore(const Host& host);


}  // namespace strata
