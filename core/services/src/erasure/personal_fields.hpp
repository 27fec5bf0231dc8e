#pragma once
// Personal data in audit events, kept erasable (core/README.md, "Erasure").
//
// An event's address (`ip`) and the personal fields of its metadata
// (`username`, `email`) are what erasing a user must reach in the audit
// trail, yet the trail is sealed into the ledger and may not change. So
// with [erasure] per_user_keys they are never written in clear:
//   - an event with a user is sealed under that user's data key:
//     "sealed:<base64url of the sealed envelope>", bound to the event's id
//     and the field's name; an erase destroys the key, and the field reads
//     "[erased]" from then on while the event, and its leaf, stay as stored;
//   - an event without one (a failed login of an unknown name), or whose
//     user has no key to seal for (erased, deactivated), carries a keyed
//     hash: "pseudonym:<32 hex digits>", HMAC-SHA256 under
//     DataKeys::pseudonym_key(). Equal values give equal pseudonyms, so
//     counting attempts per address still works; pseudonym() gives an
//     operator the one for a value they suspect.
// Without per_user_keys events keep these fields in clear, as the seed did.

#include <memory>
#include <string>
#include <string_view>

#include <cryptopp/secblock.h>
#include <nlohmann/json.hpp>

#include "data_keys.hpp"
#include "strata/sdk/audit.hpp"

namespace strata {

class PersonalFields {
 public:
  explicit PersonalFields(std::shared_ptr<DataKeys> keys) : keys_(std::move(keys)) {}

  /// Replaces `event.ip` and the personal keys of `metadata` as above
  /// (`event.id` and `event.user_id` must be set). Never fails: a value that
  /// can be neither sealed nor hashed (the storage is down) is withheld.
  void protect(sdk::AuditEvent& event, nlohmann::json& metadata);
  /// Opens the sealed fields of a stored event in place: the clear value, or
  /// "[erased]" when the user's key was destroyed; pseudonyms stay.
  void reveal(sdk::AuditEvent& event);
  /// The pseudonym `value` gets in `field` ("ip", "username", "email").
  sdk::Result<std::string> pseudonym(std::string_view field, std::string_view value);

  static constexpr std::string_view sealed_prefix = "sealed:";
  static constexpr std::string_view pseudonym_prefix = "pseudonym:";
  static constexpr std::string_view erased = "[erased]";

 private:
  std::string protect_field(const sdk::AuditEvent& event, std::string_view field, const std::string& value);
  std::string reveal_field(const sdk::AuditEvent& event, std::string_view field, const std::string& value);

  std::shared_ptr<DataKeys> keys_;
  std::mutex mutex_;
  CryptoPP::SecByteBlock pseudonym_key_;  // loaded once: it is never erased or rotated
};

}  // namespace strata
