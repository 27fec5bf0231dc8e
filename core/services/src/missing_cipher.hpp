#pragma once
// The cipher the services use when the config has no [cipher]: every call
// answers `invalid_argument` saying so. Users, sessions, maintenance, backup
// and restore need no cipher; messages and keys then fail with that message
// instead of the services refusing to open at all.

#include "strata/sdk/cipher.hpp"

namespace strata::detail {

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
class MissingCipher final : public sdk::Cipher {
 public:
#define STRATA_MISSING_CIPHER_(KIND, RET, NAME, PARAMS, ARGS)                                             \
  RET NAME PARAMS override {                                                                              \
    return sdk::fail(sdk::ErrorCode::invalid_argument,                                                    \
                     "the config has no [cipher]: messages and keys need one (cipher." #NAME ")");        \
  }
  STRATA_SDK_CIPHER_METHODS(STRATA_MISSING_CIPHER_)
#undef STRATA_MISSING_CIPHER_
};
#pragma GCC diagnostic pop

}  // namespace strata::detail
