#include "data_keys.hpp"

#include <cryptopp/aes.h>
#include <cryptopp/gcm.h>
#include <cryptopp/hkdf.h>
#include <cryptopp/sha.h>

#include "../encoding.hpp"
#include "strata/sdk/random_bytes.hpp"

namespace strata {
namespace {

using sdk::ErrorCode;
using sdk::fail;

constexpr std::size_t key_bytes = 32;
constexpr std::size_t iv_bytes = 12;
constexpr std::size_t tag_bytes = 16;

sdk::Sealed gcm_seal(const CryptoPP::SecByteBlock& key, std::string key_id, sdk::BytesView plaintext,
                     sdk::BytesView aad) {
  sdk::Sealed out;
  out.key_id = std::move(key_id);
  out.iv.resize(iv_bytes);
  // Never repeated across threads or a fork (sdk/random_bytes.hpp): a repeated IV under one key breaks GCM.
  sdk::random_bytes(out.iv.data(), out.iv.size());
  out.ciphertext.resize(plaintext.size() + tag_bytes);
  CryptoPP::GCM<CryptoPP::AES>::Encryption gcm;
  gcm.SetKeyWithIV(key.data(), key.size(), out.iv.data(), out.iv.size());
  gcm.EncryptAndAuthenticate(out.ciphertext.data(), out.ciphertext.data() + plaintext.size(), tag_bytes,
                             out.iv.data(), static_cast<int>(out.iv.size()), aad.data(), aad.size(), plaintext.data(),
                             plaintext.size());
  return out;
}

sdk::Result<sdk::Bytes> gcm_open(const CryptoPP::SecByteBlock& key, const sdk::Sealed& sealed, sdk::BytesView aad) {
  if (sealed.ciphertext.size() < tag_bytes || sealed.iv.size() != iv_bytes)
    return fail(ErrorCode::auth_failed, "the ciphertext or its nonce has the wrong size");
  const std::size_t n = sealed.ciphertext.size() - tag_bytes;
  sdk::Bytes plain(n);
  CryptoPP::GCM<CryptoPP::AES>::Decryption gcm;
  gcm.SetKeyWithIV(key.data(), key.size(), sealed.iv.data(), sealed.iv.size());
  if (!gcm.DecryptAndVerify(plain.data(), sealed.ciphertext.data() + n, tag_bytes, sealed.iv.data(),
                            static_cast<int>(sealed.iv.size()), aad.data(), aad.size(), sealed.ciphertext.data(), n))
    return fail(ErrorCode::auth_failed, "the tag does not match: altered, or sealed with other associated data");
  return plain;
}

// The key a message between two users is sealed under: neither data key alone opens it.
CryptoPP::SecByteBlock pair_key(const CryptoPP::SecByteBlock& recipient, const CryptoPP::SecByteBlock& sender) {
  static constexpr std::string_view salt = "strata:message-pair-key:v1";
  CryptoPP::SecByteBlock ikm(recipient.size() + sender.size());
  std::copy(recipient.begin(), recipient.end(), ikm.begin());
  std::copy(sender.begin(), sender.end(), ikm.begin() + recipient.size());
  CryptoPP::SecByteBlock out(key_bytes);
  CryptoPP::HKDF<CryptoPP::SHA256> hkdf;
  hkdf.DeriveKey(out.data(), out.size(), ikm.data(), ikm.size(), reinterpret_cast<const CryptoPP::byte*>(salt.data()),
                 salt.size(), nullptr, 0);
  return out;
}

sdk::Unexpected destroyed(const sdk::Uuid& id) {
  return fail(ErrorCode::key_destroyed,
              "data key " + id.str() + " was destroyed (its user was erased): what it sealed can never be opened");
}

}  // namespace

DataKeys::DataKeys(std::shared_ptr<sdk::Storage> storage, std::shared_ptr<sdk::Cipher> cipher,
                   std::shared_ptr<const sdk::Clock> clock, ErasureSettings settings)
    : storage_(std::move(storage)), cipher_(std::move(cipher)), clock_(std::move(clock)), settings_(settings) {}

sdk::Bytes DataKeys::wrap_associated_data(const sdk::Uuid& key_id, const sdk::Uuid& user_id) {
  constexpr std::string_view label = "strata:data-key:v1";
  sdk::Bytes aad;
  aad.reserve(label.size() + 2 * 16);
  aad.insert(aad.end(), label.begin(), label.end());
  aad.insert(aad.end(), key_id.bytes().begin(), key_id.bytes().end());
  aad.insert(aad.end(), user_id.bytes().begin(), user_id.bytes().end());
  return aad;
}

std::optional<std::vector<sdk::Uuid>> DataKeys::ids_in(std::string_view key_id) {
  if (!names_data_key(key_id)) return std::nullopt;
  key_id.remove_prefix(prefix.size());
  std::vector<sdk::Uuid> ids;
  while (true) {
    auto plus = key_id.find('+');
    auto id = sdk::Uuid::parse(key_id.substr(0, plus));
    if (!id) return std::nullopt;
    ids.push_back(*id);
    if (plus == std::string_view::npos) break;
    key_id.remove_prefix(plus + 1);
  }
  if (ids.size() > 2) return std::nullopt;
  return ids;
}

void DataKeys::remember(const sdk::Uuid& id, const CryptoPP::SecByteBlock& key) {
  if (settings_.key_cache.count() == 0) return;
  std::lock_guard lock(mutex_);
  opened_[id] = Opened{key, std::chrono::steady_clock::now() + settings_.key_cache};
}

sdk::Result<CryptoPP::SecByteBlock> DataKeys::unwrap(const sdk::DataKey& stored) {
  if (stored.destroyed_at) {
    std::lock_guard lock(mutex_);
    destroyed_.insert(stored.id);
    return destroyed(stored.id);
  }
  auto sealed = detail::decode_sealed(stored.wrapped);
  if (!sealed) return sdk::fail(sealed.error());
  auto plain = cipher_->open(*sealed, wrap_associated_data(stored.id, stored.user_id));
  if (!plain) {
    auto e = plain.error();
    e.message = "data key " + stored.id.str() + " does not open: " + e.message;
    return sdk::fail(std::move(e));
  }
  if (plain->size() != key_bytes)
    return fail(ErrorCode::auth_failed, "data key " + stored.id.str() + " opens to " + std::to_string(plain->size()) +
                                            " bytes, not " + std::to_string(key_bytes));
  CryptoPP::SecByteBlock key(plain->data(), plain->size());
  std::fill(plain->begin(), plain->end(), 0);
  remember(stored.id, key);
  return key;
}

sdk::Result<CryptoPP::SecByteBlock> DataKeys::key(const sdk::Uuid& id) {
  {
    std::lock_guard lock(mutex_);
    if (destroyed_.contains(id)) return destroyed(id);
    auto it = opened_.find(id);
    if (it != opened_.end() && it->second.until > std::chrono::steady_clock::now()) return it->second.key;
    if (it != opened_.end()) opened_.erase(it);
  }
  auto stored = storage_->get_data_key(id);
  if (!stored) {
    if (stored.error().code == ErrorCode::not_found)
      return fail(ErrorCode::not_found, "data key " + id.str() + " is not in the storage (not restored?)");
    return sdk::fail(stored.error());
  }
  return unwrap(*stored);
}

sdk::Result<std::pair<sdk::Uuid, CryptoPP::SecByteBlock>> DataKeys::current(const sdk::Uuid& user) {
  std::optional<sdk::Uuid> known;
  {
    std::lock_guard lock(mutex_);
    if (auto it = current_.find(user); it != current_.end()) known = it->second;
  }
  if (known) {
    auto k = key(*known);
    if (k) return std::pair{*known, std::move(*k)};
    if (k.error().code != ErrorCode::key_destroyed) return sdk::fail(k.error());
  }
  auto live = storage_->data_keys_for_user(user);
  if (!live) return sdk::fail(live.error());
  if (!live->empty()) {
    auto k = unwrap(live->front());
    if (!k) return sdk::fail(k.error());
    std::lock_guard lock(mutex_);
    current_[user] = live->front().id;
    return std::pair{live->front().id, std::move(*k)};
  }
  // The user's first. Never for a deactivated user (an erased one among
  // them): nothing may be sealed for them, and their send is refused anyway.
  auto owner = storage_->get_user(user);
  if (!owner) {
    if (owner.error().code == ErrorCode::not_found) return fail(ErrorCode::invalid_argument, "no user with id " + user.str());
    return sdk::fail(owner.error());
  }
  if (!owner->is_active)
    return fail(ErrorCode::invalid_argument, "user " + sdk::excerpt(owner->username, 80) +
                                                 " is deactivated: no data key is made for them");
  return make(user);
}

sdk::Result<std::pair<sdk::Uuid, CryptoPP::SecByteBlock>> DataKeys::make(const sdk::Uuid& user) {
  // Two processes may each make one at once; both are kept (sealed values
  // name theirs), and an erase destroys both.
  sdk::DataKey made;
  made.id = sdk::Uuid::generate();
  made.user_id = user;
  made.created_at = clock_->now();
  CryptoPP::SecByteBlock fresh(key_bytes);
  sdk::random_bytes(fresh.data(), fresh.size());
  auto wrapped = cipher_->seal(sdk::BytesView(fresh.data(), fresh.size()), wrap_associated_data(made.id, user));
  if (!wrapped) return sdk::fail(wrapped.error());
  made.wrapped = detail::encode_sealed(*wrapped);
  if (auto stored = storage_->insert_data_key(made); !stored) return sdk::fail(stored.error());
  remember(made.id, fresh);
  std::lock_guard lock(mutex_);
  current_[user] = made.id;
  return std::pair{made.id, std::move(fresh)};
}

sdk::Result<CryptoPP::SecByteBlock> DataKeys::pseudonym_key() {
  const sdk::Uuid owner = pseudonym_owner();
  auto live = storage_->data_keys_for_user(owner);
  if (!live) return sdk::fail(live.error());
  if (live->empty()) {
    auto made = make(owner);
    if (!made) return sdk::fail(made.error());
    return std::move(made->second);
  }
  // The oldest live one: two processes that made one at once agree after a reread.
  return unwrap(live->back());
}

sdk::Result<sdk::Sealed> DataKeys::seal_message(const sdk::Uuid& recipient, const sdk::Uuid& sender,
                                                sdk::BytesView plaintext, sdk::BytesView aad) {
  if (!sealing()) return cipher_->seal(plaintext, aad);
  auto r = current(recipient);
  if (!r) return sdk::fail(r.error());
  if (!settings_.erase_sent) return gcm_seal(r->second, std::string(prefix) + r->first.str(), plaintext, aad);
  auto s = current(sender);
  if (!s) return sdk::fail(s.error());
  return gcm_seal(pair_key(r->second, s->second), std::string(prefix) + r->first.str() + "+" + s->first.str(),
                  plaintext, aad);
}

sdk::Result<sdk::Sealed> DataKeys::seal_for(const sdk::Uuid& user, sdk::BytesView plaintext, sdk::BytesView aad) {
  if (!sealing()) return cipher_->seal(plaintext, aad);
  auto k = current(user);
  if (!k) return sdk::fail(k.error());
  return gcm_seal(k->second, std::string(prefix) + k->first.str(), plaintext, aad);
}

sdk::Result<sdk::Bytes> DataKeys::open(const sdk::Sealed& sealed, sdk::BytesView aad) {
  if (!names_data_key(sealed.key_id)) return cipher_->open(sealed, aad);
  auto ids = ids_in(sealed.key_id);
  if (!ids) return fail(ErrorCode::auth_failed, "key id '" + sdk::excerpt(sealed.key_id, 80) + "' is malformed");
  auto first = key((*ids)[0]);
  if (!first) return sdk::fail(first.error());
  if (ids->size() == 1) return gcm_open(*first, sealed, aad);
  auto second = key((*ids)[1]);
  if (!second) return sdk::fail(second.error());
  return gcm_open(pair_key(*first, *second), sealed, aad);
}

sdk::Result<std::vector<sdk::Uuid>> DataKeys::destroy(const sdk::Uuid& user) {
  auto ids = storage_->destroy_data_keys(user, clock_->now());
  // Forgotten here whatever the storage answered: a key that may be gone must not outlive it in memory.
  std::lock_guard lock(mutex_);
  if (auto it = current_.find(user); it != current_.end()) {
    opened_.erase(it->second);
    current_.erase(it);
  }
  if (!ids) return ids;
  for (const auto& id : *ids) {
    opened_.erase(id);
    destroyed_.insert(id);
  }
  return ids;
}

sdk::Result<RewrapProgress> DataKeys::rewrap(std::size_t batch_size,
                                             const std::function<void(const RewrapProgress&)>& progress) {
  auto primary = cipher_->primary_key_id();
  if (!primary) return sdk::fail(primary.error());
  RewrapProgress p;
  p.target_key_id = *primary;
  sdk::PageRequest request{batch_size, std::nullopt};
  for (;;) {
    auto page = storage_->all_data_keys(request);
    if (!page) {
      if (page.error().code == ErrorCode::unsupported) return p;  // a storage without data keys has none
      return sdk::fail(page.error());
    }
    for (const auto& stored : page->items) {
      if (stored.destroyed_at) continue;
      auto sealed = detail::decode_sealed(stored.wrapped);
      if (sealed && sealed->key_id == *primary) continue;
      ++p.total;
      const sdk::Bytes aad = wrap_associated_data(stored.id, stored.user_id);
      auto plain = sealed ? cipher_->open(*sealed, aad) : sdk::Result<sdk::Bytes>(sdk::fail(sealed.error()));
      if (!plain) {
        ++p.failed;
        continue;
      }
      auto wrapped = cipher_->seal(*plain, aad);
      std::fill(plain->begin(), plain->end(), 0);
      if (!wrapped) return sdk::fail(wrapped.error());
      auto replaced = storage_->replace_data_key_wrapping(stored.id, stored.wrapped, detail::encode_sealed(*wrapped));
      if (!replaced) return sdk::fail(replaced.error());
      ++(*replaced ? p.rewrapped : p.skipped);  // skipped: destroyed or re-wrapped meanwhile
    }
    if (progress) progress(p);
    if (!page->next) break;
    request.after = page->next;
  }
  return p;
}

}  // namespace strata
