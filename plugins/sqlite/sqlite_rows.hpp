#pragma once
// Converting between SDK values and SQLite: bound values and typed columns.

#include <sqlite3.h>

#include <optional>
#include <stdexcept>
#include <string>

#include "strata/sdk/sdk.hpp"

namespace strata::sqlite {

/// A bound value: NULL, integer, text or blob.
struct Value {
  enum class Kind { null, integer, text, blob } kind = Kind::null;
  std::int64_t integer = 0;
  std::string text;
  sdk::BytesView blob;

  Value() = default;
  Value(std::int64_t i) : kind(Kind::integer), integer(i) {}                      // NOLINT: implicit
  Value(bool b) : kind(Kind::integer), integer(b ? 1 : 0) {}                       // NOLINT: implicit
  Value(std::string s) : kind(Kind::text), text(std::move(s)) {}                   // NOLINT: implicit
  Value(sdk::Timestamp t) : kind(Kind::integer), integer(t.micros()) {}            // NOLINT: implicit
  Value(const sdk::Uuid& id) : kind(Kind::text), text(id.str()) {}                 // NOLINT: implicit
  Value(sdk::BytesView b) : kind(Kind::blob), blob(b) {}                           // NOLINT: implicit
  Value(const sdk::Bytes& b) : kind(Kind::blob), blob(b) {}                        // NOLINT: implicit
  template <class T>
  Value(const std::optional<T>& o) : Value(o ? Value(*o) : Value()) {}             // NOLINT: implicit
};

/// A stored value that is not what its column means (a hand-written row: an
/// id that is no UUID, a NULL or text time, a NULL flag). Thrown by Row's
/// accessors; Database::run turns it into an error naming the column, so a
/// bad row is refused, never shown as a nil id, 1970 or "active".
struct UnreadableValue : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Typed access to the current row of a statement.
class Row {
 public:
  explicit Row(sqlite3_stmt* s) : s_(s) {}
  bool null(int c) const { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
  std::string text(int c) const {
    return {reinterpret_cast<const char*>(sqlite3_column_text(s_, c)), static_cast<std::size_t>(sqlite3_column_bytes(s_, c))};
  }
  std::optional<std::string> optional_text(int c) const { return null(c) ? std::nullopt : std::optional(text(c)); }
  std::int64_t integer(int c) const { return sqlite3_column_int64(s_, c); }
  bool boolean(int c) const {
    if (sqlite3_column_type(s_, c) != SQLITE_INTEGER || (integer(c) != 0 && integer(c) != 1))
      unreadable(c, "is not a flag (0 or 1)");
    return integer(c) != 0;
  }
  sdk::Uuid uuid(int c) const {
    auto id = null(c) ? std::nullopt : sdk::Uuid::parse(text(c));
    if (!id) unreadable(c, "is not a UUID");
    return *id;
  }
  sdk::Timestamp time(int c) const {
    if (sqlite3_column_type(s_, c) != SQLITE_INTEGER) unreadable(c, "is not a time (microseconds since 1970)");
    return sdk::Timestamp::from_micros(integer(c));
  }
  std::optional<sdk::Timestamp> optional_time(int c) const { return null(c) ? std::nullopt : std::optional(time(c)); }
  sdk::Bytes blob(int c) const {
    auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(s_, c));
    return sdk::Bytes(data, data + sqlite3_column_bytes(s_, c));
  }

 private:
  [[noreturn]] void unreadable(int c, const char* what) const {
    std::string shown = null(c) ? "NULL" : "'" + sdk::excerpt(text(c), 40) + "'";
    std::string row = sqlite3_column_type(s_, 0) == SQLITE_TEXT ? " of the row with id '" + sdk::excerpt(text(0), 40) + "'" : "";
    throw UnreadableValue(std::string("column ") + sqlite3_column_name(s_, c) + row + " holds " + shown + ", which " +
                          what + ": the row was not written by Strata; correct or delete it");
  }

  sqlite3_stmt* s_;
};

// The message columns as sqlite_storage.cpp reads them, for message_from.
// A ciphertext over sdk::max_read_ciphertext_bytes comes back empty, never whole.
#define MESSAGE_READ_COLUMNS                                                                                  \
  "id, sender_id, recipient_id, CASE WHEN length(encrypted_content) <= 1052672 THEN encrypted_content"        \
  " ELSE x'' END, iv, created_at, expires_at, is_read, is_deleted, key_id, read_at"

/// A message from a row of MESSAGE_READ_COLUMNS (first, in that order).
sdk::Message message_from(const Row& r);

}  // namespace strata::sqlite
