#pragma once
// One SQLite database connection: pragmas, cached prepared statements,
// errors mapped to SDK codes, transactions, schema migration and the online
// backup API.

#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sqlite_migrations.hpp"
#include "sqlite_rows.hpp"
#include "strata/sdk/sdk.hpp"

namespace strata::sqlite {

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
