#include "sqlite_storage.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "sqlite_settings.hpp"

#include <limits>

namespace strata::sqlite {
namespace {

using sdk::ConfigType;
static_assert(sdk::max_read_ciphertext_bytes == 1052672, "MESSAGE_READ_COLUMNS below must say the same");

// Less free space than this and health() says the store cannot write (a
// transaction needs room for its journal pages).
constexpr unsigned long long min_free_bytes = 1 << 20;
using sdk::ErrorCode;
using sdk::fail;

// The same columns, in the same order, as the postgres plugin's.
#define USER_COLUMNS "id, username, email, password_hash, created_at, updated_at, last_login, is_active"
#define MESSAGE_COLUMNS \
  "id, sender_id, recipient_id, encrypted_content, iv, created_at, expires_at, is_read, is_deleted, key_id, read_at"
#define KEY_COLUMNS "id, user_id, public_key, private_key_encrypted, created_at, expires_at, is_active"
// Live rows strictly older than the cursor, newest first, one extra to learn whether a next page exists.
#define PAGE_TAIL \
  " AND is_deleted = 0 AND (expires_at IS NULL OR expires_at > ?3) AND (created_at, id) < (?4, ?5)" \
  " ORDER BY created_at DESC, id DESC LIMIT ?6"

constexpr const char* insert_user_sql = "INSERT INTO users (" USER_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
constexpr const char* user_by_id = "SELECT " USER_COLUMNS " FROM users WHERE id = ?1";
constexpr const char* user_by_name = "SELECT " USER_COLUMNS " FROM users WHERE username = ?1";
constexpr const char* user_by_email = "SELECT " USER_COLUMNS " FROM users WHERE email = ?1";
constexpr const char* update_user_sql =
    "UPDATE users SET username = ?2, email = ?3, password_hash = ?4, is_active = ?5, updated_at = ?6 WHERE id = ?1";
constexpr const char* record_login_sql = "UPDATE users SET last_login = ?2 WHERE id = ?1";
constexpr const char* set_active_sql = "UPDATE users SET is_active = ?2 WHERE id = ?1";
constexpr const char* delete_user_messages = "DELETE FROM messages WHERE sender_id = ?1 OR recipient_id = ?1";
constexpr const char* delete_user_keys = "DELETE FROM encryption_keys WHERE user_id = ?1";
constexpr const char* delete_user_sql = "DELETE FROM users WHERE id = ?1";
constexpr const char* insert_message_sql =
    "INSERT INTO messages (" MESSAGE_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
constexpr const char* message_by_id = "SELECT " MESSAGE_READ_COLUMNS " FROM messages WHERE id = ?1";
// The inbox has one owner: its ?2 is always NULL, so both page queries share PAGE_TAIL's numbering.
constexpr const char* inbox_sql =
    "SELECT " MESSAGE_READ_COLUMNS " FROM messages WHERE recipient_id = ?1 AND ?2 IS NULL" PAGE_TAIL;
constexpr const char* conversation_sql = "SELECT " MESSAGE_READ_COLUMNS
                                         " FROM messages WHERE min(sender_id, recipient_id) = ?1"
                                         " AND max(sender_id, recipient_id) = ?2" PAGE_TAIL;
// Rotation walks every row, deleted or expired included; ?2 and ?3 are bound but unused.
constexpr const char* not_under_key_sql = "SELECT " MESSAGE_READ_COLUMNS
                                          " FROM messages WHERE key_id <> ?1 AND (created_at, id) < (?4, ?5)"
                                          " ORDER BY created_at DESC, id DESC LIMIT ?6";
constexpr const char* count_not_under_key_sql = "SELECT count(*) FROM messages WHERE key_id <> ?1";
// The rows sealed under one key ('' for the seed's), as not_under_key_sql walks the others.
constexpr const char* under_key_sql = "SELECT " MESSAGE_READ_COLUMNS
                                      " FROM messages WHERE key_id = ?1 AND (created_at, id) < (?4, ?5)"
                                      " ORDER BY created_at DESC, id DESC LIMIT ?6";
constexpr const char* count_by_key_sql = "SELECT key_id, count(*) FROM messages GROUP BY key_id ORDER BY key_id";
// last_login always; the hash (and updated_at) only if it is still the one
// verified (SET expressions read the row as it was before the update).
constexpr const char* login_rehashed_sql =
    "UPDATE users SET last_login = ?2,"
    " password_hash = CASE WHEN password_hash = ?3 THEN ?4 ELSE password_hash END,"
    " updated_at = CASE WHEN password_hash = ?3 THEN ?2 ELSE updated_at END"
    " WHERE id = ?1 RETURNING password_hash = ?4";
constexpr const char* replace_content_sql =
    "UPDATE messages SET encrypted_content = ?3, iv = ?4, key_id = ?5 WHERE id = ?1 AND key_id = ?2";
constexpr const char* mark_read_sql = "UPDATE messages SET is_read = 1, read_at = COALESCE(read_at, ?2) WHERE id = ?1";
constexpr const char* soft_delete_sql = "UPDATE messages SET is_deleted = 1 WHERE id = ?1";
// In batches of ?2: SQLite has one write lock, and every send waits for it.
constexpr const char* purge_sql =
    "DELETE FROM messages WHERE id IN"
    " (SELECT id FROM messages WHERE expires_at IS NOT NULL AND expires_at <= ?1 LIMIT ?2)";
constexpr const char* count_expired_sql =
    "SELECT count(*) FROM messages WHERE expires_at IS NOT NULL AND expires_at <= ?1";
constexpr std::int64_t purge_batch = 1000;
constexpr const char* insert_key_sql = "INSERT INTO encryption_keys (" KEY_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr const char* key_by_id = "SELECT " KEY_COLUMNS " FROM encryption_keys WHERE id = ?1";
constexpr const char* keys_by_user =
    "SELECT " KEY_COLUMNS " FROM encryption_keys WHERE user_id = ?1 ORDER BY created_at DESC, id DESC";
// Re-wrapping walks every key record by keyset, like not_under_key_sql.
constexpr const char* all_keys_sql = "SELECT " KEY_COLUMNS " FROM encryption_keys WHERE (created_at, id) < (?1, ?2)"
                                     " ORDER BY created_at DESC, id DESC LIMIT ?3";
constexpr const char* replace_wrapping_sql =
    "UPDATE encryption_keys SET private_key_encrypted = ?3 WHERE id = ?1 AND private_key_encrypted = ?2";
constexpr const char* deactivate_key_sql = "UPDATE encryption_keys SET is_active = 0 WHERE id = ?1";
constexpr const char* deactivate_user_keys_sql = "UPDATE encryption_keys SET is_active = 0 WHERE user_id = ?1";

sdk::User user_from(const Row& r) {
  return sdk::User{r.uuid(0), r.text(1), r.text(2), r.text(3), r.time(4), r.time(5), r.optional_time(6), r.boolean(7)};
}
sdk::KeyRecord key_from(const Row& r) {
  return sdk::KeyRecord{r.uuid(0), r.uuid(1), r.blob(2), r.blob(3), r.time(4), r.optional_time(5), r.boolean(6)};
}
std::vector<Value> message_values(const sdk::Message& m) {
  return {m.id,         m.sender_id,  m.recipient_id, m.encrypted_content, m.iv,     m.created_at,
          m.expires_at, m.is_read,    m.is_deleted,   m.key_id,            m.read_at};
}

}  // namespace

sdk::Message message_from(const Row& r) {
  sdk::Message m;
  m.id = r.uuid(0);
  m.sender_id = r.uuid(1);
  m.recipient_id = r.uuid(2);
  m.encrypted_content = r.blob(3);
  m.iv = r.blob(4);
  m.created_at = r.time(5);
  m.expires_at = r.optional_time(6);
  m.is_read = r.boolean(7);
  m.is_deleted = r.boolean(8);
  m.key_id = r.text(9);
  m.read_at = r.optional_time(10);
  return m;
}

SqliteStorage::SqliteStorage(const sdk::PluginContext& context)
    : clock_(context.clock), path_(context.config.get<std::string>("path")) {
  const auto& config = context.config;
  db_ = std::make_unique<Database>(path_,
                                   std::chrono::milliseconds(config.get_in_range("busy_timeout_ms", 0, 600'000)),
                                   config.get<std::string>("synchronous"));
  if (config.get<bool>("auto_migrate")) {
    auto status = db_->schema_status();
    if (status && status->current < status->latest) status = db_->migrate(status->latest);
    if (!status) throw status.error();
  }
  if (auto made = recreate_data_keys_table(); !made) throw made.error();
}

sdk::ConfigSchema SqliteStorage::config_schema() { return storage_schema(); }

sdk::Result<sdk::DatabaseInfo> SqliteStorage::database_info() { return sdk::DatabaseInfo{"sqlite", path_, {}, 0}; }

sdk::Result<void> SqliteStorage::health() {
  std::lock_guard lock(mutex_);
  auto status = db_->schema_status();
  if (!status) return sdk::fail(status.error());
  if (status->current != status->latest)
    return fail(ErrorCode::unavailable, "the schema of " + db_->path().string() + " is at version " +
                                            std::to_string(status->current) + ", this plugin needs " +
                                            std::to_string(status->latest) + ": run `strata migrate up`");
  // A store that cannot write is not healthy: SQLite refuses every write on a full file system.
  struct statvfs fs {};
  if (::statvfs(db_->path().parent_path().c_str(), &fs) == 0 &&
      static_cast<unsigned long long>(fs.f_bavail) * fs.f_frsize < min_free_bytes)
    return fail(ErrorCode::conflict, "the file system holding " + db_->path().string() +
                                         " is full: SQLite can write nothing there (free space first)");
  return {};
}

sdk::Result<sdk::SchemaStatus> SqliteStorage::schema_status() {
  std::lock_guard lock(mutex_);
  return db_->schema_status();
}

sdk::Result<sdk::SchemaStatus> SqliteStorage::migrate(int target) {
  std::lock_guard lock(mutex_);
  return db_->migrate(target);
}

// ---- users ---------------------------------------------------------------

sdk::Result<void> SqliteStorage::create_user(const sdk::User& u) {
  std::lock_guard lock(mutex_);
  auto r = db_->run(insert_user_sql, {u.id, u.username, u.email, u.password_hash, u.created_at,
                                      u.updated_at, u.last_login, u.is_active});
  if (!r) return sdk::fail(r.error());
  return {};
}

sdk::Result<sdk::User> SqliteStorage::one_user(const char* sql, Value key, const std::string& what) {
  std::lock_guard lock(mutex_);
  std::optional<sdk::User> found;
  auto r = db_->run(sql, {std::move(key)}, [&](const Row& row) { found = user_from(row); });
  if (!r) return sdk::fail(r.error());
  if (!found) return fail(ErrorCode::not_found, "no user with " + what);
  return *found;
}

sdk::Result<sdk::User> SqliteStorage::get_user(const sdk::Uuid& id) { return one_user(user_by_id, id, "id " + id.str()); }
sdk::Result<sdk::User> SqliteStorage::find_user_by_username(std::string_view name) {
  return one_user(user_by_name, std::string(name), "username '" + std::string(name) + "'");
}
sdk::Result<sdk::User> SqliteStorage::find_user_by_email(std::string_view email) {
  return one_user(user_by_email, std::string(email), "email '" + std::string(email) + "'");
}

sdk::Result<void> SqliteStorage::change_one(const char* sql, std::vector<Value> params, const char* what,
                                            const sdk::Uuid& id) {
  std::lock_guard lock(mutex_);
  auto changed = db_->run(sql, params);
  if (!changed) return sdk::fail(changed.error());
  if (*changed == 0) return fail(ErrorCode::not_found, std::string("no ") + what + " with id " + id.str());
  return {};
}

sdk::Result<void> SqliteStorage::update_user(const sdk::User& u) {
  return change_one(update_user_sql, {u.id, u.username, u.email, u.password_hash, u.is_active, u.updated_at},
                    "user", u.id);
}
sdk::Result<void> SqliteStorage::record_login(const sdk::Uuid& id, sdk::Timestamp at) {
  return change_one(record_login_sql, {id, at}, "user", id);
}
sdk::Result<void> SqliteStorage::set_user_active(const sdk::Uuid& id, bool active) {
  return change_one(set_active_sql, {id, active}, "user", id);
}

sdk::Result<void> SqliteStorage::delete_user(const sdk::Uuid& id) {
  std::lock_guard lock(mutex_);
  return db_->in_transaction([&]() -> sdk::Result<void> {
    for (const char* sql : {delete_user_messages, delete_user_keys})
      if (auto r = db_->run(sql, {id}); !r) return sdk::fail(r.error());
    auto removed = db_->run(delete_user_sql, {id});
    if (!removed) return sdk::fail(removed.error());
    if (*removed == 0) return fail(ErrorCode::not_found, "no user with id " + id.str());
    return {};
  });
}

// ---- messages ------------------------------------------------------------

sdk::Result<void> SqliteStorage::insert_message(const sdk::Message& m) {
  std::lock_guard lock(mutex_);
  auto r = db_->run(insert_message_sql, message_values(m));
  if (!r) return sdk::fail(r.error());
  return {};
}

sdk::Result<void> SqliteStorage::insert_messages(std::span<const sdk::Message> messages) {
  if (messages.empty()) return {};
  std::lock_guard lock(mutex_);
  return db_->in_transaction([&] { return insert_messages_locked(messages); });
}

sdk::Result<void> SqliteStorage::insert_messages_locked(std::span<const sdk::Message> messages) {
  for (const auto& m : messages)
    if (auto r = db_->run(insert_message_sql, message_values(m)); !r) return sdk::fail(r.error());
  return {};
}

sdk::Result<sdk::Message> SqliteStorage::get_message(const sdk::Uuid& id) {
  std::lock_guard lock(mutex_);
  std::optional<sdk::Message> found;
  auto r = db_->run(message_by_id, {id}, [&](const Row& row) { found = message_from(row); });
  if (!r) return sdk::fail(r.error());
  if (!found) return fail(ErrorCode::not_found, "no message with id " + id.str());
  return *found;
}

sdk::Result<sdk::Page<sdk::Message>> SqliteStorage::page(const char* sql, Value owner_a, Value owner_b,
                                                         const sdk::PageRequest& request) {
  return keyset_page(sql, {std::move(owner_a), std::move(owner_b), clock_->now()}, request, message_from);
}

sdk::Result<sdk::Page<sdk::Message>> SqliteStorage::inbox(const sdk::Uuid& recipient, const sdk::PageRequest& request) {
  return page(inbox_sql, recipient, Value(), request);
}

sdk::Result<sdk::Page<sdk::Message>> SqliteStorage::conversation(const sdk::Uuid& a, const sdk::Uuid& b,
                                                                 const sdk::PageRequest& request) {
  auto [low, high] = std::minmax(a, b);  // byte order = the canonical text's order
  return page(conversation_sql, low, high, request);
}

sdk::Result<void> SqliteStorage::mark_read(const sdk::Uuid& id, sdk::Timestamp at) {
  return change_one(mark_read_sql, {id, at}, "message", id);
}
sdk::Result<void> SqliteStorage::soft_delete_message(const sdk::Uuid& id) {
  return change_one(soft_delete_sql, {id}, "message", id);
}

sdk::Result<std::uint64_t> SqliteStorage::purge_expired(sdk::Timestamp now) {
  std::uint64_t total = 0;
  for (;;) {  // the lock is let go between batches, so writers get their turn
    std::lock_guard lock(mutex_);
    auto removed = db_->run(purge_sql, {now, purge_batch});
    if (!removed) return sdk::fail(removed.error());
    total += static_cast<std::uint64_t>(*removed);
    if (*removed < purge_batch) return total;
  }
}

sdk::Result<std::uint64_t> SqliteStorage::count_expired(sdk::Timestamp now) {
  std::lock_guard lock(mutex_);
  std::int64_t count = 0;
  auto r = db_->run(count_expired_sql, {now}, [&](const Row& row) { count = row.integer(0); });
  if (!r) return sdk::fail(r.error());
  return static_cast<std::uint64_t>(count);
}

// ---- cipher key rotation (SDK 1.1) -----------------------------------------

sdk::Result<sdk::Page<sdk::Message>> SqliteStorage::messages_not_under_key(std::string_view key_id,
                                                                          const sdk::PageRequest& request) {
  return page(not_under_key_sql, std::string(key_id), Value(), request);
}

sdk::Result<std::uint64_t> SqliteStorage::count_messages_not_under_key(std::string_view key_id) {
  std::lock_guard lock(mutex_);
  std::int64_t count = 0;
  auto r = db_->run(count_not_under_key_sql, {std::string(key_id)}, [&](const Row& row) { count = row.integer(0); });
  if (!r) return sdk::fail(r.error());
  return static_cast<std::uint64_t>(count);
}

sdk::Result<bool> SqliteStorage::replace_message_content(const sdk::Uuid& id, std::string_view expected_key_id,
                                                         const sdk::Bytes& encrypted_content, const sdk::Bytes& iv,
                                                         std::string_view key_id) {
  std::lock_guard lock(mutex_);
  auto changed = db_->run(replace_content_sql,
                          {id, std::string(expected_key_id), encrypted_content, iv, std::string(key_id)});
  if (!changed) return sdk::fail(changed.error());
  if (*changed == 1) return true;
  std::optional<bool> exists;
  auto r = db_->run(message_by_id, {id}, [&](const Row&) { exists = true; });
  if (!r) return sdk::fail(r.error());
  if (!exists) return fail(ErrorCode::not_found, "no message with id " + id.str());
  return false;
}

sdk::Result<sdk::Page<sdk::Message>> SqliteStorage::messages_under_key(std::string_view key_id,
                                                                      const sdk::PageRequest& request) {
  return page(under_key_sql, std::string(key_id), Value(), request);
}

sdk::Result<std::vector<sdk::KeyCount>> SqliteStorage::count_messages_by_key() {
  std::lock_guard lock(mutex_);
  std::vector<sdk::KeyCount> out;
  auto r = db_->run(count_by_key_sql, {}, [&](const Row& row) {
    out.push_back({row.text(0), static_cast<std::uint64_t>(row.integer(1))});
  });
  if (!r) return sdk::fail(r.error());
  return out;
}

sdk::Result<std::vector<bool>> SqliteStorage::replace_message_contents(std::span<const sdk::ContentReplacement> rows,
                                                                       std::span<const sdk::AuditEvent> events) {
  if (!events.empty() && events.size() != rows.size())
    return fail(ErrorCode::invalid_argument, "replace_message_contents takes no events or one per row");
  for (const auto& e : events)
    if (auto ok = sdk::validate(e); !ok) return sdk::fail(ok.error());
  std::vector<bool> out;
  if (rows.empty()) return out;
  std::lock_guard lock(mutex_);
  auto done = db_->in_transaction([&]() -> sdk::Result<void> {
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& row = rows[i];
      auto changed = db_->run(replace_content_sql, {row.id, row.expected_key_id, row.encrypted_content, row.iv,
                                                    row.key_id});
      if (!changed) return sdk::fail(changed.error());
      out.push_back(*changed == 1);
      if (*changed == 1 && !events.empty())
        if (auto r = insert_event_locked(events[i]); !r) return r;
    }
    return {};
  });
  if (!done) return sdk::fail(done.error());
  return out;
}

sdk::Result<bool> SqliteStorage::record_login_rehashed(const sdk::Uuid& id, sdk::Timestamp at,
                                                       std::string_view expected_hash, std::string_view new_hash) {
  std::lock_guard lock(mutex_);
  std::optional<bool> replaced;
  auto r = db_->run(login_rehashed_sql, {id, at, std::string(expected_hash), std::string(new_hash)},
                    [&](const Row& row) { replaced = row.integer(0) != 0; });
  if (!r) return sdk::fail(r.error());
  if (!replaced) return fail(ErrorCode::not_found, "no user with id " + id.str());
  return *replaced;
}

// ---- key records ---------------------------------------------------------

sdk::Result<void> SqliteStorage::insert_key(const sdk::KeyRecord& k) {
  std::lock_guard lock(mutex_);
  auto r = db_->run(insert_key_sql, {k.id, k.user_id, k.public_key, k.private_key_encrypted, k.created_at, k.expires_at,
                                     k.is_active});
  if (!r) return sdk::fail(r.error());
  return {};
}

sdk::Result<void> SqliteStorage::replace_active_key(const sdk::KeyRecord& k) {
  std::lock_guard lock(mutex_);
  // BEGIN IMMEDIATE: the single writer lock, across processes too.
  return db_->in_transaction([&]() -> sdk::Result<void> {
    if (auto r = db_->run(deactivate_user_keys_sql, {k.user_id}); !r) return sdk::fail(r.error());
    auto r = db_->run(insert_key_sql, {k.id, k.user_id, k.public_key, k.private_key_encrypted, k.created_at,
                                       k.expires_at, true});
    if (!r) return sdk::fail(r.error());
    return {};
  });
}

sdk::Result<sdk::KeyRecord> SqliteStorage::get_key(const sdk::Uuid& id) {
  std::lock_guard lock(mutex_);
  std::optional<sdk::KeyRecord> found;
  auto r = db_->run(key_by_id, {id}, [&](const Row& row) { found = key_from(row); });
  if (!r) return sdk::fail(r.error());
  if (!found) return fail(ErrorCode::not_found, "no key record with id " + id.str());
  return *found;
}

sdk::Result<std::vector<sdk::KeyRecord>> SqliteStorage::keys_for_user(const sdk::Uuid& user_id) {
  std::lock_guard lock(mutex_);
  std::vector<sdk::KeyRecord> out;
  auto r = db_->run(keys_by_user, {user_id}, [&](const Row& row) { out.push_back(key_from(row)); });
  if (!r) return sdk::fail(r.error());
  return out;
}

sdk::Result<sdk::Page<sdk::KeyRecord>> SqliteStorage::all_keys(const sdk::PageRequest& request) {
  return keyset_page(all_keys_sql, {}, request, key_from);
}

sdk::Result<bool> SqliteStorage::replace_key_wrapping(const sdk::Uuid& id, const sdk::Bytes& expected,
                                                      const sdk::Bytes& replacement) {
  std::lock_guard lock(mutex_);
  auto changed = db_->run(replace_wrapping_sql, {id, expected, replacement});
  if (!changed) return sdk::fail(changed.error());
  if (*changed == 1) return true;
  std::optional<bool> exists;
  auto r = db_->run(key_by_id, {id}, [&](const Row&) { exists = true; });
  if (!r) return sdk::fail(r.error());
  if (!exists) return fail(ErrorCode::not_found, "no key record with id " + id.str());
  return false;
}

sdk::Result<void> SqliteStorage::deactivate_key(const sdk::Uuid& id) {
  return change_one(deactivate_key_sql, {id}, "key record", id);
}

// ---- backup (SDK 1.2) --------------------------------------------------------

namespace {
constexpr const char* backup_file = "strata.db";
}

sdk::Result<std::map<std::string, std::uint64_t>> SqliteStorage::table_counts() {
  std::map<std::string, std::uint64_t> counts;
  for (const char* sql : {"SELECT 'users', count(*) FROM users", "SELECT 'messages', count(*) FROM messages",
                          "SELECT 'encryption_keys', count(*) FROM encryption_keys"}) {
    auto r = db_->run(sql, {}, [&](const Row& row) { counts[row.text(0)] = static_cast<std::uint64_t>(row.integer(1)); });
    if (!r) return sdk::fail(r.error());
  }
  return counts;
}

sdk::Result<sdk::BackupReport> SqliteStorage::backup(const std::filesystem::path& dir) {
  std::lock_guard lock(mutex_);
  auto status = db_->schema_status();
  if (!status) return sdk::fail(status.error());
  // One read transaction for the counts and the copy: the backup API reads
  // in the transaction it finds open, so other processes' writes meanwhile
  // are in neither, and the manifest counts what is in the file.
  if (auto r = db_->exec("BEGIN DEFERRED"); !r) return sdk::fail(r.error());
  auto counts = table_counts();
  auto copied = counts ? db_->backup_to(dir / backup_file) : sdk::Result<void>(sdk::fail(counts.error()));
  (void)db_->exec(copied ? "COMMIT" : "ROLLBACK");
  if (!copied) return sdk::fail(copied.error());
  return sdk::BackupReport{{backup_file}, std::move(*counts), std::to_string(status->current)};
}

sdk::Result<sdk::BackupReport> SqliteStorage::restore(const std::filesystem::path& dir) {
  std::lock_guard lock(mutex_);
  if (auto r = db_->restore_from(dir / backup_file); !r) return sdk::fail(r.error());
  auto status = db_->schema_status();
  if (!status) return sdk::fail(status.error());
  // The copy holds the epoch of its day: numbers after it may be handed out
  // again, so cursors from before the restore must not match.
  if (status->current >= inbox_sequence_version)
    if (auto r = start_new_epoch(); !r) return sdk::fail(r.error());
  if (auto r = recreate_data_keys_table(); !r) return sdk::fail(r.error());
  auto counts = table_counts();
  if (!counts) return sdk::fail(counts.error());
  return sdk::BackupReport{{}, std::move(*counts), std::to_string(status->current)};
}

sdk::Result<void> SqliteStorage::check_restore(const std::filesystem::path& dir) {
  std::ifstream copy(dir / backup_file, std::ios::binary);
  char header[16] = {};
  if (!copy.read(header, sizeof header) || std::string_view(header, sizeof header) != std::string_view("SQLite format 3\0", 16))
    return fail(ErrorCode::invalid_argument, (dir / backup_file).string() + " is not an SQLite database");
  std::lock_guard lock(mutex_);
  if (auto counts = table_counts(); !counts) return sdk::fail(counts.error());  // the target answers
  return {};
}

sdk::Result<void> SqliteStorage::hold_restore_lock(bool hold) {
  std::lock_guard lock(mutex_);
  if (!hold) {
    if (restore_lock_fd_ >= 0) ::close(restore_lock_fd_);  // releases the flock
    restore_lock_fd_ = -1;
    return {};
  }
  if (restore_lock_fd_ >= 0) return {};
  // A file of its own beside the database: SQLite's own locks on the
  // database file are POSIX locks, which an flock never interferes with.
  const std::filesystem::path path = db_->path().string() + ".restore-lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return fail(ErrorCode::unavailable, "cannot open " + path.string() + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK)
      return fail(ErrorCode::conflict, "another restore into " + db_->path().string() + " is running (" +
                                           path.string() + " is locked); wait for it to finish");
    return fail(ErrorCode::unavailable, "cannot lock " + path.string() + ": " + std::strerror(error));
  }
  restore_lock_fd_ = fd;
  return {};
}

SqliteStorage::~SqliteStorage() {
  if (restore_lock_fd_ >= 0) ::close(restore_lock_fd_);
}

sdk::Result<bool> SqliteStorage::has_data() {
  std::lock_guard lock(mutex_);
  auto counts = table_counts();
  if (!counts) return sdk::fail(counts.error());
  for (const auto& [table, n] : *counts)
    if (n > 0) return true;
  return false;
}

}  // namespace strata::sqlite
