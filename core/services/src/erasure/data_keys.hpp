#pragma once
// Users' data keys: what crypto-shredding destroys (core/README.md, "Erasure").
//
// With [erasure] per_user_keys, a message is sealed under its recipient's
// data key (and, with sent_messages = "erase", its sender's too: the key is
// HKDF over both, so erasing either party makes it unreadable), and a user's
// private key under that user's. A data key is 32 random bytes, AES-256-GCM
// here in the host (Crypto++), stored only wrapped by the cipher role (its
// associated data binds the key's id and user), so the cipher is the key
// ring that protects data keys and the data keys are what an erase destroys:
// one storage statement over the user's few keys, whatever they stored.
//
// Sealed values name their data keys in key_id: "dk:<id>" or
// "dk:<recipient key id>+<sender key id>". Anything else is the cipher's.
// Opened keys stay in this process for [erasure] key_cache_s; an erase in
// this process forgets them at once, one in another process within that.

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <cryptopp/secblock.h>

#include "strata/export.hpp"
#include "strata/sdk/sdk.hpp"
#include "strata/services/rewrap_progress.hpp"
#include "strata/settings.hpp"

namespace strata {

class STRATA_API DataKeys {
 public:
  DataKeys(std::shared_ptr<sdk::Storage> storage, std::shared_ptr<sdk::Cipher> cipher,
           std::shared_ptr<const sdk::Clock> clock, ErasureSettings settings);

  /// Whether new values are sealed under data keys ([erasure] per_user_keys).
  bool sealing() const { return settings_.per_user_keys; }
  const ErasureSettings& settings() const { return settings_; }
  /// Whether a key id names data keys (so the cipher cannot open it alone).
  static bool names_data_key(std::string_view key_id) { return key_id.starts_with(prefix); }

  /// Seals a message's text: under the recipient's data key (and the
  /// sender's, with sent_messages = "erase") when sealing(), else under the
  /// cipher's primary key. A user's first message makes their data key.
  sdk::Result<sdk::Sealed> seal_message(const sdk::Uuid& recipient, const sdk::Uuid& sender, sdk::BytesView plaintext,
                                        sdk::BytesView associated_data);
  /// Seals a user's own secret (their private key) under their data key when
  /// sealing(), else under the cipher's primary key.
  sdk::Result<sdk::Sealed> seal_for(const sdk::Uuid& user, sdk::BytesView plaintext, sdk::BytesView associated_data);
  /// Opens what either sealed, or anything the cipher sealed. A destroyed
  /// data key is `key_destroyed`; a wrong tag `auth_failed`.
  sdk::Result<sdk::Bytes> open(const sdk::Sealed& sealed, sdk::BytesView associated_data);

  /// The key audit events' personal fields are hashed under when they have
  /// no user to seal them for (erasure/personal_fields.hpp): a data key of
  /// pseudonym_owner(), made on first use, stored and backed up like the
  /// others and never erased, so a pseudonym stays the same across processes
  /// and restores.
  sdk::Result<CryptoPP::SecByteBlock> pseudonym_key();
  /// The nil id, which no account has: the owner of pseudonym_key().
  static sdk::Uuid pseudonym_owner() { return sdk::Uuid{}; }

  /// Destroys every data key of the user in the storage and forgets them
  /// here; the ids destroyed.
  sdk::Result<std::vector<sdk::Uuid>> destroy(const sdk::Uuid& user);
  /// Re-wraps every live data key not under the cipher's primary key.
  sdk::Result<RewrapProgress> rewrap(std::size_t batch_size, const std::function<void(const RewrapProgress&)>& progress);

  /// The associated data a data key is wrapped with: its id and user.
  static sdk::Bytes wrap_associated_data(const sdk::Uuid& key_id, const sdk::Uuid& user_id);
  /// The ids a key id names ("dk:<a>" or "dk:<a>+<b>"); nullopt if it names none or is malformed.
  static std::optional<std::vector<sdk::Uuid>> ids_in(std::string_view key_id);

 private:
  static constexpr std::string_view prefix = "dk:";
  struct Opened {
    CryptoPP::SecByteBlock key;
    std::chrono::steady_clock::time_point until;
  };

  // The user's newest live data key, made if they have none.
  sdk::Result<std::pair<sdk::Uuid, CryptoPP::SecByteBlock>> current(const sdk::Uuid& user);
  // A fresh data key for `user`, stored wrapped by the cipher.
  sdk::Result<std::pair<sdk::Uuid, CryptoPP::SecByteBlock>> make(const sdk::Uuid& user);
  // The key with this id, opened (cached for key_cache_s).
  sdk::Result<CryptoPP::SecByteBlock> key(const sdk::Uuid& id);
  sdk::Result<CryptoPP::SecByteBlock> unwrap(const sdk::DataKey& stored);
  void remember(const sdk::Uuid& id, const CryptoPP::SecByteBlock& key);

  std::shared_ptr<sdk::Storage> storage_;
  std::shared_ptr<sdk::Cipher> cipher_;
  std::shared_ptr<const sdk::Clock> clock_;
  ErasureSettings settings_;
  std::mutex mutex_;
  std::unordered_map<sdk::Uuid, Opened> opened_;             // by key id
  std::unordered_map<sdk::Uuid, sdk::Uuid> current_;         // user -> their newest key id
  std::set<sdk::Uuid> destroyed_;                            // tombstones seen: never change back
};

}  // namespace strata
