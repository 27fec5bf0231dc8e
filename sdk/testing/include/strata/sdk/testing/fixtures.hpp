#pragma once

#include <filesystem>
// Test data builders shared by the conformance kits.

#include <chrono>
#include <string>

#include "strata/sdk/sdk.hpp"

namespace strata::sdk::testing {

/// Strings that break naive SQL, shell, JSON or key-value handling.
inline const std::vector<std::string>& hostile_strings() {
  static const std::vector<std::string> strings = {
      "robert'); DROP TABLE users;--",
      "quote\" back\\slash",
      "semi;colon $(touch /tmp/pwned) `id`",
      "new\nline\ttab\r\n",
      "unicode: Zoë 東京 🔐",
      "{\"$gt\": \"\"}",
      "%s%n%x",
  };
  return strings;
}

/// Every byte value 0..255, NULs included.
inline Bytes all_byte_values() {
  Bytes out(256);
  for (int i = 0; i < 256; ++i) out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i);
  return out;
}

/// The current time truncated to whole milliseconds (BSON dates keep milliseconds).
inline Timestamp now_ms() {
  return Timestamp::from_micros(Timestamp::now().micros() / 1000 * 1000);
}

/// A user with unique username and email built from `tag`.
inline User make_user(const std::string& tag, Timestamp at = now_ms()) {
  User u;
  u.id = Uuid::generate();
  u.username = tag + "-" + u.id.str().substr(0, 8);
  u.email = u.username + "@example.test";
  u.password_hash = "$scrypt$ln=15,r=8,p=1$c2FsdA$aGFzaA";
  u.created_at = at;
  u.updated_at = at;
  return u;
}

/// A message from `from` to `to` created at `at`, with binary content.
inline Message make_message(const Uuid& from, const Uuid& to, Timestamp at) {
  Message m;
  m.id = Uuid::generate();
  m.sender_id = from;
  m.recipient_id = to;
  m.encrypted_content = all_byte_values();
  m.iv = Bytes(12, 0x42);
  m.key_id = "k1";
  m.created_at = at;
  return m;
}

/// A key record for `user` created at `at`.
inline KeyRecord make_key(const Uuid& user, Timestamp at) {
  KeyRecord k;
  k.id = Uuid::generate();
  k.user_id = user;
  // 32 bytes like an X25519 public key, with a NUL and a high byte in it.
  k.public_key = Bytes(32, 0x00);
  for (std::size_t i = 0; i < 16; ++i) k.public_key[i] = k.id.bytes()[i];
  k.public_key[31] = 0xff;
  k.private_key_encrypted = all_byte_values();
  k.created_at = at;
  return k;
}

/// A directory of its own under the system's temp directory, removed with the object.
class ScratchDir {
 public:
  ScratchDir() : path_(std::filesystem::temp_directory_path() / ("strata-kit-" + Uuid::generate().str())) {
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// An event at `at` with the given action, user and status.
inline AuditEvent make_event(Timestamp at, std::string action, std::optional<std::string> user,
                             AuditStatus status = AuditStatus::success) {
  AuditEvent e;
  e.id = Uuid::generate();
  e.timestamp = at;
  e.user_id = std::move(user);
  e.ip = "127.0.0.1";
  e.action = std::move(action);
  e.resource = "message:" + e.id.str();
  e.status = status;
  e.metadata = R"({"client":"kit","attempt":1})";
  return e;
}

}  // namespace strata::sdk::testing
