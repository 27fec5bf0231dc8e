#pragma once
// Ed25519 keys and C2SP signed notes (https://c2sp.org/signed-note), the
// format the ledger's checkpoints are written in (https://c2sp.org/tlog-checkpoint):
//
//   <origin>\n<tree size>\n<base64 root>\n
//   \n
//   — <key name> <base64(4-byte key id || 64-byte Ed25519 signature)>\n
//
// so any signed-note verifier (Go's golang.org/x/mod/sumdb/note, the
// transparency-dev tools) checks them with the printed verifier key
// "<name>+<key id hex>+<base64(0x01 || public key)>". OpenSSL does the signing.

#include "strata/export.hpp"  // STRATA_API here: exported for the project's tests only
#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "strata/sdk/error.hpp"

namespace strata::ledger {

class STRATA_API SigningKey {
 public:
  /// Loads the key at `path` (32 bytes of Ed25519 seed, hex, mode 0600), or
  /// creates one there when there is none.
  static sdk::Result<SigningKey> load_or_create(const std::filesystem::path& path, std::string name);
  /// A key from a 32-byte seed (tests).
  static sdk::Result<SigningKey> from_seed(std::string_view seed, std::string name);

  const std::string& name() const noexcept { return name_; }
  /// "<name>+<key id, 8 hex digits>+<base64(0x01 || public key)>".
  std::string verifier_key() const;
  /// `text` (non-empty, ending in a newline) followed by its signature line.
  std::string sign(std::string_view text) const;

 private:
  SigningKey(std::string name, std::array<std::uint8_t, 32> seed, std::array<std::uint8_t, 32> public_key)
      : name_(std::move(name)), seed_(seed), public_key_(public_key) {}
  std::string name_;
  std::array<std::uint8_t, 32> seed_;
  std::array<std::uint8_t, 32> public_key_;
};

/// A parsed verifier key.
struct STRATA_API VerifierKey {
  std::string name;
  std::uint32_t id = 0;
  std::array<std::uint8_t, 32> public_key{};
  /// Parses "<name>+<hex id>+<base64 key>"; `invalid_argument` naming what is wrong.
  static sdk::Result<VerifierKey> parse(std::string_view text);
};

/// The text of a signed note when a signature line by `key` verifies;
/// `auth_failed` when it is missing or does not verify, `invalid_argument`
/// when the note is malformed.
STRATA_API sdk::Result<std::string> open_note(std::string_view note, const VerifierKey& key);

/// Base64 (standard alphabet, padded), and back (nullopt on bad input).
STRATA_API std::string base64(std::string_view bytes);
STRATA_API std::optional<std::string> unbase64(std::string_view text);

}  // namespace strata::ledger
