#pragma once
// One SQLite database connection: pragmas, cached prepared statements, typed
// binding, errors mapped to SDK codes, and migrations from schema/sqlite/.

#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "strata/sdk/sdk.hpp"

namespace strata::sqlite {

/// One NNN_name.up.sql / .down.sql pair (generated from schema/sqlite/).
struct Migration {
  int version;
  const char* name;
  const char* up;
  const char* down;
};
const std::vector<Migration>& migrations();

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
  bool boolean(int c) const { return integer(c) != 0; }
  sdk::Uuid uuid(int c) const { return sdk::Uuid::parse(text(c)).value_or(sdk::Uuid{}); }
  sdk::Timestamp time(int c) const { return sdk::Timestamp::from_micros(integer(c)); }
  std::optional<sdk::Timestamp> optional_time(int c) const { return null(c) ? std::nullopt : std::optional(time(c)); }
  sdk::Bytes blob(int c) const {
    auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(s_, c));
    return sdk::Bytes(data, data + sqlite3_column_bytes(s_, c));
  }

 private:
  sqlite3_stmt* s_;
};

class Database {
 public:
  /// Opens (creating the file and its directory), WAL, foreign keys on, busy timeout.
  Database(const std::filesystem::path& path, std::chrono::milliseconds busy_timeout, const std::string& synchronous);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  /// Runs a statement (prepared once, then cached) with parameters ?1..?N;
  /// `on_row` is called for each result row. Returns the rows changed.
  sdk::Result<int> run(const char* sql, const std::vector<Value>& params,
                       const std::function<void(const Row&)>& on_row = {});
  /// Runs SQL text (several statements allowed, no parameters).
  sdk::Result<void> exec(const char* sql);
  /// BEGIN IMMEDIATE ... COMMIT around `op`, rolled back if it fails.
  sdk::Result<void> in_transaction(const std::function<sdk::Result<void>()>& op);

  sdk::Result<sdk::SchemaStatus> schema_status();
  /// Migrates to `target` in one write transaction (other processes wait on busy_timeout).
  sdk::Result<sdk::SchemaStatus> migrate(int target);

  /// Copies the whole database into `file` (SQLite's online backup API:
  /// a consistent snapshot while other connections keep working).
  sdk::Result<void> backup_to(const std::filesystem::path& file);
  /// Replaces the whole database with the content of `file` (the same API, the other way).
  sdk::Result<void> restore_from(const std::filesystem::path& file);

  const std::filesystem::path& path() const { return path_; }

 private:
  sdk::Error error(int code, const std::string& what) const;

  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
  std::map<const char*, sqlite3_stmt*> statements_;  // keyed by the SQL literal's address
};

}  // namespace strata::sqlite
