#pragma once
// Assertions on Result values that print the error when they fail, at the
// kit's line that asked (not this file's), with error codes by name, and an
// sdk::Error thrown anywhere in a kit (from a target's fresh(), say: the
// documented way to refuse a config) shown as its code and message.

#include <mutex>
#include <source_location>
#include <string>
#include <type_traits>

#include "strata/sdk/error.hpp"
#include "strata/sdk/testing/catch.hpp"

namespace Catch {
template <>
struct StringMaker<strata::sdk::ErrorCode> {
  static std::string convert(strata::sdk::ErrorCode code) { return std::string(strata::sdk::to_string(code)); }
};
}  // namespace Catch

CATCH_TRANSLATE_EXCEPTION(const strata::sdk::Error& error) { return "sdk::Error: " + error.describe(); }

// Catch reports an assertion at CATCH_INTERNAL_LINEINFO (__FILE__, __LINE__
// where the macro is written). Inside the helpers below it is the caller's
// std::source_location instead, so a failure points at the kit's check.
#pragma push_macro("CATCH_INTERNAL_LINEINFO")
#undef CATCH_INTERNAL_LINEINFO
#define CATCH_INTERNAL_LINEINFO ::Catch::SourceLineInfo(where.file_name(), static_cast<std::size_t>(where.line()))

namespace strata::sdk::testing::detail {

/// Failures from several threads: how many, and the first one's error, so a
/// concurrent section's CHECK says why rather than only "3 == 0".
class FailureLog {
 public:
  template <class T>
  void note(const Result<T>& r) {
    if (r) return;
    std::lock_guard lock(mutex_);
    if (count_++ == 0) first_ = r.error().describe();
  }
  int count() const {
    std::lock_guard lock(mutex_);
    return count_;
  }
  std::string first() const {
    std::lock_guard lock(mutex_);
    return count_ == 0 ? "none" : first_;
  }

 private:
  mutable std::mutex mutex_;
  int count_ = 0;
  std::string first_;
};

/// What a failed call's error says, with a hint for `unsupported`.
inline std::string explain(const Error& error) {
  std::string text = error.describe();
  if (error.code == ErrorCode::unsupported)
    text += "\n(the plugin answered `unsupported`: if it does not offer this, declare the capability absent in "
            "the kit's target, e.g. StorageTarget::outbox = false; see the target's flags)";
  return text;
}

/// Requires success and returns the value; on failure the error is printed.
template <class T>
T expect_ok(Result<T> r, std::source_location where = std::source_location::current()) {
  INFO((r ? std::string("ok") : explain(r.error())));
  REQUIRE(r.has_value());
  if constexpr (!std::is_void_v<T>) return std::move(*r);
}

/// Requires failure with `code` and a message.
template <class T>
void expect_error(const Result<T>& r, ErrorCode code, std::source_location where = std::source_location::current()) {
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
bool declared_backup(bool declared, const Result<T>& report,
                     std::source_location where = std::source_location::current()) {
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

#pragma pop_macro("CATCH_INTERNAL_LINEINFO")
