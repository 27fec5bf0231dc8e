// The start-up key check (key_check.hpp).

#include "key_check.hpp"

#include <algorithm>
#include <map>

#include "encoding.hpp"
#include "erasure/data_keys.hpp"
#include "strata/services/keys.hpp"
#include "strata/services/messages.hpp"

namespace strata::detail {
namespace {

// How many of the newest messages and key records are tried: enough that a
// few altered rows cannot pass for a wrong key, cheap at every start.
constexpr std::size_t sample_size = 16;

struct Tally {
  std::size_t opened = 0, refused = 0;
  std::string example;  // one item the key did not open
};

}  // namespace

sdk::Result<void> check_cipher_opens_storage(sdk::Storage& storage, sdk::Cipher& cipher) {
  auto ring = cipher.key_ids();
  if (!ring) return sdk::fail(ring.error());
  std::map<std::string, Tally> by_key;
  auto count = [&](const std::string& key_id, const sdk::Result<sdk::Bytes>& opened, const std::string& what) {
    if (std::find(ring->begin(), ring->end(), key_id) == ring->end()) return;
    auto& tally = by_key[key_id];
    if (opened) ++tally.opened;
    else if (opened.error().code == sdk::ErrorCode::auth_failed && ++tally.refused == 1) tally.example = what;
  };

  // Every message whose key id is not '': Strata's (the seed's have none, and no tag).
  if (auto page = storage.messages_not_under_key("", sdk::PageRequest{sample_size, std::nullopt})) {
    for (const auto& m : page->items)
      if (!m.encrypted_content.empty())  // empty: over the read bound (sdk::max_read_ciphertext_bytes)
        count(m.key_id,
              cipher.open(sdk::Sealed{m.key_id, m.iv, m.encrypted_content},
                          Messages::associated_data(m.id, m.sender_id, m.recipient_id)),
              "message " + m.id.str());
  }
  if (auto page = storage.all_keys(sdk::PageRequest{sample_size, std::nullopt})) {
    for (const auto& k : page->items) {
      auto sealed = decode_sealed(k.private_key_encrypted);
      if (sealed) count(sealed->key_id, cipher.open(*sealed, Keys::associated_data(k.id, k.user_id)), "key " + k.id.str());
    }
  }
  // Users' data keys are wrapped by the cipher too (erasure/data_keys.hpp).
  if (auto page = storage.all_data_keys(sdk::PageRequest{sample_size, std::nullopt})) {
    for (const auto& k : page->items) {
      if (k.destroyed_at) continue;
      auto sealed = decode_sealed(k.wrapped);
      if (!sealed) continue;
      auto opened = cipher.open(*sealed, DataKeys::wrap_associated_data(k.id, k.user_id));
      if (opened) std::fill(opened->begin(), opened->end(), 0);
      count(sealed->key_id, opened, "data key " + k.id.str());
    }
  }
  for (const auto& [key_id, tally] : by_key) {
    if (tally.opened > 0 || tally.refused < 2) continue;
    return sdk::fail(sdk::ErrorCode::auth_failed,
                     "the cipher's key '" + key_id + "' opens none of the " + std::to_string(tally.refused) +
                         " newest items the storage holds sealed under it (" + tally.example +
                         ", …): it is not the key they were sealed with — a key file replaced or generated anew? "
                         "Nothing was written; give the original key (key_file, STRATA_KEY or DB_ENCRYPTION_KEY)");
  }
  return {};
}

}  // namespace strata::detail
