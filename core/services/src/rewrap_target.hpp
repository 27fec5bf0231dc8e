#pragma once
// What both rotations check before their first page (Keys::rewrap for
// users' private keys, Messages::rewrap for messages): a batch size a page
// request takes, and the cipher key everything moves under.

#include <string>

#include "strata/sdk/cipher.hpp"
#include "strata/sdk/storage.hpp"

namespace strata::detail {

/// The cipher's primary key id, or `invalid_argument` for a batch size
/// outside 1..sdk::max_page_limit.
inline sdk::Result<std::string> rewrap_target_key(std::size_t batch_size, sdk::Cipher& cipher) {
  if (batch_size == 0 || batch_size > sdk::max_page_limit)
    return sdk::fail(sdk::ErrorCode::invalid_argument,
                     "the rewrap batch size must be between 1 and " + std::to_string(sdk::max_page_limit));
  return cipher.primary_key_id();
}

}  // namespace strata::detail
