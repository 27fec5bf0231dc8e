// RFC 9162 section 2.1, written from the RFC's definitions (MTH, PATH,
// PROOF/SUBPROOF) and its verification algorithms.

#include "merkle.hpp"

#include <openssl/evp.h>

#include <bit>
#include <stdexcept>

namespace strata::ledger {
namespace {

Hash sha256(std::uint8_t prefix, std::string_view a, std::string_view b = {}) {
  // One context per thread, reused: verifying a long log hashes tens of millions of times.
  struct Context {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Context() { EVP_MD_CTX_free(ctx); }
  };
  thread_local Context context;
  static const EVP_MD* const md = EVP_sha256();
  Hash out{};
  bool ok = context.ctx && EVP_DigestInit_ex(context.ctx, md, nullptr) == 1 &&
            EVP_DigestUpdate(context.ctx, &prefix, 1) == 1 && EVP_DigestUpdate(context.ctx, a.data(), a.size()) == 1 &&
            EVP_DigestUpdate(context.ctx, b.data(), b.size()) == 1 &&
            EVP_DigestFinal_ex(context.ctx, out.data(), nullptr) == 1;
  if (!ok) throw std::runtime_error("SHA-256 failed in OpenSSL");
  return out;
}

std::string_view bytes(const Hash& h) { return {reinterpret_cast<const char*>(h.data()), h.size()}; }

// The largest power of two smaller than n (n >= 2).
std::uint64_t split(std::uint64_t n) { return std::bit_floor(n - 1); }

Hash mth(std::span<const Hash> leaves, std::uint64_t lo, std::uint64_t hi) {
  return root_of(leaves.subspan(lo, hi - lo));
}

void path(std::span<const Hash> leaves, std::uint64_t m, std::uint64_t lo, std::uint64_t hi, std::vector<Hash>& out) {
  const std::uint64_t n = hi - lo;
  if (n <= 1) return;
  const std::uint64_t k = split(n);
  if (m < k) {
    path(leaves, m, lo, lo + k, out);
    out.push_back(mth(leaves, lo + k, hi));
  } else {
    path(leaves, m - k, lo + k, hi, out);
    out.push_back(mth(leaves, lo, lo + k));
  }
}

void subproof(std::span<const Hash> leaves, std::uint64_t m, std::uint64_t lo, std::uint64_t hi, bool whole,
              std::vector<Hash>& out) {
  const std::uint64_t n = hi - lo;
  if (m == n) {
    if (!whole) out.push_back(mth(leaves, lo, hi));
    return;
  }
  const std::uint64_t k = split(n);
  if (m <= k) {
    subproof(leaves, m, lo, lo + k, whole, out);
    out.push_back(mth(leaves, lo + k, hi));
  } else {
    subproof(leaves, m - k, lo + k, hi, false, out);
    out.push_back(mth(leaves, lo, lo + k));
  }
}

}  // namespace

Hash leaf_hash(std::string_view data) { return sha256(0x00, data); }
Hash node_hash(const Hash& left, const Hash& right) { return sha256(0x01, bytes(left), bytes(right)); }

std::string to_hex(const Hash& h) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (auto b : h) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

bool from_hex(std::string_view text, Hash& out) {
  if (text.size() != 64) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < 32; ++i) {
    int hi = nibble(text[2 * i]), lo = nibble(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}

std::optional<CompactRange> CompactRange::from(std::uint64_t size, std::vector<Hash> peaks) {
  if (static_cast<std::size_t>(std::popcount(size)) != peaks.size()) return std::nullopt;
  CompactRange range;
  range.size_ = size;
  range.peaks_ = std::move(peaks);
  return range;
}

void CompactRange::append(const Hash& leaf) {
  Hash h = leaf;
  // Each trailing set bit of the size is a perfect subtree the new leaf completes.
  for (std::uint64_t n = size_; n & 1; n >>= 1) {
    h = node_hash(peaks_.back(), h);
    peaks_.pop_back();
  }
  peaks_.push_back(h);
  ++size_;
}

Hash CompactRange::root() const {
  if (peaks_.empty()) {
    Hash empty{};  // SHA-256 of the empty string
    if (EVP_Digest("", 0, empty.data(), nullptr, EVP_sha256(), nullptr) != 1)
      throw std::runtime_error("SHA-256 failed in OpenSSL");
    return empty;
  }
  Hash r = peaks_.back();
  for (auto it = peaks_.rbegin() + 1; it != peaks_.rend(); ++it) r = node_hash(*it, r);
  return r;
}

Hash root_of(std::span<const Hash> leaves) {
  CompactRange range;
  for (const auto& leaf : leaves) range.append(leaf);
  return range.root();
}

std::vector<Hash> inclusion_proof(std::span<const Hash> leaves, std::uint64_t index, std::uint64_t size) {
  if (size > leaves.size() || index >= size) throw std::out_of_range("inclusion proof: index or size out of range");
  std::vector<Hash> out;
  path(leaves, index, 0, size, out);
  return out;
}

std::vector<Hash> consistency_proof(std::span<const Hash> leaves, std::uint64_t m, std::uint64_t n) {
  if (n > leaves.size() || m > n) throw std::out_of_range("consistency proof: sizes out of range");
  std::vector<Hash> out;
  if (m == 0 || m == n) return out;
  subproof(leaves, m, 0, n, true, out);
  return out;
}

bool verify_inclusion(const Hash& leaf, std::uint64_t index, std::uint64_t size, std::span<const Hash> proof,
                      const Hash& root) {
  if (index >= size) return false;
  std::uint64_t fn = index, sn = size - 1;
  Hash r = leaf;
  for (const auto& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      r = node_hash(p, r);
      while (!(fn & 1) && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = node_hash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool verify_consistency(std::uint64_t m, std::uint64_t n, const Hash& root_m, const Hash& root_n,
                        std::span<const Hash> proof) {
  if (m > n) return false;
  if (m == n) return proof.empty() && root_m == root_n;
  if (m == 0) return proof.empty();
  if (proof.empty()) return false;
  std::vector<Hash> path;
  if (std::has_single_bit(m)) path.push_back(root_m);
  path.insert(path.end(), proof.begin(), proof.end());
  std::uint64_t fn = m - 1, sn = n - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0], sr = path[0];
  for (std::size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      fr = node_hash(c, fr);
      sr = node_hash(c, sr);
      while (!(fn & 1) && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = node_hash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == root_m && sr == root_n && sn == 0;
}

}  // namespace strata::ledger
