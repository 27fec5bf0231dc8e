#pragma once
// RFC 4122 UUIDs: version-4 generation, canonical text form.

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace strata::sdk {

/// A 128-bit UUID. The all-zero value is the nil UUID.
class Uuid {
 public:
  /// The nil UUID (all zero).
  constexpr Uuid() noexcept = default;

  /// Wraps 16 raw bytes.
  explicit constexpr Uuid(const std::array<std::uint8_t, 16>& bytes) noexcept : bytes_(bytes) {}

  /// A random version-4 UUID from a per-thread generator seeded by the OS.
  static Uuid generate() {
    // mt19937_64 seeded from std::random_device (getrandom on Linux): ids are
    // unique and unpredictable enough for identifiers; secrets use the cipher's RNG.
    thread_local std::mt19937_64 engine{[] {
      std::random_device device;
      std::seed_seq seed{device(), device(), device(), device(), device(), device()};
      return std::mt19937_64(seed);
    }()};
    std::array<std::uint8_t, 16> b{};
    std::uint64_t hi = engine(), lo = engine();
    std::memcpy(b.data(), &hi, 8);
    std::memcpy(b.data() + 8, &lo, 8);
    b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
    b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
    return Uuid(b);
  }

  /// Parses the canonical 8-4-4-4-12 form (either case); nullopt otherwise.
  static std::optional<Uuid> parse(std::string_view text) noexcept {
    if (text.size() != 36) return std::nullopt;
    std::array<std::uint8_t, 16> b{};
    std::size_t out = 0;
    for (std::size_t i = 0; i < text.size();) {
      if (i == 8 || i == 13 || i == 18 || i == 23) {
        if (text[i] != '-') return std::nullopt;
        ++i;
        continue;
      }
      int hi = nibble(text[i]), lo = nibble(text[i + 1]);
      if (hi < 0 || lo < 0) return std::nullopt;
      b[out++] = static_cast<std::uint8_t>(hi << 4 | lo);
      i += 2;
    }
    return Uuid(b);
  }

  /// Canonical lower-case text, e.g. "1b4e28ba-2fa1-41d2-883f-0016d3cca427".
  std::string str() const {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (std::size_t i = 0; i < 16; ++i) {
      if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
      out.push_back(digits[bytes_[i] >> 4]);
      out.push_back(digits[bytes_[i] & 0x0f]);
    }
    return out;
  }

  /// The 16 raw bytes, network order.
  constexpr const std::array<std::uint8_t, 16>& bytes() const noexcept { return bytes_; }

  /// True for the nil UUID.
  constexpr bool is_nil() const noexcept { return *this == Uuid{}; }

  /// Byte-wise order, the same as PostgreSQL's uuid ordering.
  constexpr auto operator<=>(const Uuid&) const noexcept = default;

 private:
  static constexpr int nibble(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  std::array<std::uint8_t, 16> bytes_{};
};

}  // namespace strata::sdk

/// Hashing for unordered containers.
template <>
struct std::hash<strata::sdk::Uuid> {
  std::size_t operator()(const strata::sdk::Uuid& id) const noexcept {
    std::uint64_t a, b;
    std::memcpy(&a, id.bytes().data(), 8);
    std::memcpy(&b, id.bytes().data() + 8, 8);
    return static_cast<std::size_t>(a ^ (b * 0x9e3779b97f4a7c15ULL));
  }
};
