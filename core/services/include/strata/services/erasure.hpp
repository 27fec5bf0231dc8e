#pragma once
// Erasing a user for good (crypto-shredding; core/README.md, "Erasure").
//
// With [erasure] per_user_keys, what Strata stores for a user is sealed
// under that user's data keys (wrapped by the cipher). erase() destroys
// those keys: one storage statement over the user's few key rows, so it
// costs the same for a user with ten messages or a million, and every copy
// of their ciphertexts (replicas, dumps, data backups) becomes unreadable at
// once. It also deactivates the account and its key pairs, revokes its
// sessions, forgets the keys this process had opened, and scrubs the key
// backups this host wrote. Messages the user sent stay readable by their
// recipients unless [erasure] sent_messages = "erase" sealed them under both
// users' keys. Every erase is recorded in the audit trail as a receipt
// saying what each role did (`user.erase`).
//
// verify() proves it against a real backup: it restores the newest backup
// into a scratch host and shows every one of the user's messages failing as
// `key_destroyed`, and no live or backed-up key table holding their key.

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "strata/export.hpp"
#include "strata/services/context.hpp"

namespace strata {

class Services;
class Users;

/// What erase() did, role by role (also the `user.erase` event's metadata).
struct ErasureReceipt {
  sdk::Uuid user;
  std::vector<sdk::Uuid> data_keys_destroyed;   ///< storage: now tombstones, never stored again
  std::vector<sdk::Uuid> key_pairs_deactivated;  ///< storage: their private halves were sealed under those keys
  bool account_deactivated = false;             ///< storage; the user lookup cache entries removed with it
  bool sessions_revoked = false;                ///< session cache, and durably in the storage
  std::vector<std::filesystem::path> key_backups_scrubbed;  ///< key backups rewritten without the user's keys
  std::uint64_t backed_up_keys_destroyed = 0;   ///< keys replaced by tombstones in them
  std::vector<std::string> problems;            ///< what could not be done (a key backup not rewritable, …)
  bool sent_messages_erased = false;            ///< [erasure] sent_messages = "erase"
  std::chrono::microseconds took{0};
};

/// What verify() found.
struct ErasureCheck {
  std::filesystem::path backup;                    ///< the data backup restored into the scratch host
  std::vector<std::filesystem::path> key_backups;  ///< the key backups restored with it
  std::uint64_t messages = 0;                      ///< the user's received messages in the backup
  std::uint64_t key_destroyed = 0;                 ///< of those, failing as `key_destroyed`
  std::vector<std::string> not_erased;             ///< "<message id>: <why>" for each that did not
  std::uint64_t live_keys_in_storage = 0;          ///< the user's live data keys in the storage
  std::uint64_t live_keys_in_scratch = 0;          ///< … in the scratch storage after the restore
  std::uint64_t live_keys_in_key_backups = 0;      ///< … in every key backup found
  /// Erased everywhere the check could look.
  bool erased() const {
    return not_erased.empty() && key_destroyed == messages && live_keys_in_storage == 0 &&
           live_keys_in_scratch == 0 && live_keys_in_key_backups == 0;
  }
};

class STRATA_API Erasure {
 public:
  Erasure(ServiceContext& context, Users& users);

  /// Erases the user (see above). `invalid_argument` without [erasure]
  /// per_user_keys (nothing would be made unreadable); `not_found` for an
  /// unknown user. Erasing again destroys nothing more and says so.
  sdk::Result<ErasureReceipt> erase(const sdk::Uuid& user, const Origin& origin);

  /// Restores the newest data backup in `backups` (with the key backups
  /// beside it) into `scratch`, replacing whatever it holds, and checks the
  /// user's erasure there and here; records `user.erase.verify`.
  sdk::Result<ErasureCheck> verify(const sdk::Uuid& user, const std::filesystem::path& backups, Services& scratch,
                                   const Origin& origin);

 private:
  ServiceContext& ctx_;
  Users& users_;
};

}  // namespace strata
