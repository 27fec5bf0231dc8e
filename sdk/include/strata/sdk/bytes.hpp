#pragma once
// Byte buffers and their conversions (text, hex).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace strata::sdk {

/// An owned byte buffer (ciphertexts, cache values, key material).
using Bytes = std::vector<std::uint8_t>;
/// A borrowed view of bytes.
using BytesView = std::span<const std::uint8_t>;

/// Copies text into bytes, unchanged (NULs included).
inline Bytes to_bytes(std::string_view text) { return Bytes(text.begin(), text.end()); }

/// Views text as bytes without copying.
inline BytesView as_bytes(std::string_view text) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

/// Copies bytes into a std::string, unchanged.
inline std::string to_string(BytesView bytes) { return std::string(bytes.begin(), bytes.end()); }

/// Lower-case hex of the bytes.
inline std::string to_hex(BytesView bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0x0f]);
  }
  return out;
}

/// Parses hex (either case); nullopt when the length is odd or a character is not hex.
inline std::optional<Bytes> from_hex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return std::nullopt;
  Bytes out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(hex[2 * i]);
    int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return out;
}

}  // namespace strata::sdk
