#pragma once
// Storage role in memory: the relational model with its constraints and indexes.

#include <algorithm>
#include <memory>
#include <map>
#include <set>
#include <functional>
#include <shared_mutex>
#include <tuple>
#include <unordered_map>

#include "strata/sdk/sdk.hpp"

namespace strata::memory {

/// A page of `records` (a map of id to record with created_at and id),
/// newest first by keyset (created_at, id): a scan, as the stubs hold
/// test-sized data. The caller holds the lock that guards `records`.
template <class Map>
sdk::Result<sdk::Page<typename Map::mapped_type>> keyset_page(const Map& records, const sdk::PageRequest& request) {
  using T = typename Map::mapped_type;
  if (request.limit == 0 || request.limit > sdk::max_page_limit)
    return sdk::fail(sdk::ErrorCode::invalid_argument,
                     "page limit must be between 1 and " + std::to_string(sdk::max_page_limit));
  std::vector<const T*> older;
  for (const auto& [id, record] : records)
    if (!request.after ||
        std::tie(record.created_at, record.id) < std::tie(request.after->created_at, request.after->id))
      older.push_back(&record);
  std::sort(older.begin(), older.end(),
            [](const T* a, const T* b) { return std::tie(a->created_at, a->id) > std::tie(b->created_at, b->id); });
  sdk::Page<T> out;
  for (std::size_t i = 0; i < older.size() && i < request.limit; ++i) out.items.push_back(*older[i]);
  if (older.size() > request.limit) out.next = sdk::Cursor{out.items.back().created_at, out.items.back().id};
  return out;
}

/// Users, messages and key records in maps, with the constraints PostgreSQL
/// enforces (unique username/email, foreign keys) and keyset-ordered indexes
/// for inbox and conversation pages. Thread-safe (one reader-writer lock).
class MemoryStorage : public sdk::Storage {
 public:
  explicit MemoryStorage(const sdk::PluginContext& context);
  /// No keys: the memory store needs no configuration.
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
  sdk::Result<sdk::Page<sdk::Message>> inbox(const sdk::Uuid& recipient,
                                             const sdk::PageRequest& page) override;
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
  // The audit outbox (SDK 1.5), in memory_outbox.cpp.
  sdk::Result<void> insert_with_outbox(std::span<const sdk::Message> messages,
                                       std::span<const sdk::AuditEvent> events) override;
  sdk::Result<void> insert_sends(std::span<const sdk::Message> messages,
                                 std::span<const sdk::AuditEvent> events) override;
  sdk::Result<std::size_t> drain_outbox(std::size_t limit, const sdk::OutboxDelivery& deliver) override;
  sdk::Result<std::uint64_t> outbox_size() override;
  sdk::Result<std::optional<sdk::Timestamp>> outbox_oldest() override;
  sdk::Result<void> set_outbox_sink(std::string_view identity) override;
  // Session revocations (SDK 1.9), in memory_session_revocations.cpp.
  sdk::Result<void> revoke_sessions(std::string_view subject, sdk::Timestamp before,
                                    sdk::Timestamp keep_until) override;
  sdk::Result<std::optional<sdk::Timestamp>> sessions_revoked_before(std::span<const std::string> subjects) override;
  // The per-recipient sequence (SDK 1.10), in memory_inbox_stream.cpp.
  sdk::Result<sdk::InboxStream> inbox_since(const sdk::Uuid& recipient, std::uint64_t after,
                                            std::size_t limit) override;
  sdk::Result<sdk::InboxHeads> inbox_heads(std::span<const sdk::Uuid> recipients) override;
  // Users' data keys (SDK 1.11), in memory_data_keys.cpp.
  sdk::Result<void> insert_data_key(const sdk::DataKey& key) override;
  sdk::Result<sdk::DataKey> get_data_key(const sdk::Uuid& id) override;
  sdk::Result<std::vector<sdk::DataKey>> data_keys_for_user(const sdk::Uuid& user_id) override;
  sdk::Result<std::vector<sdk::Uuid>> destroy_data_keys(const sdk::Uuid& user_id, sdk::Timestamp at) override;
  sdk::Result<sdk::Page<sdk::DataKey>> all_data_keys(const sdk::PageRequest& page) override;
  sdk::Result<bool> replace_data_key_wrapping(const sdk::Uuid& id, const sdk::Bytes& expected,
                                              const sdk::Bytes& replacement) override;

 private:
  sdk::Result<void> insert_messages_locked(std::span<const sdk::Message> messages);
  // Ascending (owner, created_at, id); pages walk it backwards (newest first).
  // For conversations the owner is the ordered pair of participants.
  using InboxKey = std::tuple<sdk::Uuid, sdk::Timestamp, sdk::Uuid>;
  using ConversationKey = std::tuple<sdk::Uuid, sdk::Uuid, sdk::Timestamp, sdk::Uuid>;

  sdk::Result<void> check_new_message(const sdk::Message& m) const;
  // Messages whose key id `wanted` accepts, newest first by keyset (rotation, adoption).
  sdk::Result<sdk::Page<sdk::Message>> key_page(const std::function<bool(const std::string&)>& wanted,
                                                const sdk::PageRequest& request) const;
  void add_message(const sdk::Message& m);
  void remove_message(const sdk::Uuid& id);
  bool visible(const sdk::Message& m, sdk::Timestamp now) const;
  template <class Index, class Key, class SameOwner>
  sdk::Result<sdk::Page<sdk::Message>> page(const Index& index, const Key& before,
                                            SameOwner same_owner,
                                            const sdk::PageRequest& request) const;

  std::shared_ptr<const sdk::Clock> clock_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<sdk::Uuid, sdk::User> users_;
  std::unordered_map<std::string, sdk::Uuid> user_by_name_;
  std::unordered_map<std::string, sdk::Uuid> user_by_email_;
  std::unordered_map<sdk::Uuid, sdk::Message> messages_;
  std::set<InboxKey> inbox_index_;
  std::set<ConversationKey> conversation_index_;
  std::unordered_map<sdk::Uuid, sdk::KeyRecord> keys_;
  std::unordered_map<sdk::Uuid, sdk::DataKey> data_keys_;  // tombstones included; not backed up
  // The per-recipient sequence: each recipient's last number, the messages
  // by (recipient, number), and each message's number. A new store (this
  // process) or a restore is a new epoch.
  using SequenceKey = std::pair<sdk::Uuid, std::uint64_t>;
  std::unordered_map<sdk::Uuid, std::uint64_t> inbox_heads_;
  std::map<SequenceKey, sdk::Uuid> sequence_index_;
  std::unordered_map<sdk::Uuid, std::uint64_t> seq_of_;
  std::string epoch_;
  // The outbox by insertion sequence, each event with the sink it is for
  // (set_outbox_sink; "" before one was set); `outbox_delivering_` holds the
  // sequences a drain has handed out and not yet settled (skipped by others).
  struct OutboxEntry {
    std::string sink;
    sdk::AuditEvent event;
  };
  std::map<std::uint64_t, OutboxEntry> outbox_;
  std::set<std::uint64_t> outbox_delivering_;
  std::uint64_t outbox_next_ = 0;
  std::string outbox_sink_;  // guarded by mutex_
  // Whether an entry is this instance's to relay: its sink's, or from before any sink was set.
  bool outbox_mine(const OutboxEntry& entry) const { return entry.sink == outbox_sink_ || entry.sink.empty(); }
  void add_to_outbox(const sdk::AuditEvent& event) { outbox_.emplace(outbox_next_++, OutboxEntry{outbox_sink_, event}); }
  struct SessionRevocation {
    sdk::Timestamp before, keep_until;
  };
  std::unordered_map<std::string, SessionRevocation> revocations_;  // by subject
};

}  // namespace strata::memory
