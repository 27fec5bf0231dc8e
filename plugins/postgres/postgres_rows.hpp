#pragma once
// Converting between SDK values and PostgreSQL parameters and result rows.
// Parameters: timestamps and booleans as text, BYTEA as binary (Param::bytes).
// Rows of prepared statements come back in binary format (Connection::run).

#include <libpq-fe.h>

#include <cstring>
#include <optional>
#include <string>

#include "postgres_binary.hpp"
#include "postgres_connection.hpp"
#include "strata/sdk/sdk.hpp"

namespace strata::postgres {

/// Text form of a timestamp parameter ("2026-11-25T00:44:17.123456Z"): UTC
/// stated explicitly, so the session's TimeZone never shifts it.
inline std::string text(sdk::Timestamp t) { return t.iso8601(); }
inline std::optional<std::string> text(const std::optional<sdk::Timestamp>& t) {
  return t ? std::optional<std::string>(t->iso8601()) : std::nullopt;
}
inline std::string text(bool b) { return b ? "true" : "false"; }

/// How many rows an INSERT, UPDATE or DELETE touched.
inline std::uint64_t affected(const PgResult& result) {
  const char* count = PQcmdTuples(result.get());
  return count && *count ? std::stoull(count) : 0;
}

/// A message's parameters, in the order of the message columns ("id,
/// sender_id, recipient_id, encrypted_content, iv, created_at, expires_at,
/// is_read, is_deleted, key_id, read_at").
inline std::vector<Param> message_params(const sdk::Message& m) {
  return {m.id.str(),          m.sender_id.str(),     m.recipient_id.str(),
          Param::bytes(m.encrypted_content), Param::bytes(m.iv), text(m.created_at),
          text(m.expires_at),  text(m.is_read),       text(m.is_deleted),
          m.key_id,            text(m.read_at)};
}

/// Typed access to one row of a binary-format result. The seed's columns are
/// mostly nullable, but its defaults fill them (NOW(), true, false): a NULL
/// where Strata needs a value (an explicit NULL in a hand-written row) is
/// refused with an error naming the column and the row — thrown as an
/// sdk::Error, which the plugin's guard returns — rather than shown as 1970,
/// "active" or "unread".
class Row {
 public:
  Row(const PGresult* result, int row) : result_(result), row_(row) {}
  bool null(int col) const { return PQgetisnull(result_, row_, col); }
  std::string str(int col) const { return {data(col), size(col)}; }
  bool boolean(int col) const {
    if (null(col)) unreadable(col, "a flag");
    return data(col)[0] != 0;
  }
  sdk::Uuid uuid(int col) const {
    if (null(col) || size(col) != 16) unreadable(col, "a UUID");
    std::array<std::uint8_t, 16> raw{};
    std::memcpy(raw.data(), data(col), 16);
    return sdk::Uuid(raw);
  }
  sdk::Timestamp time(int col) const {
    auto t = optional_time(col);
    if (!t) unreadable(col, "a time");
    return *t;
  }
  std::optional<sdk::Timestamp> optional_time(int col) const {
    if (null(col) || size(col) != 8) return std::nullopt;
    return binary::timestamp_from(binary::get64(data(col)));
  }
  sdk::Bytes bytes(int col) const {
    auto p = reinterpret_cast<const std::uint8_t*>(data(col));
    return sdk::Bytes(p, p + size(col));
  }
  std::int64_t int8(int col) const { return null(col) ? 0 : static_cast<std::int64_t>(binary::get64(data(col))); }

 private:
  [[noreturn]] void unreadable(int col, const char* wanted) const {
    std::string row = !null(0) && size(0) == 16 && col != 0 ? " of the row with id " + uuid(0).str() : "";
    throw sdk::Error{sdk::ErrorCode::conflict,
                     std::string("column ") + PQfname(result_, col) + row + " holds " +
                         (null(col) ? "NULL" : "an unexpected value") + ", not " + wanted +
                         ": Strata and the seed always write one; correct or delete the row",
                     {}, false};
  }
  const char* data(int col) const { return PQgetvalue(result_, row_, col); }
  std::size_t size(int col) const { return static_cast<std::size_t>(PQgetlength(result_, row_, col)); }

  const PGresult* result_;
  int row_;
};

// The message columns as postgres_storage.cpp reads them, for message_from.
// A ciphertext over sdk::max_read_ciphertext_bytes comes back empty, never whole.
#define MAX_READ_CIPHERTEXT "1052672"
#define MESSAGE_READ_COLUMNS                                                                                    \
  "id, sender_id, recipient_id, CASE WHEN octet_length(encrypted_content) <= " MAX_READ_CIPHERTEXT             \
  " THEN encrypted_content ELSE ''::bytea END, iv, created_at, expires_at, is_read, is_deleted, key_id, read_at"

/// A message from a row of MESSAGE_READ_COLUMNS (first, in that order).
sdk::Message message_from(const Row& r);

}  // namespace strata::postgres
