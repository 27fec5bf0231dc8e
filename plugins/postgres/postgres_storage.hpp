#pragma once
// Storage role on PostgreSQL (libpq).

#include "postgres_pool.hpp"
#include "postgres_replicas.hpp"
#include "postgres_rows.hpp"
#include "strata/sdk/sdk.hpp"

namespace strata::postgres {

/// The seed's relational model on PostgreSQL. Every value is a bound
/// parameter of a prepared statement; pages are keyset queries on
/// (created_at, id); batches are one binary COPY in one transaction.
class PostgresStorage : public sdk::Storage {
 public:
  explicit PostgresStorage(const sdk::PluginContext& context);
  /// See README.md.
  static sdk::ConfigSchema config_schema();

  /// Connects, checks the schema is migrated, and (with cleanup.schedule) the pg_cron job.
  sdk::Result<void> health() override;
  sdk::Result<sdk::SchemaStatus> schema_status() override;
  sdk::Result<sdk::SchemaStatus> migrate(int target) override;
  sdk::Result<sdk::MigrationPlan> plan_migration(int target) override;
  sdk::Result<void> create_user(const sdk::User& user) override;
  sdk::Result<sdk::User> get_user(const sdk::Uuid& id) override;
  sdk::Result<sdk::User> find_user_by_username(std::string_view username) override;
  sdk::Result<sdk::User> find_user_by_email(std::string_view email) override;
  sdk::Result<void> update_user(const sdk::User& user) override;
  sdk::Result<void> record_login(const sdk::Uuid& id, sdk::Timestamp at) override;
  sdk::Result<bool> record_login_rehashed(const sdk::Uuid& id, sdk::Timestamp at, std::string_view expected_hash,
                                          std::string_view new_hash) override;
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
  sdk::Result<std::uint64_t> purge_expired(sdk::Timestamp now) override;  // postgres_purge.cpp
  sdk::Result<std::uint64_t> count_expired(sdk::Timestamp now) override;
  /// The read replicas' lag and state (empty without replicas).
  sdk::Result<std::vector<sdk::Metric>> gauges() override;
  sdk::Result<sdk::DatabaseInfo> database_info() override;
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
  sdk::Result<sdk::Page<sdk::Message>> messages_under_key(std::string_view key_id,
                                                          const sdk::PageRequest& page) override;
  sdk::Result<std::vector<sdk::KeyCount>> count_messages_by_key() override;
  sdk::Result<void> replace_active_key(const sdk::KeyRecord& key) override;
  sdk::Result<sdk::Page<sdk::KeyRecord>> all_keys(const sdk::PageRequest& page) override;
  // Users' data keys (SDK 1.11), in postgres_data_keys.cpp.
  sdk::Result<void> insert_data_key(const sdk::DataKey& key) override;
  sdk::Result<sdk::DataKey> get_data_key(const sdk::Uuid& id) override;
  sdk::Result<std::vector<sdk::DataKey>> data_keys_for_user(const sdk::Uuid& user_id) override;
  sdk::Result<std::vector<sdk::Uuid>> destroy_data_keys(const sdk::Uuid& user_id, sdk::Timestamp at) override;
  sdk::Result<sdk::Page<sdk::DataKey>> all_data_keys(const sdk::PageRequest& page) override;
  sdk::Result<bool> replace_data_key_wrapping(const sdk::Uuid& id, const sdk::Bytes& expected,
                                              const sdk::Bytes& replacement) override;
  sdk::Result<bool> replace_key_wrapping(const sdk::Uuid& id, const sdk::Bytes& expected,
                                         const sdk::Bytes& replacement) override;
  sdk::Result<sdk::BackupReport> backup(const std::filesystem::path& dir) override;
  sdk::Result<sdk::BackupReport> restore(const std::filesystem::path& dir) override;
  sdk::Result<bool> has_data() override;
  sdk::Result<void> check_restore(const std::filesystem::path& dir) override;
  /// A session advisory lock on a connection of its own, outside the pool.
  sdk::Result<void> hold_restore_lock(bool hold) override;
  // The audit outbox (SDK 1.5), in postgres_outbox.cpp.
  sdk::Result<void> insert_with_outbox(std::span<const sdk::Message> messages,
                                       std::span<const sdk::AuditEvent> events) override;
  /// insert_with_outbox_sql, gated on the users in the same statement (FOR SHARE).
  sdk::Result<void> insert_sends(std::span<const sdk::Message> messages,
                                 std::span<const sdk::AuditEvent> events) override;
  sdk::Result<std::size_t> drain_outbox(std::size_t limit, const sdk::OutboxDelivery& deliver) override;
  sdk::Result<std::uint64_t> outbox_size() override;
  sdk::Result<std::optional<sdk::Timestamp>> outbox_oldest() override;
  sdk::Result<void> set_outbox_sink(std::string_view identity) override;
  // Session revocations (SDK 1.9), in postgres_session_revocations.cpp.
  sdk::Result<void> revoke_sessions(std::string_view subject, sdk::Timestamp before,
                                    sdk::Timestamp keep_until) override;
  sdk::Result<std::optional<sdk::Timestamp>> sessions_revoked_before(std::span<const std::string> subjects) override;
  // The per-recipient sequence (SDK 1.10), in postgres_inbox_stream.cpp.
  sdk::Result<sdk::InboxStream> inbox_since(const sdk::Uuid& recipient, std::uint64_t after,
                                            std::size_t limit) override;
  sdk::Result<sdk::InboxHeads> inbox_heads(std::span<const sdk::Uuid> recipients) override;
  /// A batch of compare-and-set re-seals and their outbox events: one statement (postgres_outbox.cpp).
  sdk::Result<std::vector<bool>> replace_message_contents(std::span<const sdk::ContentReplacement> rows,
                                                          std::span<const sdk::AuditEvent> events) override;

 private:
  // After a restore: strata_data_keys, left out of dumps, made if missing.
  sdk::Result<void> recreate_data_keys_table();
  sdk::Result<std::map<std::string, std::uint64_t>> table_counts();
  // Runs a statement that must touch exactly one row; `not_found` names `what` otherwise.
  sdk::Result<void> update_one(const Statement& statement, std::vector<Param> params,
                               std::string_view what, const sdk::Uuid& id);
  sdk::Result<sdk::User> one_user(const struct Statement& statement, const std::string& value, std::string what);
  sdk::Result<sdk::Page<sdk::Message>> page(const struct Statement& statement, std::string owner_a,
                                            std::optional<std::string> owner_b, const sdk::PageRequest& request,
                                            bool on_replica);
  sdk::Result<void> ensure_cleanup_job(Connection& c);
  // A page of `statement`'s rows, newest first by keyset (created_at, id):
  // its parameters are `leading`, then the cursor's time and id, then
  // limit + 1 (to learn whether a next page exists). `on_replica`: a replica
  // may serve it (as read()); otherwise the primary.
  template <class T>
  sdk::Result<sdk::Page<T>> keyset_page(const struct Statement& statement, std::vector<Param> leading,
                                        const sdk::PageRequest& request, T (*read_row)(const Row&), bool on_replica) {
    if (request.limit == 0 || request.limit > sdk::max_page_limit)
      return sdk::fail(sdk::ErrorCode::invalid_argument,
                       "page limit must be between 1 and " + std::to_string(sdk::max_page_limit));
    leading.emplace_back(request.after ? request.after->created_at.iso8601() : std::string("infinity"));
    leading.emplace_back(request.after ? request.after->id.str() : std::string("ffffffff-ffff-ffff-ffff-ffffffffffff"));
    leading.emplace_back(std::to_string(request.limit + 1));
    std::function<sdk::Result<sdk::Page<T>>(Connection&)> query = [&](Connection& c) -> sdk::Result<sdk::Page<T>> {
      auto r = c.run(statement, leading);
      if (!r) return sdk::fail(r.error());
      sdk::Page<T> out;
      int rows = PQntuples(r->get());
      for (int i = 0; i < rows && out.items.size() < request.limit; ++i) out.items.push_back(read_row(Row(r->get(), i)));
      if (static_cast<std::size_t>(rows) > request.limit)
        out.next = sdk::Cursor{out.items.back().created_at, out.items.back().id};
      return out;
    };
    if (on_replica) return read(query);
    return pool_.run(Repeatable::yes, query);
  }

  // A write on the primary; with replicas, its WAL position is noted after
  // it commits (read-your-writes). `repeatable`: as Pool::run.
  template <class T>
  sdk::Result<T> write(const std::function<sdk::Result<T>(Connection&)>& op, Repeatable repeatable = Repeatable::no) {
    if (replicas_.empty()) return pool_.run<T>(repeatable, op);
    return pool_.run<T>(repeatable, [&](Connection& c) -> sdk::Result<T> {
      auto r = op(c);
      if (r) replicas_.note_write(c);
      return r;
    });
  }
  // A read a replica may serve: one that has replayed this process's
  // writes; else, or if the replica fails, the primary.
  template <class T>
  sdk::Result<T> read(const std::function<sdk::Result<T>(Connection&)>& op) {
    if (!replicas_.empty()) {
      if (Replica* replica = replicas_.pick()) {
        auto r = replica->pool.run<T>(Repeatable::yes, op);
        if (r || !r.error().retryable) {
          replica->reads.fetch_add(1, std::memory_order_relaxed);
          return r;
        }
        replicas_.failed(*replica, r.error());
      }
    }
    return pool_.run<T>(Repeatable::yes, op);
  }

  std::shared_ptr<const sdk::Clock> clock_;
  sdk::Logger log_;
  Pool pool_;
  ReplicaSet replicas_;
  std::mutex restore_lock_mutex_;
  // The audit sink this instance's outbox events are for (set_outbox_sink); "" until set.
  std::string outbox_sink() const;
  mutable std::mutex outbox_sink_mutex_;
  std::string outbox_sink_;
  std::unique_ptr<Connection> restore_lock_;  // holds the restore's advisory lock while open
};

}  // namespace strata::postgres
