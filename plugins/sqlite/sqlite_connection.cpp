#include "sqlite_connection.hpp"

#include "strata/sdk/private_files.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace strata::sqlite {
namespace {

using sdk::ErrorCode;
using sdk::fail;

[[noreturn]] void refuse(ErrorCode code, const std::string& message) { throw sdk::Error{code, message, {}, false}; }

int latest() { return migrations().latest(); }

}  // namespace

Database::Database(const std::filesystem::path& path, std::chrono::milliseconds busy_timeout,
                   const std::string& synchronous)
    : path_(path) {
  if (synchronous != "full" && synchronous != "normal")
    refuse(ErrorCode::invalid_argument, "synchronous must be \"full\" or \"normal\", got \"" + synchronous + "\"");
  // A directory others may write to could hold a planted link named like the database.
  if (auto ok = sdk::check_private_directory(path); !ok) refuse(ok.error().code, ok.error().message);
  // A directory created here holds password hashes and ciphertexts: owner only.
  std::error_code ec;
  if (path.has_parent_path() && std::filesystem::create_directories(path.parent_path(), ec))
    std::filesystem::permissions(path.parent_path(), std::filesystem::perms::owner_all, ec);
  // The file holds password hashes and ciphertexts: create it owner-only
  // whatever the directory's mode (SQLite would use 0644), and SQLite gives
  // its -wal and -shm files the database's mode.
  if (int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600); fd >= 0) ::close(fd);
  // The plugin locks around every call, so SQLite's own mutex is not needed.
  int rc = sqlite3_open_v2(path.c_str(), &db_,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    refuse(ErrorCode::unavailable, "cannot open SQLite database " + path.string() + ": " + why);
  }
  sqlite3_busy_timeout(db_, static_cast<int>(busy_timeout.count()));
  sqlite3_extended_result_codes(db_, 1);
  std::string pragmas = "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = " + synchronous + ";";
  if (auto ok = exec(pragmas.c_str()); !ok) refuse(ok.error().code, ok.error().message);
  // Users' data keys live in a file of their own (schema/sqlite/006_data_keys):
  // backups copy the main file only, and restores replace only it.
  const std::filesystem::path keys = path.string() + "-keys";
  if (int fd = ::open(keys.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600); fd >= 0) ::close(fd);
  if (auto ok = run("ATTACH DATABASE ?1 AS strata_keys", {keys.string()}); !ok) refuse(ok.error().code, ok.error().message);
  // Destroyed keys are overwritten on disk, not only unlinked from the b-tree.
  std::string key_pragmas = "PRAGMA strata_keys.journal_mode = WAL; PRAGMA strata_keys.secure_delete = ON;";
  if (auto ok = exec(key_pragmas.c_str()); !ok) refuse(ok.error().code, ok.error().message);
}

Database::~Database() {
  for (auto& [sql, statement] : statements_) sqlite3_finalize(statement);
  sqlite3_close(db_);
}

sdk::Error Database::error(int code, const std::string& what) const {
  std::string message = what + ": " + sqlite3_errmsg(db_);
  switch (code) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY: return sdk::Error{ErrorCode::already_exists, message, {}, false};
    case SQLITE_CONSTRAINT_FOREIGNKEY:
    case SQLITE_CONSTRAINT_NOTNULL:
    case SQLITE_CONSTRAINT_CHECK: return sdk::Error{ErrorCode::invalid_argument, message, {}, false};
    default: break;
  }
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return sdk::Error{ErrorCode::timeout, message + " (another process held the database past busy_timeout_ms)", {}, true};
    // Refused and rolled back by SQLite itself: nothing was written.
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return sdk::Error{ErrorCode::conflict, message + " (" + path_.string() + "): nothing was written", {}, true};
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
      return sdk::Error{ErrorCode::unavailable, message + " (" + path_.string() + ")", {}, true};
    default: return sdk::Error{ErrorCode::internal, message, {}, false};
  }
}

sdk::Result<int> Database::run(const char* sql, const std::vector<Value>& params,
                               const std::function<void(const Row&)>& on_row) {
  sqlite3_stmt*& statement = statements_[sql];
  if (!statement) {
    int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
    if (rc != SQLITE_OK) {
      statements_.erase(sql);
      return sdk::fail(error(rc, "preparing a statement"));
    }
  }
  // Leave the statement reset and unbound, whatever happens.
  struct Reset {
    sqlite3_stmt* s;
    ~Reset() {
      sqlite3_reset(s);
      sqlite3_clear_bindings(s);
    }
  } reset{statement};
  for (std::size_t i = 0; i < params.size(); ++i) {
    const Value& v = params[i];
    int index = static_cast<int>(i + 1), rc = SQLITE_OK;
    switch (v.kind) {
      case Value::Kind::null: rc = sqlite3_bind_null(statement, index); break;
      case Value::Kind::integer: rc = sqlite3_bind_int64(statement, index, v.integer); break;
      case Value::Kind::text:
        rc = sqlite3_bind_text64(statement, index, v.text.data(), v.text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
        break;
      case Value::Kind::blob:
        // A zero-length blob, not NULL, for empty values (NOT NULL columns).
        rc = sqlite3_bind_blob64(statement, index, v.blob.empty() ? "" : static_cast<const void*>(v.blob.data()),
                                 v.blob.size(), SQLITE_TRANSIENT);
        break;
    }
    if (rc != SQLITE_OK) return sdk::fail(error(rc, "binding parameter " + std::to_string(index)));
  }
  for (;;) {
    int rc = sqlite3_step(statement);
    if (rc == SQLITE_ROW) {
      if (!on_row) continue;
      try {
        on_row(Row(statement));
      } catch (const UnreadableValue& bad) {
        return fail(ErrorCode::conflict, path_.string() + ": " + bad.what());
      }
      continue;
    }
    if (rc == SQLITE_DONE) return sqlite3_changes(db_);
    return sdk::fail(error(sqlite3_extended_errcode(db_), "running a statement"));
  }
}

sdk::Result<void> Database::exec(const char* sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
  sqlite3_free(message);
  if (rc != SQLITE_OK) return sdk::fail(error(sqlite3_extended_errcode(db_), "executing SQL"));
  return {};
}

sdk::Result<void> Database::in_transaction(const std::function<sdk::Result<void>()>& op) {
  // IMMEDIATE takes the write lock now, so a concurrent writer waits on
  // busy_timeout here instead of failing at COMMIT.
  if (auto ok = exec("BEGIN IMMEDIATE"); !ok) return ok;
  auto result = op();
  if (!result) {
    (void)exec("ROLLBACK");
    return result;
  }
  return exec("COMMIT");
}

sdk::Result<sdk::SchemaStatus> Database::schema_status() {
  int exists = 0, current = 0;
  auto found = run("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'strata_schema_migrations'", {},
                   [&](const Row& r) { exists = static_cast<int>(r.integer(0)); });
  if (!found) return sdk::fail(found.error());
  if (exists) {
    auto version = run("SELECT COALESCE(MAX(version), 0) FROM strata_schema_migrations", {},
                       [&](const Row& r) { current = static_cast<int>(r.integer(0)); });
    if (!version) return sdk::fail(version.error());
  }
  return sdk::SchemaStatus{current, latest()};
}

sdk::Result<sdk::SchemaStatus> Database::migrate(int target) {
  auto done = in_transaction([&]() -> sdk::Result<void> {
    if (auto ok = exec("CREATE TABLE IF NOT EXISTS strata_schema_migrations (version INTEGER PRIMARY KEY, "
                       "name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
        !ok)
      return ok;
    auto status = schema_status();
    if (!status) return sdk::fail(status.error());
    auto runs = migrations().steps(status->current, target);
    if (!runs) return sdk::fail(runs.error());
    for (const auto& [m, up] : *runs) {
      if (auto ok = exec(up ? m->up : m->down); !ok)
        return fail(ok.error().code, "migration " + sdk::MigrationSet::label(*m) + (up ? " up: " : " down: ") +
                                         ok.error().message);
      auto recorded = up ? run("INSERT INTO strata_schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                               {std::int64_t{m->version}, std::string(m->name), sdk::Timestamp::now()})
                         : run("DELETE FROM strata_schema_migrations WHERE version = ?1", {std::int64_t{m->version}});
      if (!recorded) return sdk::fail(recorded.error());
    }
    return {};
  });
  if (!done) return sdk::fail(done.error());
  return schema_status();
}

namespace {

// Copies every page of `from` into `to`; a busy source or target is retried
// (the other process finishes its transaction) for up to ten seconds.
sdk::Result<void> copy_pages(sqlite3* to, sqlite3* from, const std::string& what) {
  sqlite3_backup* backup = sqlite3_backup_init(to, "main", from, "main");
  if (!backup) return sdk::fail(ErrorCode::unavailable, what + ": " + sqlite3_errmsg(to));
  int rc = SQLITE_OK;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    rc = sqlite3_backup_step(backup, -1);
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
    sqlite3_sleep(10);
  }
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) return sdk::fail(ErrorCode::unavailable, what + ": " + sqlite3_errstr(rc));
  return {};
}

}  // namespace

sdk::Result<void> Database::backup_to(const std::filesystem::path& file) {
  sqlite3* target = nullptr;
  int rc = sqlite3_open_v2(file.c_str(), &target, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_close(target);
    return sdk::fail(ErrorCode::unavailable, "cannot create backup file '" + file.string() + "': " + sqlite3_errstr(rc));
  }
  auto copied = copy_pages(target, db_, "backing up '" + path_.string() + "' to '" + file.string() + "'");
  sqlite3_close(target);
  return copied;
}

sdk::Result<void> Database::restore_from(const std::filesystem::path& file) {
  sqlite3* source = nullptr;
  int rc = sqlite3_open_v2(file.c_str(), &source, SQLITE_OPEN_READONLY, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_close(source);
    return sdk::fail(ErrorCode::not_found, "cannot open backup file '" + file.string() + "': " + sqlite3_errstr(rc));
  }
  // Cached statements would keep pointing at the replaced schema's pages.
  for (auto& [sql, statement] : statements_) sqlite3_finalize(statement);
  statements_.clear();
  auto copied = copy_pages(db_, source, "restoring '" + path_.string() + "' from '" + file.string() + "'");
  sqlite3_close(source);
  return copied;
}

}  // namespace strata::sqlite
