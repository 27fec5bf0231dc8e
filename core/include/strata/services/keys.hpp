#pragma once
// Keys: one X25519 key pair per user (Crypto++). The private half is wrapped
// by the cipher role before it reaches storage (encryption_keys.
// private_key_encrypted); the public half is stored in the key record and on
// the user. Rotation makes a new pair and deactivates the old ones.

#include <vector>

#include "strata/services/context.hpp"

namespace strata {

class Users;

class Keys {
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

 private:
  ServiceContext& ctx_;
  Users& users_;
};

}  // namespace strata
