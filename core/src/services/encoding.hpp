#pragma once
// base64url without padding (RFC 4648 §5), via Crypto++: session tokens,
// password-hash fields and public keys are written this way; and SHA-256 in hex.

#include <cryptopp/base64.h>
#include <cryptopp/filters.h>
#include <cryptopp/sha.h>

#include <optional>
#include <string>
#include <string_view>

#include "strata/sdk/bytes.hpp"

namespace strata::detail {

inline std::string base64url(sdk::BytesView data) {
  std::string out;
  CryptoPP::StringSource source(data.data(), data.size(), true,
                                new CryptoPP::Base64URLEncoder(new CryptoPP::StringSink(out), false));
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

/// nullopt when `text` holds anything but the base64url alphabet.
inline std::optional<sdk::Bytes> from_base64url(std::string_view text) {
  for (char c : text)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return std::nullopt;
  std::string decoded;
  CryptoPP::StringSource source(reinterpret_cast<const CryptoPP::byte*>(text.data()), text.size(), true,
                                new CryptoPP::Base64URLDecoder(new CryptoPP::StringSink(decoded)));
  return sdk::Bytes(decoded.begin(), decoded.end());
}

/// SHA-256 of `data`, as 64 lowercase hex characters.
inline std::string sha256_hex(sdk::BytesView data) {
  CryptoPP::SHA256 sha;
  sdk::Bytes digest(CryptoPP::SHA256::DIGESTSIZE);
  sha.CalculateDigest(digest.data(), data.data(), data.size());
  return sdk::to_hex(digest);
}

}  // namespace strata::detail
