// The decoders of what the services read back from storage and disk:
// sealed/wrapped envelopes, base64url, hex, and audit spool lines.

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "encoding.hpp"
#include "json_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  strata::sdk::BytesView bytes(data, size);
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto sealed = strata::detail::decode_sealed(bytes)) {
    // What decodes must encode back to the same bytes.
    auto again = strata::detail::encode_sealed(*sealed);
    if (!std::equal(again.begin(), again.end(), bytes.begin(), bytes.end())) __builtin_trap();
  }
  (void)strata::detail::from_base64url(text);
  (void)strata::sdk::from_hex(text);
  (void)strata::detail::valid_utf8(text);
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_discarded()) (void)strata::detail::event_from_json(json);
  return 0;
}
