#pragma once
// The cipher role: authenticated encryption with associated data, under a key ring.

#include <string>
#include <string_view>
#include <vector>

#include "strata/sdk/bytes.hpp"
#include "strata/sdk/error.hpp"
#include "strata/sdk/role_methods.hpp"

namespace strata::sdk {

/// A sealed message: the key that sealed it, the nonce, and the ciphertext
/// with its authentication tag appended.
struct Sealed {
  std::string key_id;
  Bytes iv;
  Bytes ciphertext;

  bool operator==(const Sealed&) const = default;
};

/// Cipher role. One primary key seals; every key in the ring opens.
/// A wrong key, tampered ciphertext, IV or associated data is `auth_failed`,
/// never garbage plaintext. Implementations must be safe to call from several threads.
class Cipher {
 public:
  virtual ~Cipher() = default;

  /// Whether the cipher is usable (keys loaded, self-test passed).
  virtual Result<void> health() = 0;
  /// The id of the key that seals.
  virtual Result<std::string> primary_key_id() = 0;
  /// Ids of every key that opens.
  virtual Result<std::vector<std::string>> key_ids() = 0;
  /// Seals under the primary key with a fresh random nonce.
  virtual Result<Sealed> seal(BytesView plaintext, BytesView associated_data) = 0;
  /// Opens with the key named in `sealed`; `not_found` for an unknown key id.
  virtual Result<Bytes> open(const Sealed& sealed, BytesView associated_data) = 0;
  /// Seals key material (another key's private half) under the primary key.
  virtual Result<Sealed> wrap(BytesView key_material) = 0;
  /// Opens wrapped key material.
  virtual Result<Bytes> unwrap(const Sealed& wrapped) = 0;

  // ---- optional methods, from the table in role_methods.hpp -----------------
  // seal_with_iv(key_id, iv, plaintext, associated_data): seals with a
  // caller-chosen nonce, for known-answer tests only (reusing a nonce under
  // one key destroys confidentiality); the default answers `unsupported`.
  // open_untagged(key_id, iv, ciphertext) (ABI 1.7): decrypts the seed's
  // tagless GCM output, unauthenticated, for `strata adopt messages`.
  STRATA_SDK_CIPHER_METHODS(STRATA_SDK_OPTIONAL_DEFAULT)
};

}  // namespace strata::sdk
