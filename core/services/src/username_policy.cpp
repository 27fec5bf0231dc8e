#include "username_policy.hpp"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uspoof.h>
#include <unicode/ustring.h>
#include <unicode/utf8.h>

#include <memory>
#include <string>
#include <vector>

namespace strata::detail {
namespace {

using sdk::ErrorCode;
using sdk::fail;

// One checker for the process: ICU allows concurrent checks on a configured checker.
const USpoofChecker* checker() {
  static const std::unique_ptr<USpoofChecker, decltype(&uspoof_close)> instance = [] {
    UErrorCode status = U_ZERO_ERROR;
    USpoofChecker* c = uspoof_open(&status);
    uspoof_setChecks(c, USPOOF_RESTRICTION_LEVEL | USPOOF_INVISIBLE | USPOOF_MIXED_NUMBERS, &status);
    uspoof_setRestrictionLevel(c, USPOOF_MODERATELY_RESTRICTIVE);
    return std::unique_ptr<USpoofChecker, decltype(&uspoof_close)>(U_SUCCESS(status) ? c : nullptr, &uspoof_close);
  }();
  return instance.get();
}

std::string quoted(std::string_view name) { return "'" + sdk::excerpt(name, 80) + "'"; }

}  // namespace

sdk::Result<void> check_username_lookalikes(std::string_view name) {
  // Whitespace and invisible characters, anywhere.
  for (std::size_t i = 0; i < name.size();) {
    UChar32 c = 0;
    U8_NEXT(name.data(), i, name.size(), c);
    if (c < 0) return fail(ErrorCode::invalid_argument, "a username must be valid UTF-8");
    if (u_isUWhiteSpace(c) || u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT))
      return fail(ErrorCode::invalid_argument,
                  "the username " + quoted(name) + " holds whitespace or an invisible character (U+" +
                      [c] {
                        char hex[9];
                        std::snprintf(hex, sizeof hex, "%04X", static_cast<unsigned>(c));
                        return std::string(hex);
                      }() +
                      "): it would look like another name");
  }
  UErrorCode status = U_ZERO_ERROR;
  int32_t length = 0;
  u_strFromUTF8(nullptr, 0, &length, name.data(), static_cast<int32_t>(name.size()), &status);
  std::vector<UChar> text(static_cast<std::size_t>(length));
  status = U_ZERO_ERROR;
  u_strFromUTF8(text.data(), length, nullptr, name.data(), static_cast<int32_t>(name.size()), &status);
  const UNormalizer2* nfc = unorm2_getNFCInstance(&status);
  if (U_FAILURE(status)) return fail(ErrorCode::internal, std::string("ICU: ") + u_errorName(status));
  if (!unorm2_isNormalized(nfc, text.data(), length, &status))
    return fail(ErrorCode::invalid_argument, "the username " + quoted(name) +
                                                 " is not in Unicode normal form C: write its letters composed "
                                                 "(the same name written two ways would be two users)");
  const USpoofChecker* c = checker();
  if (!c) return fail(ErrorCode::internal, "ICU's spoof checker could not be opened");
  int32_t result = uspoof_check(c, text.data(), length, nullptr, &status);
  if (U_FAILURE(status)) return fail(ErrorCode::internal, std::string("ICU: ") + u_errorName(status));
  if (result & USPOOF_RESTRICTION_LEVEL)
    return fail(ErrorCode::invalid_argument,
                "the username " + quoted(name) +
                    " mixes scripts (say Latin and Cyrillic letters) and could pass for another name: write it "
                    "in one script");
  if (result & USPOOF_MIXED_NUMBERS)
    return fail(ErrorCode::invalid_argument,
                "the username " + quoted(name) + " mixes digits of several numbering systems");
  if (result & USPOOF_INVISIBLE)
    return fail(ErrorCode::invalid_argument,
                "the username " + quoted(name) + " holds invisible combining marks (the same mark twice)");
  return {};
}

}  // namespace strata::detail
