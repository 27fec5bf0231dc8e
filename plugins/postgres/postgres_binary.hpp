#pragma once
// PostgreSQL's binary wire format for the types Strata stores: network byte
// order integers, and timestamps as microseconds since 2000-01-01 UTC. Used by
// result rows (postgres_rows.hpp) and binary COPY (postgres_copy.cpp).

#include <cstdint>
#include <limits>
#include <string>

#include "strata/sdk/timestamp.hpp"

namespace strata::postgres::binary {

/// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
inline constexpr std::int64_t postgres_epoch_micros = 946'684'800LL * 1'000'000;

inline void put16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}
inline void put32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}
inline void put64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

/// The big-endian integer in the first 8 bytes of `p`.
inline std::uint64_t get64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

/// A timestamptz value on the wire (int64 microseconds since PostgreSQL's
/// epoch). 'infinity' and '-infinity' are the int64 extremes on the wire as in
/// sdk::Timestamp. A finite time too late (after about 294247 AD, which
/// PostgreSQL can hold and Unix microseconds cannot) reads as infinity rather
/// than wrapping round to a year before Christ; one too early as -infinity.
inline std::uint64_t timestamp_value(sdk::Timestamp t) {
  constexpr auto lowest = std::numeric_limits<std::int64_t>::min();
  if (t == sdk::Timestamp::infinity()) return static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (t.micros() < lowest + postgres_epoch_micros) return static_cast<std::uint64_t>(lowest);
  return static_cast<std::uint64_t>(t.micros() - postgres_epoch_micros);
}
inline sdk::Timestamp timestamp_from(std::uint64_t wire) {
  auto micros = static_cast<std::int64_t>(wire);
  if (micros == std::numeric_limits<std::int64_t>::min()) return sdk::Timestamp::minus_infinity();
  if (micros > std::numeric_limits<std::int64_t>::max() - postgres_epoch_micros) return sdk::Timestamp::infinity();
  return sdk::Timestamp::from_micros(micros + postgres_epoch_micros);
}

}  // namespace strata::postgres::binary
