#pragma once
// Whether the cipher's key ring opens what the storage already holds,
// checked when the services open. A key file regenerated or replaced while
// the data lives elsewhere (a PostgreSQL server) carries an old key id with
// new key material: without this, every new message would be sealed under a
// key that opens none of the old ones, and each old message would fail on
// its own, one auth_failed at a time.

#include "strata/sdk/cipher.hpp"
#include "strata/sdk/storage.hpp"

namespace strata::detail {

/// Tries the newest few messages and wrapped private keys under each key id
/// of the ring; `auth_failed` naming the key when at least two were sealed
/// under it and it opens none (one altered row is that row's problem, not
/// the key's). Data from before Strata (no key id) and key ids outside the
/// ring are left alone; storages without the listing methods are not checked.
sdk::Result<void> check_cipher_opens_storage(sdk::Storage& storage, sdk::Cipher& cipher);

}  // namespace strata::detail
