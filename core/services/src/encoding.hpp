#pragma once
// The byte encodings the services share, in one place: base64url without
// padding (RFC 4648 §5, via Crypto++) for session tokens and password-hash
// fields, SHA-256 in hex, and the envelope of sealed values.

#include <cryptopp/base64.h>
#include <cryptopp/filters.h>
#include <cryptopp/sha.h>

#include <optional>
#include <string>
#include <string_view>

#include "strata/sdk/bytes.hpp"
#include "strata/sdk/cipher.hpp"
#include "strata/sdk/timestamp.hpp"

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

/// A time as backup directories are named: 20261125T033900Z (UTC, to the
/// second); in that form names sort as their times do.
inline std::string utc_stamp(sdk::Timestamp t) {
  std::string iso = t.iso8601();  // 2026-11-25T03:39:00.123456Z
  std::string out;
  for (char c : iso.substr(0, 19))
    if (c != '-' && c != ':') out += c;
  return out + "Z";
}

/// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or code
/// points past U+10FFFF): text from callers is checked at the service boundary.
inline bool valid_utf8(std::string_view text) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  for (std::size_t i = 0; i < text.size();) {
    unsigned char lead = byte(i);
    // How many continuation bytes follow the lead byte; 4: not a lead byte.
    std::size_t more = lead < 0x80 ? 0 : (lead >> 5) == 0x6 ? 1 : (lead >> 4) == 0xe ? 2 : (lead >> 3) == 0x1e ? 3 : 4;
    if (more == 4 || i + more >= text.size()) return false;  // not a lead byte, or cut short
    std::uint32_t cp = more == 0 ? lead : lead & (0x3fu >> more);
    for (std::size_t k = 1; k <= more; ++k) {
      if ((byte(i + k) & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (byte(i + k) & 0x3f);
    }
    if ((more == 1 && cp < 0x80) || (more == 2 && cp < 0x800) || (more == 3 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += more + 1;
  }
  return true;
}

/// A cipher role's sealed value as one byte string (what private_key_encrypted
/// holds, and what an encrypted backup file is): version 1 | key id length |
/// key id | iv length | iv | ciphertext with its tag.
inline sdk::Bytes encode_sealed(const sdk::Sealed& sealed) {
  constexpr std::uint8_t version = 1;
  sdk::Bytes out;
  // Sized once up front (GCC 12 also misreads the growth from a two-byte start as out of bounds).
  out.reserve(3 + sealed.key_id.size() + sealed.iv.size() + sealed.ciphertext.size());
  out.push_back(version);
  out.push_back(static_cast<std::uint8_t>(sealed.key_id.size()));
  out.insert(out.end(), sealed.key_id.begin(), sealed.key_id.end());
  out.push_back(static_cast<std::uint8_t>(sealed.iv.size()));
  out.insert(out.end(), sealed.iv.begin(), sealed.iv.end());
  out.insert(out.end(), sealed.ciphertext.begin(), sealed.ciphertext.end());
  return out;
}

/// The inverse of encode_sealed; `invalid_argument` for anything else.
inline sdk::Result<sdk::Sealed> decode_sealed(sdk::BytesView in) {
  auto bad = [] { return sdk::fail(sdk::ErrorCode::invalid_argument, "not a sealed value in Strata's envelope format"); };
  if (in.size() < 2 || in[0] != 1) return bad();
  std::size_t id_len = in[1];
  if (in.size() < 2 + id_len + 1) return bad();
  sdk::Sealed s;
  s.key_id.assign(in.begin() + 2, in.begin() + 2 + static_cast<std::ptrdiff_t>(id_len));
  std::size_t iv_at = 2 + id_len;
  std::size_t iv_len = in[iv_at];
  if (in.size() < iv_at + 1 + iv_len) return bad();
  auto iv_begin = in.begin() + static_cast<std::ptrdiff_t>(iv_at + 1);
  s.iv.assign(iv_begin, iv_begin + static_cast<std::ptrdiff_t>(iv_len));
  s.ciphertext.assign(iv_begin + static_cast<std::ptrdiff_t>(iv_len), in.end());
  return s;
}

}  // namespace strata::detail
