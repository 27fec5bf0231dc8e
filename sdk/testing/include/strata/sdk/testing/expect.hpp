#pragma once
// Assertions on Result values that print the error when they fail.

#include <string>
#include <type_traits>

#include "strata/sdk/error.hpp"
#include "strata/sdk/testing/catch.hpp"

namespace strata::sdk::testing::detail {

/// Requires success and returns the value; on failure the error is printed.
template <class T>
T expect_ok(Result<T> r) {
  INFO((r ? std::string("ok") : r.error().describe()));
  REQUIRE(r.has_value());
  if constexpr (!std::is_void_v<T>) return std::move(*r);
}

/// Requires failure with `code` and a message.
template <class T>
void expect_error(const Result<T>& r, ErrorCode code) {
  INFO((r ? std::string("succeeded") : r.error().describe()));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == code);
  CHECK_FALSE(r.error().message.empty());
}

}  // namespace strata::sdk::testing::detail
