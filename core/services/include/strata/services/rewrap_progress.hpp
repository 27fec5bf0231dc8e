#pragma once
// Where a cipher key rotation stands: what `strata keys rewrap` reports for
// messages (re-sealed) and for users' private keys (re-wrapped).

#include <cstdint>
#include <string>

namespace strata {

struct RewrapProgress {
  std::string target_key_id;  ///< the cipher's primary key everything is moved under
  std::uint64_t total = 0;    ///< rows under other keys (messages: when the run started; keys: found so far)
  std::uint64_t rewrapped = 0;
  std::uint64_t skipped = 0;  ///< changed by someone else meanwhile
  std::uint64_t failed = 0;   ///< could not be opened (tampered, or their key left the ring)
};

}  // namespace strata
