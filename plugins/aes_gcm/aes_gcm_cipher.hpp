#pragma once
// Cipher role: AES-256-GCM (Crypto++), 96-bit random IV, 128-bit tag.

#include <cryptopp/aes.h>
#include <cryptopp/gcm.h>

#include <memory>
#include <string>
#include <vector>

#include "aes_gcm_settings.hpp"
#include "aes_gcm_object_pool.hpp"
#include "strata/sdk/sdk.hpp"

namespace strata::aes_gcm {

/// AES-256-GCM under a key ring. Seals with the primary key; opens with
/// whichever key the Sealed names. The tag (16 bytes) is appended to the
/// ciphertext. Uses Crypto++'s one-shot EncryptAndAuthenticate /
/// DecryptAndVerify on pooled, pre-keyed GCM objects: its filter pipeline
/// costs about three times as much per message.
class AesGcmCipher : public sdk::Cipher {
 public:
  static constexpr std::size_t iv_size = 12;
  static constexpr std::size_t tag_size = 16;

  explicit AesGcmCipher(const sdk::PluginContext& context);
  ~AesGcmCipher() override;
  /// `keys`, `key`, `key_id`: see README.md.
  static sdk::ConfigSchema config_schema();

  sdk::Result<void> health() override;
  sdk::Result<std::string> primary_key_id() override;
  sdk::Result<std::vector<std::string>> key_ids() override;
  sdk::Result<sdk::Sealed> seal(sdk::BytesView plaintext, sdk::BytesView associated_data) override;
  sdk::Result<sdk::Bytes> open(const sdk::Sealed& sealed, sdk::BytesView associated_data) override;
  sdk::Result<sdk::Sealed> wrap(sdk::BytesView key_material) override;
  sdk::Result<sdk::Bytes> unwrap(const sdk::Sealed& wrapped) override;
  sdk::Result<sdk::Sealed> seal_with_iv(std::string_view key_id, sdk::BytesView iv, sdk::BytesView plaintext,
                                        sdk::BytesView associated_data) override;
  /// The seed's tagless GCM output: counter mode from GCM's first counter block.
  sdk::Result<sdk::Bytes> open_untagged(std::string_view key_id, sdk::BytesView iv,
                                        sdk::BytesView ciphertext) override;

 private:
  using Encryptor = CryptoPP::GCM<CryptoPP::AES>::Encryption;
  using Decryptor = CryptoPP::GCM<CryptoPP::AES>::Decryption;

  struct Key {
    explicit Key(KeySpec spec);
    std::string id;
    CryptoPP::SecByteBlock material;  // zeroized when freed
    // Borrowing an object is not a change to the key: pools are mutable.
    mutable ObjectPool<Encryptor> encryptors;
    mutable ObjectPool<Decryptor> decryptors;
  };

  const Key* find(std::string_view id) const;
  sdk::Result<sdk::Sealed> seal_under(const Key& key, sdk::Bytes iv, sdk::BytesView plaintext,
                                      sdk::BytesView associated_data);

  std::vector<std::unique_ptr<Key>> keys_;
  Key* primary_ = nullptr;
};

}  // namespace strata::aes_gcm
