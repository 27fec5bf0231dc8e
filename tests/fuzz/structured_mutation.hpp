#pragma once
// Structure-aware mutation for the targets whose input is a document (the
// config's TOML, a backup manifest's JSON). Most byte mutations of a
// document break its syntax, and the parser refuses it before the code
// behind the parser runs. The targets' custom mutators (built with
// libFuzzer only: STRATA_LIBFUZZER) parse the input, change one value of the
// tree with these helpers, and write the tree back; an input that does not
// parse, and one mutation in eight, get libFuzzer's own byte mutations.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <random>
#include <string>

extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

namespace strata::fuzz {

using Random = std::minstd_rand;

/// One of `n` choices, n > 0.
inline std::size_t pick(Random& random, std::size_t n) {
  return std::uniform_int_distribution<std::size_t>(0, n - 1)(random);
}

/// Whether this mutation should be libFuzzer's byte mutation instead.
inline bool bytes_instead(Random& random) {
  return pick(random, 8) == 0;
}

/// `text` through libFuzzer's byte mutations (with the target's dictionary).
inline std::string mutate_string(std::string text) {
  std::size_t used = text.size();
  text.resize(used * 2 + 16);
  text.resize(LLVMFuzzerMutate(reinterpret_cast<std::uint8_t*>(text.data()), used, text.size()));
  return text;
}

/// An integer at an edge (0, ±1, the bounds of common widths) or a small step from `value`.
inline std::int64_t mutate_integer(Random& random, std::int64_t value) {
  static constexpr std::int64_t edges[] = {0,
                                           1,
                                           -1,
                                           255,
                                           65535,
                                           65536,
                                           std::numeric_limits<std::int32_t>::max(),
                                           std::int64_t{std::numeric_limits<std::int32_t>::max()} + 1,
                                           std::numeric_limits<std::uint32_t>::max(),
                                           std::numeric_limits<std::int64_t>::max(),
                                           std::numeric_limits<std::int64_t>::min()};
  if (pick(random, 2) == 0) return edges[pick(random, std::size(edges))];
  // Wraps instead of overflowing (no undefined behaviour for UBSan to stop on).
  auto step = static_cast<std::uint64_t>(pick(random, 17)) - 8;
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(value) + step);
}

/// Writes `text` as the mutated input when it fits in `max_size`; byte
/// mutations of the original otherwise.
inline std::size_t emit(const std::string& text, std::uint8_t* data, std::size_t size, std::size_t max_size) {
  if (text.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
  std::memcpy(data, text.data(), text.size());
  return text.size();
}

}  // namespace strata::fuzz
