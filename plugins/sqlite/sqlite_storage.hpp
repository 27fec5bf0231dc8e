#pragma once
// Storage role in a local SQLite file.

#include <limits>
#include <memory>
#include <mutex>

#include "sqlite_connection.hpp"

namespace strata::sqlite {

/// The seed's relational model in one SQLite file: WAL mode so readers and a
/// writer in other processes (two CLI commands at once) proceed, busy_timeout
/// so a second writer waits instead of failing, prepared statements, keyset
/// pages, batches in one transaction. One connection per instance, one call
/// at a time: embedded scale.
class SqliteStorage : public sdk::Storage {
 public:
  explicit SqliteStorage(const sdk::PluginContext& context);
  /// See README.md.
  static sdk::ConfigSchema config_schema();

  sdk::Result<void> health() override;
  sdk::Result<sdk::SchemaStatus> schema_status() override;
  sdk::Result<sdk::SchemaStatus> migrate(int target) override;
  sdk::Result<void> create_user(const sdk::User& user) override;
  sdk::Result<sdk::User> get_user(const sdk::Uuid& id) override;
  sdk::Result<sdk::User> find_user_by_username(std::string_view username) override;
  sdk::Result<sdk::User> find_user_by_email(std::string_view email) override;
  sdk::Result<void> update_user(const sdk::User& user) override;
  sdk::Result<void> record_login(const sdk::Uuid& id, sdk::Timestamp at) override;
  sdk::Result<void> set_user_active(const sdk::Uuid& id, bool active) override;
  sdk::Result<void> delete_user(const sdk::Uuid& id) override;
  sdk::Result<void> insert_message(const sdk::Message& message) override;
  sdk::Result<void> insert_messages(std::span<const sdk::Message> messages) override;
  sdk::Result<sdk::Message> get_message(const sdk::Uuid& id) override;
  sdk::Result<sdk::Page<sdk::Message>> inbox(const sdk::Uuid& recipient, const sdk::PageRequest& page) override;
  sdk::Result<sdk::Page<sdk::Message>> conversation(const sdk::Uuid& a, const sdk::Uuid& b,
                                                    const sdk::PageRequest& page) override;
  sdk::Result<void> mark_read(const sdk::Uuid& id, sdk::Timestamp at) override;
  sdk::Result<void> soft_delete_message(const sdk::Uuid& id) override;
  sdk::Result<std::uint64_t> purge_expired(sdk::Timestamp now) override;
  sdk::Result<std::uint64_t> count_expired(sdk::Timestamp now) override;
  sdk::Result<void> insert_key(const sdk::KeyRecord& key) override;
  sdk::Result<sdk::KeyRecord> get_key(const sdk::Uuid& id) override;
  sdk::Result<std::vector<sdk::KeyRecord>> keys_for_user(const sdk::Uuid& user_id) override;
  sdk::Result<void> deactivate_key(const sdk::Uuid& id) override;
  sdk::Result<sdk::Page<sdk::Message>> messages_not_under_key(std::string_view key_id,
                                                              const sdk::PageRequest& page) override;
  sdk::Result<std::uint64_t> count_messages_not_under_key(std::string_view key_id) override;
  sdk::Result<bool> replace_message_content(const sdk::Uuid& id, std::string_view expected_key_id,
                                            const sdk::Bytes& encrypted_content, const sdk::Bytes& iv,
                                            std::string_view key_id) override;
  // Moving stored messages between keys in batches (SDK 1.7): keys rewrap and adopt.
  sdk::Result<sdk::Page<sdk::Message>> messages_under_key(std::string_view key_id,
                                                          const sdk::PageRequest& page) override;
  sdk::Result<std::vector<sdk::KeyCount>> count_messages_by_key() override;
  sdk::Result<std::vector<bool>> replace_message_contents(std::span<const sdk::ContentReplacement> rows,
                                                          std::span<const sdk::AuditEvent> events) override;
  sdk::Result<bool> record_login_rehashed(const sdk::Uuid& id, sdk::Timestamp at, std::string_view expected_hash,
                                          std::string_view new_hash) override;
  sdk::Result<void> replace_active_key(const sdk::KeyRecord& key) override;
  sdk::Result<sdk::Page<sdk::KeyRecord>> all_keys(const sdk::PageRequest& page) override;
  sdk::Result<bool> replace_key_wrapping(const sdk::Uuid& id, const sdk::Bytes& expected,
                                         const sdk::Bytes& replacement) override;

  sdk::Result<sdk::BackupReport> backup(const std::filesystem::path& dir) override;
  sdk::Result<sdk::BackupReport> restore(const std::filesystem::path& dir) override;
  sdk::Result<bool> has_data() override;
  sdk::Result<void> check_restore(const std::filesystem::path& dir) override;
  /// An flock on <path>.restore-lock, beside the database file.
  sdk::Result<void> hold_restore_lock(bool hold) override;
  ~SqliteStorage() override;

  // The audit outbox (SDK 1.5), in sqlite_outbox.cpp.
  sdk::Result<void> insert_with_outbox(std::span<const sdk::Message> messages,
                                       std::span<const sdk::AuditEvent> events) override;
  /// insert_with_outbox after checking the users, in the same write transaction.
  sdk::Result<void> insert_sends(std::span<const sdk::Message> messages,
                                 std::span<const sdk::AuditEvent> events) override;
  sdk::Result<std::size_t> drain_outbox(std::size_t limit, const sdk::OutboxDelivery& deliver) override;
  sdk::Result<std::uint64_t> outbox_size() override;
  sdk::Result<std::optional<sdk::Timestamp>> outbox_oldest() override;
  sdk::Result<void> set_outbox_sink(std::string_view identity) override;
  // Session revocations (SDK 1.9), in sqlite_session_revocations.cpp.
  sdk::Result<void> revoke_sessions(std::string_view subject, sdk::Timestamp before,
                                    sdk::Timestamp keep_until) override;
  sdk::Result<std::optional<sdk::Timestamp>> sessions_revoked_before(std::span<const std::string> subjects) override;
  // The per-recipient sequence (SDK 1.10), in sqlite_inbox_stream.cpp.
  sdk::Result<sdk::InboxStream> inbox_since(const sdk::Uuid& recipient, std::uint64_t after,
                                            std::size_t limit) override;
  sdk::Result<sdk::InboxHeads> inbox_heads(std::span<const sdk::Uuid> recipients) override;
  // Users' data keys (SDK 1.11), in sqlite_data_keys.cpp.
  sdk::Result<void> insert_data_key(const sdk::DataKey& key) override;
  sdk::Result<sdk::DataKey> get_data_key(const sdk::Uuid& id) override;
  sdk::Result<std::vector<sdk::DataKey>> data_keys_for_user(const sdk::Uuid& user_id) override;
  sdk::Result<std::vector<sdk::Uuid>> destroy_data_keys(const sdk::Uuid& user_id, sdk::Timestamp at) override;
  sdk::Result<sdk::Page<sdk::DataKey>> all_data_keys(const sdk::PageRequest& page) override;
  sdk::Result<bool> replace_data_key_wrapping(const sdk::Uuid& id, const sdk::Bytes& expected,
                                              const sdk::Bytes& replacement) override;
  /// db.system.name "sqlite", db.namespace the database file (SDK 1.12).
  sdk::Result<sdk::DatabaseInfo> database_info() override;

 private:
  // The schema version that added the sequence (schema/sqlite/005_inbox_sequence).
  static constexpr int inbox_sequence_version = 5;
  // Names a new run of the sequence (after a restore).
  sdk::Result<void> start_new_epoch();
  // The schema version that added the data keys (schema/sqlite/006_data_keys).
  static constexpr int data_keys_version = 6;
  // Makes the data key table when the keys file lacks it (a new file beside a
  // restored or copied database); the caller holds mutex_.
  sdk::Result<void> recreate_data_keys_table();
  sdk::Result<std::map<std::string, std::uint64_t>> table_counts();
  // Inserts each message; the caller holds mutex_ inside a transaction.
  sdk::Result<void> insert_messages_locked(std::span<const sdk::Message> messages);
  // Appends one event to the audit outbox; the caller holds mutex_ inside a transaction.
  sdk::Result<void> insert_event_locked(const sdk::AuditEvent& event);
  sdk::Result<sdk::User> one_user(const char* sql, Value key, const std::string& what);
  sdk::Result<void> change_one(const char* sql, std::vector<Value> params, const char* what, const sdk::Uuid& id);
  sdk::Result<sdk::Page<sdk::Message>> page(const char* sql, Value owner_a, Value owner_b, const sdk::PageRequest& request);
  // A page of `sql`'s rows, newest first by keyset (created_at, id): its
  // parameters are `leading`, then the cursor's time and id, then limit + 1.
  template <class T>
  sdk::Result<sdk::Page<T>> keyset_page(const char* sql, std::vector<Value> leading, const sdk::PageRequest& request,
                                        T (*read)(const Row&));

  std::shared_ptr<const sdk::Clock> clock_;
  std::string path_;  // the database file, as configured
  std::mutex mutex_;
  std::unique_ptr<Database> db_;
  int restore_lock_fd_ = -1;  // holds the flock of hold_restore_lock(true); guarded by mutex_
  std::string outbox_sink_;   // the audit sink outbox events are for (set_outbox_sink); guarded by mutex_
};

template <class T>
sdk::Result<sdk::Page<T>> SqliteStorage::keyset_page(const char* sql, std::vector<Value> leading,
                                                     const sdk::PageRequest& request, T (*read)(const Row&)) {
  if (request.limit == 0 || request.limit > sdk::max_page_limit)
    return sdk::fail(sdk::ErrorCode::invalid_argument,
                     "page limit must be between 1 and " + std::to_string(sdk::max_page_limit));
  leading.push_back(request.after ? request.after->created_at.micros() : std::numeric_limits<std::int64_t>::max());
  leading.push_back(request.after ? request.after->id.str() : std::string("ffffffff-ffff-ffff-ffff-ffffffffffff"));
  leading.push_back(static_cast<std::int64_t>(request.limit + 1));
  std::lock_guard lock(mutex_);
  sdk::Page<T> out;
  bool more = false;
  auto r = db_->run(sql, leading, [&](const Row& row) {
    if (out.items.size() < request.limit) out.items.push_back(read(row));
    else more = true;
  });
  if (!r) return sdk::fail(r.error());
  if (more) out.next = sdk::Cursor{out.items.back().created_at, out.items.back().id};
  return out;
}

}  // namespace strata::sqlite
