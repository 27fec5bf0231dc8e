#pragma once
// Settings of the services, read from the config tables they register with
// the host (core/services/src/service_tables.cpp): [users], [sessions],
// [keys], [erasure], [group_commit], [delivery], [maintenance] and the
// pipeline keys of [audit]. Every key has a default; unknown keys and wrong
// types are errors like any other config error, reported when the host opens.

#include "strata/export.hpp"
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string_view>

#include "strata/sdk/error.hpp"

namespace strata {

class Host;

/// What the audit pipeline does when the sink fails.
enum class AuditFailurePolicy {
  block,  ///< the audited operation fails: fail closed
  spool,  ///< events go to an fsync'd local file, replayed in order when the sink is back
  drop,   ///< events are dropped and counted
};

/// "block", "spool" or "drop".
STRATA_API std::string_view to_string(AuditFailurePolicy policy) noexcept;

/// [audit] ledger keys (strata/services/audit_ledger.hpp).
struct AuditLedgerSettings {
  bool enabled = true;
  std::filesystem::path dir;  ///< default: <data dir>/audit-ledger-<plugin>-<sink id>
  std::chrono::milliseconds checkpoint_interval{1000};
  std::uint64_t checkpoint_every = 10'000;
};

/// [audit] pipeline keys.
struct AuditLogSettings {
  AuditFailurePolicy on_failure = AuditFailurePolicy::spool;
  std::size_t queue_size = 4096;                   ///< events waiting for the flusher
  std::size_t batch_size = 256;                    ///< events per append
  std::chrono::milliseconds flush_interval{200};   ///< longest wait before a partial batch goes out
  bool outbox = true;  ///< events go through the storage's transactional outbox when it has one
  /// Default: <data dir>/audit-spool-<plugin>-<sink id>.jsonl, one per sink
  /// (the id hashes the sink's plugin and non-secret settings), so a spool is
  /// only ever replayed into the sink it was written for.
  std::filesystem::path spool_path;
  AuditLedgerSettings ledger;
};

/// scrypt cost parameters: N = 2^log2_n, block size r, parallelism p.
struct ScryptParams {
  int log2_n = 15;
  int r = 8;
  int p = 1;
  bool operator==(const ScryptParams&) const = default;
};

/// [users].
struct UserSettings {
  ScryptParams scrypt;                        ///< for new hashes; old ones are upgraded at login
  std::chrono::seconds cache_ttl{300};        ///< lookups cached in the `default` cache
  std::size_t min_password_length = 8;
  int bcrypt_max_cost = 14;  ///< bound on the seed's bcrypt hashes (2^cost rounds), verified until replaced
};

/// [sessions].
struct SessionSettings {
  /// The longest lifetime [sessions] ttl_s accepts: what a revocation must outlive.
  static constexpr std::chrono::seconds max_ttl{86400LL * 365};
  std::chrono::seconds ttl{86400};  ///< sliding: every touch restarts it
};

/// [keys].
struct KeySettings {
  std::optional<std::chrono::hours> lifetime;  ///< expires_at of new user keys; none: never
};

/// [erasure]: per-user data keys, and what erasing a user reaches (core/README.md, "Erasure").
struct ErasureSettings {
  bool per_user_keys = false;  ///< seal under users' data keys; off: under the cipher's keys (the seed's way)
  bool erase_sent = false;     ///< a message needs its sender's key too: erasing either party erases it
  std::chrono::seconds key_cache{30};  ///< how long an opened data key stays in this process
  std::chrono::hours key_backup_retention{24 * 7};  ///< key backups older than this are deleted
};

/// [maintenance].
struct MaintenanceSettings {
  std::chrono::seconds purge_interval{3600};   ///< expired-message purge; 0: off
  std::chrono::seconds metrics_interval{60};   ///< metrics written through the audit role; 0: off
};

/// [group_commit]: how concurrent writes coalesce into one transaction.
struct GroupCommitSettings {
  std::size_t max_batch = 256;              ///< writes per transaction at most
  std::chrono::microseconds linger{0};      ///< how long a writer waits for more; 0: take what is queued
  std::size_t writers = 2;                  ///< transactions in flight at once
  /// How long a write cut off by a lost connection (outcome unknown: a
  /// failover, a restart) keeps being retried under the same ids; 0: none.
  std::chrono::milliseconds retry{5000};
};

/// [delivery]: how inbox subscribers learn of new messages.
struct DeliverySettings {
  /// How often subscribers ask the storage what hints missed: the most a
  /// lost hint (a crash after commit, Redis away) delays a message.
  std::chrono::milliseconds poll_interval{1000};
  /// Threads reading followed inboxes (each read is a round trip to the storage).
  std::size_t threads = 4;
};

/// All service settings.
struct ServiceSettings {
  AuditLogSettings audit;
  GroupCommitSettings group_commit;
  UserSettings users;
  SessionSettings sessions;
  KeySettings keys;
  ErasureSettings erasure;
  MaintenanceSettings maintenance;
  DeliverySettings delivery;
  /// The data directory ($STRATA_DATA_DIR, $XDG_DATA_HOME/strata,
  /// ~/.local/share/strata) when the environment names one; empty otherwise.
  std::filesystem::path data_dir;
  /// Where the services keep the host's own state (the restore lock and
  /// marker, the list of key backups): beside the audit spool, else the data
  /// directory; empty when neither is known (those operations then refuse,
  /// naming the variables: nothing is written into the working directory).
  std::filesystem::path state_dir() const {
    return !audit.spool_path.empty() ? audit.spool_path.parent_path() : data_dir;
  }
};

/// The services' settings of an open host, from the tables they registered
/// (Host::table): the host checked them when it opened, so this fails only
/// for a table nobody registered (a build without the services).
STRATA_API sdk::Result<ServiceSettings> read_service_settings(const Host& host);

}  // namespace strata
