#pragma once
// Keys: one X25519 key pair per user (Crypto++). The private half is wrapped
// by the cipher role before it reaches storage (encryption_keys.
// private_key_encrypted); the public half is stored in the key record and on
// the user. Rotation makes a new pair and deactivates the old ones.

#include "strata/export.hpp"
#include <cstddef>
#include <functional>
#include <vector>

#include "strata/services/context.hpp"
#include "strata/services/rewrap_progress.hpp"

namespace strata {

class Users;

class STRATA_API Keys {
 public:
  Keys(ServiceContext& context, Users& users);

  /// A new key pair for the user, which becomes their current key; earlier
  /// active keys are deactivated (rotation). Audited as key.create or key.rotate.
  sdk::Result<sdk::KeyRecord> rotate(const sdk::Uuid& user_id, const Origin& origin);
  /// The newest active, unexpired key; `not_found` when there is none.
  sdk::Result<sdk::KeyRecord> current(const sdk::Uuid& user_id);
  /// Every key record of the user, newest first.
  sdk::Result<std::vector<sdk::KeyRecord>> all(const sdk::Uuid& user_id);
  /// The private half of a key, unwrapped (32 bytes). The wrapping is bound
  /// to the key's id and user: `auth_failed` (audited as key.open) if it was
  /// tampered with or copied from another record; `conflict` for an inactive
  /// or expired key.
  sdk::Result<sdk::Bytes> private_key(const sdk::KeyRecord& key, const Origin& origin = {});
  /// Re-wraps every private key (active or not) not wrapped under the
  /// cipher's primary key, `batch_size` records at a time, calling `progress`
  /// after each batch: after a cipher key rotation, the old cipher key can
  /// leave the ring once this and Messages::rewrap are done. Each record is
  /// replaced by compare-and-set, so a crash loses nothing and a rerun
  /// resumes. A wrapping that does not open (tampered, moved, or its key gone)
  /// is counted as failed and audited, and left as it was. Private keys
  /// sealed under their user's data key are left alone; instead every live
  /// data key ([erasure] per_user_keys) is re-wrapped the same way.
  sdk::Result<RewrapProgress> rewrap(std::size_t batch_size, const std::function<void(const RewrapProgress&)>& progress,
                                     const Origin& origin);

  /// The associated data a private half is wrapped with: it binds the
  /// wrapping to its own record (label ‖ key id ‖ user id), so a
  /// private_key_encrypted copied into another user's or key's row fails
  /// authentication instead of yielding that key.
  static sdk::Bytes associated_data(const sdk::Uuid& key_id, const sdk::Uuid& user_id);

 private:
  ServiceContext& ctx_;
  Users& users_;
};

}  // namespace strata
