#pragma once
// Password hashes: scrypt (Crypto++), encoded with their parameters and salt
// so that the cost can change later without invalidating stored hashes:
//   $scrypt$ln=15,r=8,p=1$<salt, base64url>$<hash, base64url>
// Hashes the seed's services wrote are verified too, so its users log in with
// the passwords they have, and are replaced by scrypt at that login:
//   bcrypt  $2a$ / $2b$ / $2y$ (libxcrypt's crypt_rn)
//   argon2  $argon2id$ / $argon2i$ / $argon2d$ (libargon2, PHC strings)

#include "strata/export.hpp"
#include <string>
#include <string_view>

#include "strata/sdk/error.hpp"
#include "strata/settings.hpp"

namespace strata {

/// Hashes `password` with a fresh 16-byte random salt.
STRATA_API std::string hash_password(std::string_view password, const ScryptParams& params);

/// How much more a stored hash may cost than the configured parameters
/// (N·r·p, and memory): the bound on planted or corrupt hashes.
inline constexpr int max_cost_factor = 8;

/// The highest bcrypt cost (2^cost rounds) a stored hash may ask for by
/// default ([users] bcrypt_max_cost); the seed's services typically use 10–12.
inline constexpr int default_bcrypt_max_cost = 14;
/// The most argon2 passes (t) a stored hash may ask for; its memory (m) is
/// bound like scrypt's.
inline constexpr int max_argon2_passes = 16;

/// The scheme of a stored hash, by its prefix: "scrypt", "bcrypt", "argon2id",
/// "argon2i", "argon2d", or "unknown".
STRATA_API std::string_view hash_scheme(std::string_view encoded);

/// Whether `password` matches `encoded` (constant-time comparison);
/// `invalid_argument`, saying why, when `encoded` is in no format above, or
/// asks for more than max_cost_factor times the `configured` scrypt cost (its
/// memory, for argon2), more than `bcrypt_max_cost`, or more than max_argon2_passes.
STRATA_API sdk::Result<bool> verify_password(std::string_view password, std::string_view encoded, const ScryptParams& configured,
                                             int bcrypt_max_cost = default_bcrypt_max_cost);

/// Whether `encoded` should be replaced at the next login: not scrypt (the
/// seed's bcrypt or argon2), or scrypt with other parameters than `params`.
STRATA_API bool needs_rehash(std::string_view encoded, const ScryptParams& params);

}  // namespace strata
