// RFC 9162 Merkle trees and C2SP signed notes (core/services/src/ledger/).
// The Go verifier in tests/ledger/go_verifier checks the same proofs
// independently (transparency-dev/merkle).

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "ledger/merkle.hpp"
#include "ledger/signed_note.hpp"

using namespace strata::ledger;

namespace {

std::vector<Hash> leaves(std::size_t n) {
  std::vector<Hash> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(leaf_hash("leaf " + std::to_string(i)));
  return out;
}

// MTH straight from RFC 9162's recursive definition, to check the compact range against.
Hash reference_root(std::span<const Hash> d) {
  if (d.size() == 1) return d[0];
  std::size_t k = 1;
  while (k * 2 < d.size()) k *= 2;
  return node_hash(reference_root(d.first(k)), reference_root(d.subspan(k)));
}

}  // namespace

TEST_CASE("Merkle: hashes as RFC 9162 defines them", "[ledger][merkle]") {
  // SHA-256 of nothing: the root of the empty tree.
  CHECK(to_hex(root_of({})) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // SHA-256(0x00): the hash of an empty leaf (the RFC 6962 test vector).
  CHECK(to_hex(leaf_hash("")) == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  auto d = leaves(1000);
  for (std::size_t n : {1, 2, 3, 4, 5, 7, 8, 9, 31, 32, 33, 1000})
    CHECK(root_of(std::span(d).first(n)) == reference_root(std::span(d).first(n)));
  Hash back{};
  REQUIRE(from_hex(to_hex(d[5]), back));
  CHECK(back == d[5]);
  CHECK_FALSE(from_hex("zz", back));
}

TEST_CASE("Merkle: a compact range restored from its peaks goes on as before", "[ledger][merkle]") {
  auto d = leaves(77);
  CompactRange range;
  for (std::size_t i = 0; i < 50; ++i) range.append(d[i]);
  auto restored = CompactRange::from(range.size(), range.peaks());
  REQUIRE(restored);
  for (std::size_t i = 50; i < 77; ++i) restored->append(d[i]);
  CHECK(restored->root() == root_of(d));
  CHECK_FALSE(CompactRange::from(50, {}));  // 50 = 0b110010: three peaks, not none
}

TEST_CASE("Merkle: every inclusion proof verifies, and no altered one does", "[ledger][merkle]") {
  auto d = leaves(70);
  for (std::uint64_t n = 1; n <= d.size(); ++n) {
    Hash root = root_of(std::span(d).first(n));
    for (std::uint64_t i = 0; i < n; ++i) {
      auto proof = inclusion_proof(d, i, n);
      INFO("leaf " << i << " of " << n);
      REQUIRE(verify_inclusion(d[i], i, n, proof, root));
      CHECK_FALSE(verify_inclusion(d[(i + 1) % d.size()], i, n, proof, root));  // another leaf
      if (n > 1) CHECK_FALSE(verify_inclusion(d[i], (i + 1) % n, n, proof, root));  // another place
      if (!proof.empty()) {
        auto bent = proof;
        bent[0][0] ^= 1;
        CHECK_FALSE(verify_inclusion(d[i], i, n, bent, root));
      }
    }
  }
}

TEST_CASE("Merkle: every consistency proof verifies, and none between unrelated trees", "[ledger][merkle]") {
  auto d = leaves(40);
  auto other = d;
  other[3] = leaf_hash("rewritten history");
  for (std::uint64_t n = 1; n <= d.size(); ++n)
    for (std::uint64_t m = 0; m <= n; ++m) {
      INFO("from " << m << " to " << n);
      auto proof = consistency_proof(d, m, n);
      Hash old_root = root_of(std::span(d).first(m)), new_root = root_of(std::span(d).first(n));
      REQUIRE(verify_consistency(m, n, old_root, new_root, proof));
      if (m > 3 && m < n) {
        // The old tree had another leaf 3: the new one does not extend it.
        CHECK_FALSE(verify_consistency(m, n, root_of(std::span(other).first(m)), new_root, proof));
      }
    }
}

TEST_CASE("Signed note: signs, verifies, and refuses an altered note or another key", "[ledger][note]") {
  auto key = SigningKey::from_seed(std::string(32, '\x07'), "strata.audit/test/1").value();
  auto vkey = VerifierKey::parse(key.verifier_key()).value();
  CHECK(vkey.name == "strata.audit/test/1");
  std::string body = "strata.audit/test/1\n3\n" + base64(std::string(32, '\x01')) + "\n";
  std::string note = key.sign(body);
  CHECK(note.starts_with(body + "\n\xe2\x80\x94 strata.audit/test/1 "));
  CHECK(open_note(note, vkey).value() == body);

  std::string altered = note;
  altered[body.find('3')] = '4';  // the size, grown after signing
  CHECK(open_note(altered, vkey).error().code == strata::sdk::ErrorCode::auth_failed);
  auto other = SigningKey::from_seed(std::string(32, '\x08'), "strata.audit/test/1").value();
  CHECK(open_note(note, VerifierKey::parse(other.verifier_key()).value()).error().code ==
        strata::sdk::ErrorCode::auth_failed);
  CHECK(open_note("no signatures\n", vkey).error().code == strata::sdk::ErrorCode::invalid_argument);
  CHECK_FALSE(VerifierKey::parse("name+00000000+AAAA"));
  CHECK_FALSE(VerifierKey::parse("name+zzzzzzzz+" + key.verifier_key().substr(key.verifier_key().rfind('+') + 1)));
  CHECK_FALSE(SigningKey::from_seed(std::string(32, 'x'), "has space"));
}

TEST_CASE("base64: round trip with and without padding", "[ledger][note]") {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)})
    CHECK(unbase64(base64(s)).value() == s);
  CHECK(base64("abc") == "YWJj");
  CHECK_FALSE(unbase64("abc"));
}
