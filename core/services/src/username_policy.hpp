#pragma once
// What a new username may look like, so that two users cannot look alike
// (Unicode TR #39, by ICU's spoof checker). A username is refused when it is
// not in Unicode normal form C (the same letters written two ways would be two
// users), holds whitespace or invisible characters anywhere ('alice '), mixes
// scripts beyond what TR #39 calls moderately restrictive (Latin with Cyrillic:
// 'аlice'; Latin with Han, Hiragana, Katakana or Hangul is fine), or mixes
// digits of several numbering systems. Letters of any one script are welcome
// ('zoë', 'Владимир', '太郎').

#include <string_view>

#include "strata/sdk/error.hpp"

namespace strata::detail {

/// `invalid_argument` saying what is wrong with `name` (which must already be valid UTF-8).
sdk::Result<void> check_username_lookalikes(std::string_view name);

}  // namespace strata::detail
