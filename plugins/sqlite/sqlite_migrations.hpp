#pragma once
// The migrations embedded from schema/sqlite/ (migrations.cpp.in, generated at build time).

#include <vector>

namespace strata::sqlite {

/// One NNN_name.up.sql / .down.sql pair (generated from schema/sqlite/).
struct Migration {
  int version;
  const char* name;
  const char* up;
  const char* down;
};
const std::vector<Migration>& migrations();

}  // namespace strata::sqlite
