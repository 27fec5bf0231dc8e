#include "aes_gcm_cipher.hpp"

#include <cryptopp/modes.h>

#include "strata/sdk/random_bytes.hpp"

namespace strata::aes_gcm {
namespace {

using sdk::ErrorCode;
using sdk::fail;

// Crypto++ refuses to key GCM without an IV. Every call passes its own IV to
// EncryptAndAuthenticate/DecryptAndVerify, which resynchronize with it, so
// this placeholder is never used to encrypt anything.
constexpr std::uint8_t placeholder_iv[12] = {};

// Associated data for wrapped key material: keeps a wrapped key from ever
// opening as a message and the reverse.
constexpr std::string_view wrap_context = "strata:aes_gcm:wrap:v1";

}  // namespace

AesGcmCipher::Key::Key(KeySpec spec)
    : id(std::move(spec.id)),
      material(std::move(spec.material)),
      encryptors([this] {
        auto e = std::make_unique<Encryptor>();
        e->SetKeyWithIV(material.data(), material.size(), placeholder_iv, sizeof placeholder_iv);
        return e;
      }),
      decryptors([this] {
        auto d = std::make_unique<Decryptor>();
        d->SetKeyWithIV(material.data(), material.size(), placeholder_iv, sizeof placeholder_iv);
        return d;
      }) {}

AesGcmCipher::AesGcmCipher(const sdk::PluginContext& context) {
  for (auto& spec : read_key_ring(context.config, context.log)) {
    bool primary = spec.primary;
    keys_.push_back(std::make_unique<Key>(std::move(spec)));
    if (primary) primary_ = keys_.back().get();
  }
}

AesGcmCipher::~AesGcmCipher() = default;

sdk::ConfigSchema AesGcmCipher::config_schema() { return key_ring_schema(); }

const AesGcmCipher::Key* AesGcmCipher::find(std::string_view id) const {
  for (const auto& key : keys_)
    if (key->id == id) return key.get();
  return nullptr;
}

sdk::Result<void> AesGcmCipher::health() {
  // A round trip with the primary key proves the key schedule and the RNG work.
  static constexpr std::string_view probe = "strata health probe";
  auto sealed = seal(sdk::as_bytes(probe), {});
  if (!sealed) return sdk::fail(sealed.error());
  auto opened = open(*sealed, {});
  if (!opened) return sdk::fail(opened.error());
  if (sdk::to_string(*opened) != probe) return fail(ErrorCode::internal, "self-test round trip mismatch");
  return {};
}

sdk::Result<std::string> AesGcmCipher::primary_key_id() { return primary_->id; }

sdk::Result<std::vector<std::string>> AesGcmCipher::key_ids() {
  std::vector<std::string> ids;
  for (const auto& key : keys_) ids.push_back(key->id);
  return ids;
}

sdk::Result<sdk::Sealed> AesGcmCipher::seal_under(const Key& key, sdk::Bytes iv, sdk::BytesView plaintext,
                                                  sdk::BytesView associated_data) {
  sdk::Sealed out{key.id, std::move(iv), sdk::Bytes(plaintext.size() + tag_size)};
  auto encryptor = key.encryptors.borrow();
  encryptor->EncryptAndAuthenticate(out.ciphertext.data(), out.ciphertext.data() + plaintext.size(), tag_size,
                                    out.iv.data(), static_cast<int>(out.iv.size()), associated_data.data(),
                                    associated_data.size(), plaintext.data(), plaintext.size());
  return out;
}

sdk::Result<sdk::Sealed> AesGcmCipher::seal(sdk::BytesView plaintext, sdk::BytesView associated_data) {
  sdk::Bytes iv(iv_size);
  sdk::random_bytes(iv.data(), iv.size());  // never repeated across threads or a fork
  return seal_under(*primary_, std::move(iv), plaintext, associated_data);
}

sdk::Result<sdk::Bytes> AesGcmCipher::open(const sdk::Sealed& sealed, sdk::BytesView associated_data) {
  const Key* key = find(sealed.key_id);
  if (!key) return fail(ErrorCode::not_found, "no key '" + sealed.key_id + "' in the key ring");
  if (sealed.iv.size() != iv_size)
    return fail(ErrorCode::invalid_argument,
                "IV must be " + std::to_string(iv_size) + " bytes, got " + std::to_string(sealed.iv.size()));
  if (sealed.ciphertext.size() < tag_size)
    return fail(ErrorCode::auth_failed, "ciphertext is shorter than its 16-byte tag: truncated or tampered");
  std::size_t length = sealed.ciphertext.size() - tag_size;
  sdk::Bytes plaintext(length);
  auto decryptor = key->decryptors.borrow();
  bool authentic = decryptor->DecryptAndVerify(plaintext.data(), sealed.ciphertext.data() + length, tag_size,
                                               sealed.iv.data(), static_cast<int>(sealed.iv.size()),
                                               associated_data.data(), associated_data.size(),
                                               sealed.ciphertext.data(), length);
  if (!authentic) {
    std::fill(plaintext.begin(), plaintext.end(), 0);  // never hand out unauthenticated plaintext
    return fail(ErrorCode::auth_failed,
                "authentication failed under key '" + key->id +
                    "': the ciphertext, IV or associated data was altered, or the wrong key");
  }
  return plaintext;
}

sdk::Result<sdk::Sealed> AesGcmCipher::wrap(sdk::BytesView key_material) {
  return seal(key_material, sdk::as_bytes(wrap_context));
}

sdk::Result<sdk::Bytes> AesGcmCipher::unwrap(const sdk::Sealed& wrapped) {
  return open(wrapped, sdk::as_bytes(wrap_context));
}

sdk::Result<sdk::Sealed> AesGcmCipher::seal_with_iv(std::string_view key_id, sdk::BytesView iv,
                                                    sdk::BytesView plaintext, sdk::BytesView associated_data) {
  const Key* key = find(key_id);
  if (!key) return fail(ErrorCode::not_found, "no key '" + std::string(key_id) + "' in the key ring");
  if (iv.size() != iv_size)
    return fail(ErrorCode::invalid_argument,
                "IV must be " + std::to_string(iv_size) + " bytes, got " + std::to_string(iv.size()));
  return seal_under(*key, sdk::Bytes(iv.begin(), iv.end()), plaintext, associated_data);
}

sdk::Result<sdk::Bytes> AesGcmCipher::open_untagged(std::string_view key_id, sdk::BytesView iv,
                                                    sdk::BytesView ciphertext) {
  const Key* key = find(key_id);
  if (!key) return fail(ErrorCode::not_found, "no key '" + std::string(key_id) + "' in the key ring");
  // With a 96-bit IV, GCM encrypts with AES-CTR from the counter block
  // IV ‖ 00000002 (block 1 masks the tag): the same keystream, no tag check.
  // Other IV lengths hash the IV into the counter (GHASH); the seed never used them.
  if (iv.size() != iv_size)
    return fail(ErrorCode::invalid_argument, "the seed's IVs are " + std::to_string(iv_size) + " bytes, this one is " +
                                                 std::to_string(iv.size()));
  CryptoPP::byte counter[CryptoPP::AES::BLOCKSIZE] = {};
  std::copy(iv.begin(), iv.end(), counter);
  counter[15] = 2;
  sdk::Bytes plaintext(ciphertext.size());
  CryptoPP::CTR_Mode<CryptoPP::AES>::Decryption ctr(key->material, key->material.size(), counter);
  ctr.ProcessData(plaintext.data(), ciphertext.data(), ciphertext.size());
  return plaintext;
}

}  // namespace strata::aes_gcm
