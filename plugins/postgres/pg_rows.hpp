#pragma once
// Converting between SDK values and PostgreSQL text parameters and columns.

#include <libpq-fe.h>

#include <optional>
#include <string>

#include "strata/sdk/sdk.hpp"

namespace strata::postgres {

/// Text form of a timestamp parameter ("2026-11-25T00:44:17.123456Z"; the
/// zone is ignored by TIMESTAMP columns, which hold UTC).
inline std::string text(sdk::Timestamp t) { return t.iso8601(); }
inline std::optional<std::string> text(const std::optional<sdk::Timestamp>& t) {
  return t ? std::optional<std::string>(t->iso8601()) : std::nullopt;
}
inline std::string text(bool b) { return b ? "true" : "false"; }

/// Typed access to one row of a text-format result.
class Row {
 public:
  Row(const PGresult* result, int row) : result_(result), row_(row) {}
  bool null(int col) const { return PQgetisnull(result_, row_, col); }
  std::string str(int col) const { return {PQgetvalue(result_, row_, col), static_cast<std::size_t>(PQgetlength(result_, row_, col))}; }
  std::optional<std::string> optional_str(int col) const { return null(col) ? std::nullopt : std::optional(str(col)); }
  bool boolean(int col) const { return !null(col) && PQgetvalue(result_, row_, col)[0] == 't'; }
  sdk::Uuid uuid(int col) const { return sdk::Uuid::parse(str(col)).value_or(sdk::Uuid{}); }
  sdk::Timestamp time(int col) const {
    return null(col) ? sdk::Timestamp{} : sdk::Timestamp::parse(str(col)).value_or(sdk::Timestamp{});
  }
  std::optional<sdk::Timestamp> optional_time(int col) const {
    return null(col) ? std::nullopt : sdk::Timestamp::parse(str(col));
  }
  sdk::Bytes hex(int col) const { return sdk::from_hex(str(col)).value_or(sdk::Bytes{}); }

 private:
  const PGresult* result_;
  int row_;
};

}  // namespace strata::postgres
