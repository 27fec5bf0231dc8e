// Stored password hashes (whose parameters a planted row controls),
// timestamps and UUIDs.

#include <cstdint>
#include <string_view>

#include "strata/sdk/timestamp.hpp"
#include "strata/sdk/uuid.hpp"
#include "strata/services/password_hash.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // The cheapest configured cost: a hash may ask for at most max_cost_factor times it.
  const strata::ScryptParams configured{4, 1, 1};
  // bcrypt's cost is bounded on its own: the lowest bound, so a mutated cost cannot hang the fuzzer.
  (void)strata::verify_password("password", text, configured, 4);
  (void)strata::needs_rehash(text, configured);
  if (auto at = strata::sdk::Timestamp::parse(text)) (void)at->iso8601();
  if (auto id = strata::sdk::Uuid::parse(text))
    if (strata::sdk::Uuid::parse(id->str()) != id) __builtin_trap();  // round trip
  return 0;
}
