#include "personal_fields.hpp"

#include <algorithm>
#include <array>

#include <cryptopp/hmac.h>
#include <cryptopp/sha.h>

#include "../encoding.hpp"

namespace strata {
namespace {

// The metadata keys that hold what a person typed about themselves.
constexpr std::array<std::string_view, 2> personal_metadata{"username", "email"};

// What a sealed field is bound to: its event and its name, so a sealed value
// copied into another event or field does not open.
sdk::Bytes field_associated_data(const sdk::Uuid& event_id, std::string_view field) {
  constexpr std::string_view label = "strata:audit-field:v1";
  const auto& id = event_id.bytes();
  // Sized once and copied into (GCC 12 misreads a vector grown by inserts as written out of bounds).
  sdk::Bytes aad(label.size() + id.size() + field.size());
  auto at = std::copy(label.begin(), label.end(), aad.begin());
  at = std::copy(id.begin(), id.end(), at);
  std::copy(field.begin(), field.end(), at);
  return aad;
}

std::optional<sdk::Uuid> user_of(const sdk::AuditEvent& event) {
  if (!event.user_id) return std::nullopt;
  return sdk::Uuid::parse(*event.user_id);
}

}  // namespace

sdk::Result<std::string> PersonalFields::pseudonym(std::string_view field, std::string_view value) {
  std::lock_guard lock(mutex_);
  if (pseudonym_key_.empty()) {
    auto key = keys_->pseudonym_key();
    if (!key) return sdk::fail(key.error());
    pseudonym_key_.swap(*key);  // SecByteBlock has no move assignment: a swap, not a copy of the key
  }
  CryptoPP::HMAC<CryptoPP::SHA256> hmac(pseudonym_key_.data(), pseudonym_key_.size());
  hmac.Update(reinterpret_cast<const CryptoPP::byte*>(field.data()), field.size());
  const CryptoPP::byte separator = 0;
  hmac.Update(&separator, 1);
  hmac.Update(reinterpret_cast<const CryptoPP::byte*>(value.data()), value.size());
  sdk::Bytes digest(CryptoPP::HMAC<CryptoPP::SHA256>::DIGESTSIZE);
  hmac.Final(digest.data());
  digest.resize(16);  // 128 bits: no collisions among a trail's values, half the width in every row
  return std::string(pseudonym_prefix) + sdk::to_hex(digest);
}

std::string PersonalFields::protect_field(const sdk::AuditEvent& event, std::string_view field,
                                          const std::string& value) {
  if (auto user = user_of(event)) {
    auto sealed = keys_->seal_for(*user, sdk::as_bytes(value), field_associated_data(event.id, field));
    if (sealed) return std::string(sealed_prefix) + detail::base64url(detail::encode_sealed(*sealed));
  }
  auto hashed = pseudonym(field, value);
  if (hashed) return *hashed;
  return "[withheld: " + hashed.error().describe() + "]";
}

void PersonalFields::protect(sdk::AuditEvent& event, nlohmann::json& metadata) {
  // The markers the services write for no address are no one's.
  if (event.ip != "local" && event.ip != "unknown") event.ip = protect_field(event, "ip", event.ip);
  if (!metadata.is_object()) return;
  for (std::string_view key : personal_metadata) {
    auto it = metadata.find(key);
    if (it != metadata.end() && it->is_string()) *it = protect_field(event, key, it->get<std::string>());
  }
}

std::string PersonalFields::reveal_field(const sdk::AuditEvent& event, std::string_view field,
                                         const std::string& value) {
  if (!std::string_view(value).starts_with(sealed_prefix)) return value;
  auto bytes = detail::from_base64url(std::string_view(value).substr(sealed_prefix.size()));
  if (!bytes) return value;
  auto sealed = detail::decode_sealed(*bytes);
  if (!sealed) return value;
  auto opened = keys_->open(*sealed, field_associated_data(event.id, field));
  if (opened) return std::string(opened->begin(), opened->end());
  if (opened.error().code == sdk::ErrorCode::key_destroyed) return std::string(erased);
  return "[does not open: " + std::string(sdk::to_string(opened.error().code)) + "]";
}

void PersonalFields::reveal(sdk::AuditEvent& event) {
  event.ip = reveal_field(event, "ip", event.ip);
  auto metadata = nlohmann::json::parse(event.metadata, nullptr, false);
  if (!metadata.is_object()) return;
  bool changed = false;
  for (std::string_view key : personal_metadata) {
    auto it = metadata.find(key);
    if (it == metadata.end() || !it->is_string()) continue;
    std::string shown = reveal_field(event, key, it->get<std::string>());
    changed = changed || shown != it->get<std::string>();
    *it = std::move(shown);
  }
  if (changed) event.metadata = metadata.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace strata
