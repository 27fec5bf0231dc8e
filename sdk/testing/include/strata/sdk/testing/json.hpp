#pragma once
// Comparing JSON text by value: stores may re-format what they were given
// (spacing, key order), but never change it.

#include <nlohmann/json.hpp>

#include <string_view>

namespace strata::sdk::testing::detail {

/// Whether two JSON texts hold the same value (false when either does not parse).
inline bool same_json(std::string_view a, std::string_view b) {
  auto x = nlohmann::json::parse(a, nullptr, false), y = nlohmann::json::parse(b, nullptr, false);
  return !x.is_discarded() && !y.is_discarded() && x == y;
}

}  // namespace strata::sdk::testing::detail
