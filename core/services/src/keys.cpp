// Per-user X25519 key pairs, private halves wrapped by the cipher role.

#include "strata/services/keys.hpp"

#include <cryptopp/osrng.h>
#include <cryptopp/secblock.h>
#include <cryptopp/xed25519.h>

#include "encoding.hpp"
#include "erasure/data_keys.hpp"
#include "rewrap_target.hpp"
#include "service_span.hpp"
#include "strata/services/users.hpp"

namespace strata {
namespace {

using sdk::ErrorCode;
using sdk::fail;

bool usable(const sdk::KeyRecord& key, sdk::Timestamp now) {
  return key.is_active && (!key.expires_at || *key.expires_at > now);
}

}  // namespace

sdk::Bytes Keys::associated_data(const sdk::Uuid& key_id, const sdk::Uuid& user_id) {
  constexpr std::string_view label = "strata:user-key:v1";
  sdk::Bytes aad;
  aad.reserve(label.size() + 2 * 16);  // sized once (GCC 12 misreads the growth as out of bounds)
  aad.insert(aad.end(), label.begin(), label.end());
  aad.insert(aad.end(), key_id.bytes().begin(), key_id.bytes().end());
  aad.insert(aad.end(), user_id.bytes().begin(), user_id.bytes().end());
  return aad;
}

Keys::Keys(ServiceContext& context, Users& users) : ctx_(context), users_(users) {}

sdk::Result<sdk::KeyRecord> Keys::rotate(const sdk::Uuid& user_id, const Origin& origin) {
  return traced(ctx_, "keys.rotate", origin, [&]() -> sdk::Result<sdk::KeyRecord> {
    auto user = users_.get(user_id);
    if (!user) return sdk::fail(user.error());
    auto existing = ctx_.storage->keys_for_user(user_id);
    if (!existing) return sdk::fail(existing.error());

    CryptoPP::AutoSeededRandomPool rng;
    CryptoPP::x25519 pair;
    CryptoPP::SecByteBlock private_half(CryptoPP::x25519::SECRET_KEYLENGTH);
    sdk::Bytes public_half(CryptoPP::x25519::PUBLIC_KEYLENGTH);
    pair.GenerateKeyPair(rng, private_half, public_half.data());
    sdk::KeyRecord key;
    key.id = sdk::Uuid::generate();
    key.user_id = user_id;
    auto wrapped = ctx_.data_keys->seal_for(user_id, sdk::BytesView(private_half.data(), private_half.size()),
                                            associated_data(key.id, user_id));
    if (!wrapped) return sdk::fail(wrapped.error());
    key.public_key = public_half;
    key.private_key_encrypted = detail::encode_sealed(*wrapped);
    key.created_at = ctx_.clock->now();
    if (ctx_.settings.keys.lifetime) key.expires_at = key.created_at + *ctx_.settings.keys.lifetime;
    key.is_active = true;
    std::vector<std::string> retired;
    for (const auto& old : *existing)
      if (old.is_active) retired.push_back(old.id.str());
    // One atomic swap in the storage (SDK 1.3): concurrent rotations of one user
    // leave exactly one active key. A storage built against an older SDK gets
    // the two steps, which are not atomic.
    auto swapped = ctx_.storage->replace_active_key(key);
    if (!swapped && swapped.error().code == ErrorCode::unsupported) {
      if (auto r = ctx_.storage->insert_key(key); !r) return sdk::fail(r.error());
      for (const auto& old : *existing)
        if (old.is_active)
          if (auto r = ctx_.storage->deactivate_key(old.id); !r) return sdk::fail(r.error());
    } else if (!swapped) {
      return sdk::fail(swapped.error());
    }
    bool first = existing->empty();
    auto recorded = ctx_.audit->record(
        AuditRecord{user_id, first ? "key.create" : "key.rotate", resource("key", key.id), sdk::AuditStatus::success,
                    {{"deactivated", retired}, {"cipher_key_id", wrapped->key_id}}},
        origin);
    if (!recorded) return sdk::fail(recorded.error());
    return key;
  });
}

sdk::Result<sdk::KeyRecord> Keys::current(const sdk::Uuid& user_id) {
  return traced(ctx_, "keys.current", {}, [&]() -> sdk::Result<sdk::KeyRecord> {
    auto keys = ctx_.storage->keys_for_user(user_id);
    if (!keys) return sdk::fail(keys.error());
    sdk::Timestamp now = ctx_.clock->now();
    for (const auto& key : *keys)  // newest first
      if (usable(key, now)) return key;
    return fail(ErrorCode::not_found, "user " + user_id.str() + " has no active, unexpired key");
  });
}

sdk::Result<std::vector<sdk::KeyRecord>> Keys::all(const sdk::Uuid& user_id) {
  return traced(ctx_, "keys.all", {}, [&]() -> sdk::Result<std::vector<sdk::KeyRecord>> {
    return ctx_.storage->keys_for_user(user_id);
  });
}

sdk::Result<sdk::Bytes> Keys::private_key(const sdk::KeyRecord& key, const Origin& origin) {
  return traced(ctx_, "keys.private_key", origin, [&]() -> sdk::Result<sdk::Bytes> {
    if (!usable(key, ctx_.clock->now()))
      return fail(ErrorCode::conflict, "key " + key.id.str() + " is inactive or expired");
    auto sealed = detail::decode_sealed(key.private_key_encrypted);
    if (!sealed) return sdk::fail(sealed.error());
    auto opened = ctx_.data_keys->open(*sealed, associated_data(key.id, key.user_id));
    if (opened || opened.error().code != ErrorCode::auth_failed) return opened;
    (void)ctx_.audit->record(AuditRecord{key.user_id, "key.open", resource("key", key.id), sdk::AuditStatus::failure,
                                         {{"reason", "auth_failed"}}},
                             origin);
    return fail(ErrorCode::auth_failed, "the private key of key " + key.id.str() +
                                            " failed authentication: it was altered, or belongs to another key or user");
  });
}

sdk::Result<RewrapProgress> Keys::rewrap(std::size_t batch_size,
                                         const std::function<void(const RewrapProgress&)>& progress,
                                         const Origin& origin) {
  auto primary = detail::rewrap_target_key(batch_size, *ctx_.cipher);
  if (!primary) return sdk::fail(primary.error());
  RewrapProgress p;
  p.target_key_id = *primary;
  sdk::PageRequest request{batch_size, std::nullopt};
  for (;;) {
    auto page = ctx_.storage->all_keys(request);
    if (!page) return sdk::fail(page.error());
    for (const auto& key : page->items) {
      auto sealed = detail::decode_sealed(key.private_key_encrypted);
      if (sealed && sealed->key_id == *primary) continue;  // already there
      // Under its user's data key: that key is re-wrapped instead (below).
      if (sealed && DataKeys::names_data_key(sealed->key_id)) continue;
      ++p.total;
      sdk::Bytes aad = associated_data(key.id, key.user_id);
      auto plain = sealed ? ctx_.cipher->open(*sealed, aad) : sdk::Result<sdk::Bytes>(sdk::fail(sealed.error()));
      if (!plain) {
        ++p.failed;
        (void)ctx_.audit->record(AuditRecord{key.user_id, "key.rewrap", resource("key", key.id),
                                             sdk::AuditStatus::failure,
                                             {{"reason", std::string(sdk::to_string(plain.error().code))},
                                              {"cipher_key_id", sealed ? sealed->key_id : std::string()}}},
                                 origin);
        continue;
      }
      auto wrapped = ctx_.cipher->seal(*plain, aad);
      if (!wrapped) return sdk::fail(wrapped.error());
      auto replaced =
          ctx_.storage->replace_key_wrapping(key.id, key.private_key_encrypted, detail::encode_sealed(*wrapped));
      if (!replaced) {
        if (replaced.error().code == ErrorCode::not_found) {  // its user was deleted meanwhile
          ++p.skipped;
          continue;
        }
        return sdk::fail(replaced.error());
      }
      ++(*replaced ? p.rewrapped : p.skipped);
    }
    if (progress) progress(p);
    if (!page->next) break;
    request.after = page->next;
  }
  auto recorded = ctx_.audit->record(
      AuditRecord{std::nullopt, "key.rewrap", "cipher:" + p.target_key_id,
                  p.failed ? sdk::AuditStatus::failure : sdk::AuditStatus::success,
                  {{"what", "private_keys"}, {"rewrapped", p.rewrapped}, {"skipped", p.skipped}, {"failed", p.failed}}},
      origin);
  if (!recorded) return sdk::fail(recorded.error());
  // Users' data keys, wrapped by the cipher like private keys.
  auto data_keys = ctx_.data_keys->rewrap(batch_size, {});
  if (!data_keys) return sdk::fail(data_keys.error());
  if (data_keys->total > 0) {
    auto logged = ctx_.audit->record(
        AuditRecord{std::nullopt, "key.rewrap", "cipher:" + p.target_key_id,
                    data_keys->failed ? sdk::AuditStatus::failure : sdk::AuditStatus::success,
                    {{"what", "data_keys"},
                     {"rewrapped", data_keys->rewrapped},
                     {"skipped", data_keys->skipped},
                     {"failed", data_keys->failed}}},
        origin);
    if (!logged) return sdk::fail(logged.error());
  }
  p.total += data_keys->total;
  p.rewrapped += data_keys->rewrapped;
  p.skipped += data_keys->skipped;
  p.failed += data_keys->failed;
  if (progress) progress(p);
  return p;
}

}  // namespace strata
