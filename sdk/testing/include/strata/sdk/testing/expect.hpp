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

/// A backup() that the target declared (`backup = true`) must work, and an
/// undeclared one must answer `unsupported`: the capability comes from the
/// instantiation, never inferred from what the plugin happens to answer.
/// True when the section should go on to check the backup.
template <class T>
bool declared_backup(bool declared, const Result<T>& report) {
  if (!declared) {
    INFO((report ? std::string("backup() succeeded") : report.error().describe()));
    CHECK_FALSE(report.has_value());
    if (!report) CHECK(report.error().code == ErrorCode::unsupported);
    return false;
  }
  if (!report) FAIL("the target declares the backup capability, but backup() answered: " + report.error().describe());
  return true;
}

}  // namespace strata::sdk::testing::detail
