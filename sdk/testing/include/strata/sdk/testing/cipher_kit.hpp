#pragma once
// Cipher conformance kit. Instantiate once per cipher plugin:
//
//   STRATA_CIPHER_CONFORMANCE("aes_gcm", my_cipher_target())

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "strata/sdk/sdk.hpp"
#include "strata/sdk/testing/catch.hpp"
#include "strata/sdk/testing/expect.hpp"
#include "strata/sdk/testing/fixtures.hpp"

namespace strata::sdk::testing {

/// A key for a test ring: an id and 32 random bytes.
struct TestKey {
  std::string id;
  Bytes material;
};

/// A fresh random test key.
inline TestKey random_test_key(std::string id) {
  TestKey k{std::move(id), Bytes(32)};
  for (int i = 0; i < 4; ++i) {
    Uuid u = Uuid::generate();  // test keys need to be distinct, not secret
    std::copy(u.bytes().begin(), u.bytes().begin() + 8, k.material.begin() + i * 8);
  }
  return k;
}

/// What the cipher kit needs from a plugin.
struct CipherTarget {
  /// A cipher whose ring holds `ring`; `ring.front()` is the primary key.
  std::function<std::shared_ptr<Cipher>(const std::vector<TestKey>& ring)> make;
};

/// Runs every cipher check.
inline void run_cipher_conformance(const CipherTarget& target) {
  using detail::expect_error;
  using detail::expect_ok;
  const TestKey k1 = random_test_key("k1"), k2 = random_test_key("k2");
  std::shared_ptr<Cipher> c = target.make({k1});
  REQUIRE(c);
  const Bytes aad = to_bytes("message-id|sender|recipient");

  SECTION("health, primary key and key ids") {
    expect_ok(c->health());
    CHECK(expect_ok(c->primary_key_id()) == "k1");
    CHECK(expect_ok(c->key_ids()) == std::vector<std::string>{"k1"});
  }

  SECTION("round trip: empty, one byte, all bytes, 1 MiB") {
    Bytes big(1 << 20, 0x5a);
    for (const Bytes& plaintext : {Bytes{}, Bytes{0}, all_byte_values(), big}) {
      auto sealed = expect_ok(c->seal(plaintext, aad));
      CHECK(sealed.key_id == "k1");
      CHECK(sealed.ciphertext.size() > plaintext.size());  // the tag travels with it
      CHECK(expect_ok(c->open(sealed, aad)) == plaintext);
    }
  }

  SECTION("equal plaintexts seal to distinct IVs and ciphertexts") {
    auto a = expect_ok(c->seal(to_bytes("same"), aad));
    auto b = expect_ok(c->seal(to_bytes("same"), aad));
    CHECK(a.iv != b.iv);
    CHECK(a.ciphertext != b.ciphertext);
  }

  SECTION("any flipped bit, truncation, wrong IV or wrong associated data is auth_failed") {
    auto sealed = expect_ok(c->seal(to_bytes("attack at dawn"), aad));
    for (std::size_t i = 0; i < sealed.ciphertext.size(); ++i) {
      Sealed tampered = sealed;
      tampered.ciphertext[i] ^= 0x01;
      expect_error(c->open(tampered, aad), ErrorCode::auth_failed);
    }
    Sealed iv = sealed;
    iv.iv[0] ^= 0x80;
    expect_error(c->open(iv, aad), ErrorCode::auth_failed);
    Sealed truncated = sealed;
    truncated.ciphertext.pop_back();
    expect_error(c->open(truncated, aad), ErrorCode::auth_failed);
    Sealed empty = sealed;
    empty.ciphertext.clear();
    expect_error(c->open(empty, aad), ErrorCode::auth_failed);
    expect_error(c->open(sealed, to_bytes("message-id|sender|someone-else")), ErrorCode::auth_failed);
    expect_error(c->open(sealed, Bytes{}), ErrorCode::auth_failed);
  }

  SECTION("an unknown key id is not_found") {
    auto sealed = expect_ok(c->seal(to_bytes("x"), aad));
    sealed.key_id = "nope";
    expect_error(c->open(sealed, aad), ErrorCode::not_found);
  }

  SECTION("rotation: the new primary seals, old keys still open, removed keys do not") {
    auto old_sealed = expect_ok(c->seal(to_bytes("old"), aad));
    auto rotated = target.make({k2, k1});
    CHECK(expect_ok(rotated->primary_key_id()) == "k2");
    CHECK(expect_ok(rotated->open(old_sealed, aad)) == to_bytes("old"));
    auto new_sealed = expect_ok(rotated->seal(to_bytes("new"), aad));
    CHECK(new_sealed.key_id == "k2");
    auto retired = target.make({k2});
    expect_error(retired->open(old_sealed, aad), ErrorCode::not_found);
    CHECK(expect_ok(retired->open(new_sealed, aad)) == to_bytes("new"));
    // Same id, different key material: authentication fails, no garbage.
    auto impostor = target.make({TestKey{"k1", k2.material}});
    expect_error(impostor->open(old_sealed, aad), ErrorCode::auth_failed);
  }

  SECTION("wrap and unwrap key material; wrapped keys never open as messages") {
    Bytes secret = random_test_key("x").material;
    auto wrapped = expect_ok(c->wrap(secret));
    CHECK(wrapped.ciphertext != secret);
    CHECK(expect_ok(c->unwrap(wrapped)) == secret);
    expect_error(c->open(wrapped, Bytes{}), ErrorCode::auth_failed);
    auto sealed = expect_ok(c->seal(secret, Bytes{}));
    expect_error(c->unwrap(sealed), ErrorCode::auth_failed);
  }

  SECTION("safe from several threads") {
    std::vector<std::thread> workers;
    std::atomic<int> failures{0};
    for (int t = 0; t < 4; ++t)
      workers.emplace_back([&, t] {
        for (int i = 0; i < 300; ++i) {
          Bytes plaintext = to_bytes("thread " + std::to_string(t) + " message " + std::to_string(i));
          auto sealed = c->seal(plaintext, aad);
          if (!sealed) { ++failures; continue; }
          auto opened = c->open(*sealed, aad);
          if (!opened || *opened != plaintext) ++failures;
        }
      });
    for (auto& w : workers) w.join();
    CHECK(failures == 0);
  }
}

}  // namespace strata::sdk::testing

/// Declares the cipher conformance test case for one plugin.
#define STRATA_CIPHER_CONFORMANCE(LABEL, ...)                           \
  TEST_CASE("cipher conformance: " LABEL, "[conformance][cipher]") {    \
    ::strata::sdk::testing::run_cipher_conformance(__VA_ARGS__);        \
  }
