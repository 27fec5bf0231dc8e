#pragma once
// Password hashes: scrypt (Crypto++), encoded with their parameters and salt
// so that the cost can change later without invalidating stored hashes:
//   $scrypt$ln=15,r=8,p=1$<salt, base64url>$<hash, base64url>

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

/// Whether `password` matches `encoded` (constant-time comparison);
/// `invalid_argument` when `encoded` is not a hash this code wrote, or asks
/// for more than max_cost_factor times the `configured` cost.
STRATA_API sdk::Result<bool> verify_password(std::string_view password, std::string_view encoded, const ScryptParams& configured);

/// Whether `encoded` was made with other parameters than `params` (rehash at next login).
STRATA_API bool needs_rehash(std::string_view encoded, const ScryptParams& params);

}  // namespace strata
