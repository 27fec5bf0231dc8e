#pragma once
// The Merkle tree of RFC 9162 (Certificate Transparency 2.0, section 2.1):
// leaf and node hashes with domain separation, the root of a list of leaves,
// inclusion and consistency proofs, and their verification. The audit
// ledger (audit_ledger.hpp) keeps its events' leaf hashes in such a tree, so
// anyone with a signed checkpoint (size, root) can check that an event is
// in the log, and that a later log only appended to an earlier one.

#include "strata/export.hpp"  // STRATA_API here: exported for the project's tests only
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace strata::ledger {

using Hash = std::array<std::uint8_t, 32>;  // SHA-256

/// SHA-256(0x00 || data): the hash of one leaf.
STRATA_API Hash leaf_hash(std::string_view data);
/// SHA-256(0x01 || left || right): the hash of an inner node.
STRATA_API Hash node_hash(const Hash& left, const Hash& right);
/// Lowercase hex, and back (false on anything but 64 hex digits).
STRATA_API std::string to_hex(const Hash& h);
STRATA_API bool from_hex(std::string_view text, Hash& out);

/// The root of a growing tree in O(log n) space: the roots of its perfect
/// subtrees, largest first. Appending is amortised O(1) hashes.
class STRATA_API CompactRange {
 public:
  CompactRange() = default;
  /// The range of a tree of `size` leaves from its peaks (as peaks() gave
  /// them); nullopt when their number does not fit the size.
  static std::optional<CompactRange> from(std::uint64_t size, std::vector<Hash> peaks);
  void append(const Hash& leaf);
  const std::vector<Hash>& peaks() const noexcept { return peaks_; }
  std::uint64_t size() const noexcept { return size_; }
  /// MTH of everything appended (for size 0, SHA-256 of nothing, as RFC 9162 says).
  Hash root() const;

 private:
  std::vector<Hash> peaks_;  // one per set bit of size_, largest subtree first
  std::uint64_t size_ = 0;
};

/// MTH(D[0:n]) of `leaves` (leaf hashes).
STRATA_API Hash root_of(std::span<const Hash> leaves);
/// PATH(index, D[0:size]): the audit path of leaf `index` in the tree of the first `size` leaves.
STRATA_API std::vector<Hash> inclusion_proof(std::span<const Hash> leaves, std::uint64_t index, std::uint64_t size);
/// PROOF(m, D[0:n]): that the tree of the first m leaves is a prefix of the tree of n.
STRATA_API std::vector<Hash> consistency_proof(std::span<const Hash> leaves, std::uint64_t m, std::uint64_t n);

/// RFC 9162 2.1.3.2: whether `proof` shows `leaf` at `index` in the tree of `size` with `root`.
STRATA_API bool verify_inclusion(const Hash& leaf, std::uint64_t index, std::uint64_t size, std::span<const Hash> proof,
                      const Hash& root);
/// RFC 9162 2.1.4.2: whether `proof` shows the tree (m, root_m) is a prefix of (n, root_n).
STRATA_API bool verify_consistency(std::uint64_t m, std::uint64_t n, const Hash& root_m, const Hash& root_n,
                        std::span<const Hash> proof);

}  // namespace strata::ledger
