// The config parser and its ${VAR:-default} interpolation, on any text.

#include <cstdint>
#include <string_view>

#include "config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // A few variables set, the rest unset: both paths of every ${…}.
  strata::EnvLookup env = [](std::string_view name) -> std::optional<std::string> {
    if (name == "A") return "1";
    if (name == "B") return "${A}";
    if (name == "EMPTY") return "";
    return std::nullopt;
  };
  (void)strata::interpolate(text, env);
  (void)strata::parse_config(text, "fuzz.toml", "/nonexistent", env);
  return 0;
}
