// Stored password hashes: Strata's scrypt, and the seed's bcrypt and argon2
// (vectors made by the npm packages bcryptjs and argon2, as the seed's
// services would), each bounded, and anything else refused with its reason.

#include "strata/services/password_hash.hpp"
#include "test_host.hpp"

using namespace strata;

namespace {

const ScryptParams cheap{10, 8, 1};
constexpr const char* password = "correct horse";

}  // namespace

TEST_CASE("password hashes: the seed's bcrypt hashes verify, $2a$ and $2b$ alike, and are to be replaced",
          "[password][seed]") {
  for (const char* hash : {"$2a$04$eLDeoXafImrYH7s6KJNU4uLHpJeNlkaA/.zFBsVINKEACtd8MD9rS",
                           "$2b$04$boDOyGlv/tXkYzVbBgWuxO80FEIVfIy.4ckO.z0aca7brxnBM9aTy"}) {
    INFO(hash);
    CHECK(hash_scheme(hash) == "bcrypt");
    CHECK(verify_password(password, hash, cheap).value());
    CHECK_FALSE(verify_password("correct horsE", hash, cheap).value());
    CHECK_FALSE(verify_password(std::string("correct horse\0", 14), hash, cheap).value());
    CHECK(needs_rehash(hash, cheap));
  }
  // A cost beyond [users] bcrypt_max_cost is refused before any work is done.
  auto costly = verify_password(password, "$2b$20$boDOyGlv/tXkYzVbBgWuxO80FEIVfIy.4ckO.z0aca7brxnBM9aTy", cheap, 14);
  REQUIRE_FALSE(costly);
  CHECK(costly.error().code == sdk::ErrorCode::invalid_argument);
  CHECK(costly.error().message.find("cost 20, more than [users] bcrypt_max_cost (14)") != std::string::npos);
  auto truncated = verify_password(password, "$2b$04$boDOyGlv", cheap);
  REQUIRE_FALSE(truncated);
  CHECK(truncated.error().message.find("bcrypt hash is malformed") != std::string::npos);
}

TEST_CASE("password hashes: the seed's argon2 hashes verify, bounded like scrypt's", "[password][seed]") {
  for (const char* hash : {"$argon2id$v=19$m=1024,t=1,p=1$B3ZaXspeIHzoDei8q9CiBA$j1MxOz46yt+0CY5j48MH/4dufB3+srOvjgm5+P6bLxQ",
                           "$argon2i$v=19$m=1024,t=1,p=1$N1LS7lZ3VyvEKbCvbPZ9TQ$9cy2LJ/uJYpcfug6B1XucXM22IomGxvqjF/1zHoeI/E"}) {
    INFO(hash);
    CHECK(verify_password(password, hash, cheap).value());
    CHECK_FALSE(verify_password("wrong", hash, cheap).value());
    CHECK(needs_rehash(hash, cheap));
  }
  // 1 GiB is more than 8x the configured scrypt's memory (and the 256 MiB floor).
  auto costly = verify_password(
      password, "$argon2id$v=19$m=1048576,t=1,p=1$bme5l/HX7wvES1MTxjBvyw$FF6Sh2wp6e1xh7YsE0GEvEKtHh00K7KUFFgGkGWxXu0", cheap);
  REQUIRE_FALSE(costly);
  CHECK(costly.error().message.find("asks for more work than [users] allows (m=1048576 KiB") != std::string::npos);
  auto passes = verify_password(
      password, "$argon2id$v=19$m=1024,t=99,p=1$B3ZaXspeIHzoDei8q9CiBA$j1MxOz46yt+0CY5j48MH/4dufB3+srOvjgm5+P6bLxQ", cheap);
  REQUIRE_FALSE(passes);
  auto mangled = verify_password(password, "$argon2id$v=19$m=1024,t=1,p=1$!!!$???", cheap);
  REQUIRE_FALSE(mangled);
  CHECK(mangled.error().message.find("argon2 hash is malformed") != std::string::npos);
}

TEST_CASE("password hashes: other formats are refused naming their scheme, never their content", "[password][seed]") {
  auto md5 = verify_password(password, "$1$saltsalt$abcdefghijklmnopqrstuv", cheap);
  REQUIRE_FALSE(md5);
  CHECK(md5.error().message.find("its scheme is '$1$'") != std::string::npos);
  auto plain = verify_password(password, "hunter2-stored-in-clear", cheap);
  REQUIRE_FALSE(plain);
  CHECK(plain.error().message.find("no $scheme$ prefix") != std::string::npos);
  CHECK(plain.error().message.find("hunter2") == std::string::npos);
  CHECK(needs_rehash("hunter2-stored-in-clear", cheap));
  // Strata's own scrypt hashes are unchanged.
  std::string scrypt = hash_password(password, cheap);
  CHECK(hash_scheme(scrypt) == "scrypt");
  CHECK(verify_password(password, scrypt, cheap).value());
  CHECK_FALSE(needs_rehash(scrypt, cheap));
}
