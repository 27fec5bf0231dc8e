#include "memory_storage.hpp"

#include "memory_backup.hpp"
#include <algorithm>
#include <limits>
#include <mutex>

namespace strata::memory {
namespace {

using sdk::ErrorCode;
using sdk::fail;
using sdk::Uuid;

constexpr int schema_version = 1;  // the memory store has one shape; nothing to migrate

const sdk::Timestamp latest_time = sdk::Timestamp::from_micros(std::numeric_limits<std::int64_t>::max());
const Uuid highest_id = [] {
  std::array<std::uint8_t, 16> b;
  b.fill(0xff);
  return Uuid(b);
}();

sdk::Unexpected no_such(std::string_view what, const Uuid& id) {
  return fail(ErrorCode::not_found, "no " + std::string(what) + " with id " + id.str());
}

std::pair<Uuid, Uuid> participants(const Uuid& a, const Uuid& b) { return std::minmax(a, b); }

}  // namespace

MemoryStorage::MemoryStorage(const sdk::PluginContext& context)
    : clock_(context.clock), epoch_(Uuid::generate().str()) {}

sdk::ConfigSchema MemoryStorage::config_schema() { return {}; }

sdk::Result<void> MemoryStorage::health() { return {}; }

sdk::Result<sdk::SchemaStatus> MemoryStorage::schema_status() {
  return sdk::SchemaStatus{schema_version, schema_version};
}

sdk::Result<sdk::SchemaStatus> MemoryStorage::migrate(int target) {
  if (target != schema_version)
    return fail(ErrorCode::invalid_argument,
                "the memory store has only schema version " + std::to_string(schema_version));
  return sdk::SchemaStatus{schema_version, schema_version};
}

// ---- users ---------------------------------------------------------------

sdk::Result<void> MemoryStorage::create_user(const sdk::User& user) {
  std::unique_lock lock(mutex_);
  if (users_.contains(user.id))
    return fail(ErrorCode::already_exists, "a user with id " + user.id.str() + " exists");
  if (user_by_name_.contains(user.username))
    return fail(ErrorCode::already_exists, "username '" + user.username + "' is taken");
  if (user_by_email_.contains(user.email))
    return fail(ErrorCode::already_exists, "email '" + user.email + "' is taken");
  users_.emplace(user.id, user);
  user_by_name_.emplace(user.username, user.id);
  user_by_email_.emplace(user.email, user.id);
  return {};
}

sdk::Result<sdk::User> MemoryStorage::get_user(const Uuid& id) {
  std::shared_lock lock(mutex_);
  auto it = users_.find(id);
  if (it == users_.end()) return no_such("user", id);
  return it->second;
}

sdk::Result<sdk::User> MemoryStorage::find_user_by_username(std::string_view username) {
  std::shared_lock lock(mutex_);
  auto it = user_by_name_.find(std::string(username));
  if (it == user_by_name_.end())
    return fail(ErrorCode::not_found, "no user named '" + std::string(username) + "'");
  return users_.at(it->second);
}

sdk::Result<sdk::User> MemoryStorage::find_user_by_email(std::string_view email) {
  std::shared_lock lock(mutex_);
  auto it = user_by_email_.find(std::string(email));
  if (it == user_by_email_.end())
    return fail(ErrorCode::not_found, "no user with email '" + std::string(email) + "'");
  return users_.at(it->second);
}

sdk::Result<void> MemoryStorage::update_user(const sdk::User& user) {
  std::unique_lock lock(mutex_);
  auto it = users_.find(user.id);
  if (it == users_.end()) return no_such("user", user.id);
  sdk::User& stored = it->second;
  if (auto other = user_by_name_.find(user.username); other != user_by_name_.end() && other->second != user.id)
    return fail(ErrorCode::already_exists, "username '" + user.username + "' is taken");
  if (auto other = user_by_email_.find(user.email); other != user_by_email_.end() && other->second != user.id)
    return fail(ErrorCode::already_exists, "email '" + user.email + "' is taken");
  user_by_name_.erase(stored.username);
  user_by_email_.erase(stored.email);
  user_by_name_.emplace(user.username, user.id);
  user_by_email_.emplace(user.email, user.id);
  stored.username = user.username;
  stored.email = user.email;
  stored.password_hash = user.password_hash;
  stored.is_active = user.is_active;
  stored.updated_at = user.updated_at;
  return {};
}

sdk::Result<void> MemoryStorage::record_login(const Uuid& id, sdk::Timestamp at) {
  std::unique_lock lock(mutex_);
  auto it = users_.find(id);
  if (it == users_.end()) return no_such("user", id);
  it->second.last_login = at;
  return {};
}

sdk::Result<bool> MemoryStorage::record_login_rehashed(const Uuid& id, sdk::Timestamp at,
                                                       std::string_view expected_hash, std::string_view new_hash) {
  std::unique_lock lock(mutex_);
  auto it = users_.find(id);
  if (it == users_.end()) return no_such("user", id);
  it->second.last_login = at;
  if (it->second.password_hash != expected_hash) return false;
  it->second.password_hash = std::string(new_hash);
  it->second.updated_at = at;
  return true;
}

sdk::Result<void> MemoryStorage::set_user_active(const Uuid& id, bool active) {
  std::unique_lock lock(mutex_);
  auto it = users_.find(id);
  if (it == users_.end()) return no_such("user", id);
  it->second.is_active = active;
  return {};
}

sdk::Result<void> MemoryStorage::delete_user(const Uuid& id) {
  std::unique_lock lock(mutex_);
  auto it = users_.find(id);
  if (it == users_.end()) return no_such("user", id);
  std::vector<Uuid> doomed;
  for (const auto& [message_id, m] : messages_)
    if (m.sender_id == id || m.recipient_id == id) doomed.push_back(message_id);
  for (const auto& message_id : doomed) remove_message(message_id);
  std::erase_if(keys_, [&](const auto& entry) { return entry.second.user_id == id; });
  user_by_name_.erase(it->second.username);
  user_by_email_.erase(it->second.email);
  users_.erase(it);
  return {};
}

// ---- messages ------------------------------------------------------------

sdk::Result<void> MemoryStorage::check_new_message(const sdk::Message& m) const {
  if (messages_.contains(m.id))
    return fail(ErrorCode::already_exists, "a message with id " + m.id.str() + " exists");
  if (!users_.contains(m.sender_id))
    return fail(ErrorCode::invalid_argument, "sender " + m.sender_id.str() + " does not exist");
  if (!users_.contains(m.recipient_id))
    return fail(ErrorCode::invalid_argument, "recipient " + m.recipient_id.str() + " does not exist");
  return {};
}

void MemoryStorage::add_message(const sdk::Message& m) {
  messages_.emplace(m.id, m);
  // Numbered under the writer lock: the order messages become visible.
  std::uint64_t seq = ++inbox_heads_[m.recipient_id];
  sequence_index_.emplace(SequenceKey{m.recipient_id, seq}, m.id);
  seq_of_.emplace(m.id, seq);
  inbox_index_.emplace(m.recipient_id, m.created_at, m.id);
  auto [low, high] = participants(m.sender_id, m.recipient_id);
  conversation_index_.emplace(low, high, m.created_at, m.id);
}

void MemoryStorage::remove_message(const Uuid& id) {
  auto it = messages_.find(id);
  if (it == messages_.end()) return;
  const sdk::Message& m = it->second;
  inbox_index_.erase({m.recipient_id, m.created_at, m.id});
  auto [low, high] = participants(m.sender_id, m.recipient_id);
  conversation_index_.erase({low, high, m.created_at, m.id});
  if (auto seq = seq_of_.find(id); seq != seq_of_.end()) {
    sequence_index_.erase({m.recipient_id, seq->second});
    seq_of_.erase(seq);
  }
  messages_.erase(it);
}

sdk::Result<void> MemoryStorage::insert_message(const sdk::Message& message) {
  std::unique_lock lock(mutex_);
  if (auto ok = check_new_message(message); !ok) return ok;
  add_message(message);
  return {};
}

sdk::Result<void> MemoryStorage::insert_messages(std::span<const sdk::Message> messages) {
  std::unique_lock lock(mutex_);
  return insert_messages_locked(messages);
}

sdk::Result<void> MemoryStorage::insert_messages_locked(std::span<const sdk::Message> messages) {
  // All or nothing: check the whole batch (ids unique within it too) before inserting.
  std::unordered_map<Uuid, bool> batch_ids;
  for (const auto& m : messages) {
    if (auto ok = check_new_message(m); !ok) return ok;
    if (!batch_ids.emplace(m.id, true).second)
      return fail(ErrorCode::already_exists, "message id " + m.id.str() + " appears twice in the batch");
  }
  for (const auto& m : messages) add_message(m);
  return {};
}

sdk::Result<sdk::Message> MemoryStorage::get_message(const Uuid& id) {
  std::shared_lock lock(mutex_);
  auto it = messages_.find(id);
  if (it == messages_.end()) return no_such("message", id);
  return it->second;
}

bool MemoryStorage::visible(const sdk::Message& m, sdk::Timestamp now) const {
  return !m.is_deleted && (!m.expires_at || *m.expires_at > now);
}

template <class Index, class Key, class SameOwner>
sdk::Result<sdk::Page<sdk::Message>> MemoryStorage::page(const Index& index, const Key& before,
                                                         SameOwner same_owner,
                                                         const sdk::PageRequest& request) const {
  if (request.limit == 0 || request.limit > sdk::max_page_limit)
    return fail(ErrorCode::invalid_argument,
                "page limit must be between 1 and " + std::to_string(sdk::max_page_limit));
  const sdk::Timestamp now = clock_->now();
  sdk::Page<sdk::Message> out;
  // Walk backwards from the first key at or after `before`: everything
  // visited is strictly older than the cursor, newest first.
  for (auto it = std::make_reverse_iterator(index.lower_bound(before)); it != index.rend(); ++it) {
    if (!same_owner(*it)) break;
    const sdk::Message& m = messages_.at(std::get<std::tuple_size_v<Key> - 1>(*it));
    if (!visible(m, now)) continue;
    if (out.items.size() == request.limit) {  // one more exists: there is a next page
      out.next = sdk::Cursor{out.items.back().created_at, out.items.back().id};
      break;
    }
    out.items.push_back(m);
  }
  return out;
}

sdk::Result<sdk::Page<sdk::Message>> MemoryStorage::inbox(const Uuid& recipient,
                                                          const sdk::PageRequest& request) {
  std::shared_lock lock(mutex_);
  InboxKey before = request.after ? InboxKey{recipient, request.after->created_at, request.after->id}
                                  : InboxKey{recipient, latest_time, highest_id};
  return page(inbox_index_, before, [&](const InboxKey& k) { return std::get<0>(k) == recipient; },
              request);
}

sdk::Result<sdk::Page<sdk::Message>> MemoryStorage::conversation(const Uuid& a, const Uuid& b,
                                                                 const sdk::PageRequest& request) {
  std::shared_lock lock(mutex_);
  auto [low, high] = participants(a, b);
  ConversationKey before = request.after
                               ? ConversationKey{low, high, request.after->created_at, request.after->id}
                               : ConversationKey{low, high, latest_time, highest_id};
  return page(conversation_index_, before,
              [&](const ConversationKey& k) { return std::get<0>(k) == low && std::get<1>(k) == high; },
              request);
}

sdk::Result<void> MemoryStorage::mark_read(const Uuid& id, sdk::Timestamp at) {
  std::unique_lock lock(mutex_);
  auto it = messages_.find(id);
  if (it == messages_.end()) return no_such("message", id);
  it->second.is_read = true;
  if (!it->second.read_at) it->second.read_at = at;
  return {};
}

sdk::Result<void> MemoryStorage::soft_delete_message(const Uuid& id) {
  std::unique_lock lock(mutex_);
  auto it = messages_.find(id);
  if (it == messages_.end()) return no_such("message", id);
  it->second.is_deleted = true;
  return {};
}

sdk::Result<std::uint64_t> MemoryStorage::purge_expired(sdk::Timestamp now) {
  std::unique_lock lock(mutex_);
  std::vector<Uuid> doomed;
  for (const auto& [id, m] : messages_)
    if (m.expires_at && *m.expires_at <= now) doomed.push_back(id);
  for (const auto& id : doomed) remove_message(id);
  return static_cast<std::uint64_t>(doomed.size());
}

sdk::Result<std::uint64_t> MemoryStorage::count_expired(sdk::Timestamp now) {
  std::shared_lock lock(mutex_);
  return static_cast<std::uint64_t>(std::count_if(messages_.begin(), messages_.end(), [&](const auto& entry) {
    return entry.second.expires_at && *entry.second.expires_at <= now;
  }));
}

// ---- key records ---------------------------------------------------------

sdk::Result<void> MemoryStorage::insert_key(const sdk::KeyRecord& key) {
  std::unique_lock lock(mutex_);
  if (keys_.contains(key.id))
    return fail(ErrorCode::already_exists, "a key record with id " + key.id.str() + " exists");
  if (!users_.contains(key.user_id))
    return fail(ErrorCode::invalid_argument, "user " + key.user_id.str() + " does not exist");
  keys_.emplace(key.id, key);
  return {};
}

sdk::Result<void> MemoryStorage::replace_active_key(const sdk::KeyRecord& key) {
  std::unique_lock lock(mutex_);  // one writer at a time: the swap is atomic
  if (keys_.contains(key.id))
    return fail(ErrorCode::already_exists, "a key record with id " + key.id.str() + " exists");
  if (!users_.contains(key.user_id))
    return fail(ErrorCode::invalid_argument, "user " + key.user_id.str() + " does not exist");
  for (auto& [id, other] : keys_)
    if (other.user_id == key.user_id) other.is_active = false;
  auto stored = key;
  stored.is_active = true;
  keys_.emplace(key.id, std::move(stored));
  return {};
}

sdk::Result<sdk::KeyRecord> MemoryStorage::get_key(const Uuid& id) {
  std::shared_lock lock(mutex_);
  auto it = keys_.find(id);
  if (it == keys_.end()) return no_such("key record", id);
  return it->second;
}

sdk::Result<std::vector<sdk::KeyRecord>> MemoryStorage::keys_for_user(const Uuid& user_id) {
  std::shared_lock lock(mutex_);
  std::vector<sdk::KeyRecord> out;
  for (const auto& [id, key] : keys_)
    if (key.user_id == user_id) out.push_back(key);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.created_at, a.id) > std::tie(b.created_at, b.id);
  });
  return out;
}

sdk::Result<sdk::Page<sdk::KeyRecord>> MemoryStorage::all_keys(const sdk::PageRequest& request) {
  std::shared_lock lock(mutex_);
  return keyset_page(keys_, request);
}

sdk::Result<bool> MemoryStorage::replace_key_wrapping(const Uuid& id, const sdk::Bytes& expected,
                                                      const sdk::Bytes& replacement) {
  std::unique_lock lock(mutex_);
  auto it = keys_.find(id);
  if (it == keys_.end()) return no_such("key record", id);
  if (it->second.private_key_encrypted != expected) return false;
  it->second.private_key_encrypted = replacement;
  return true;
}

sdk::Result<void> MemoryStorage::deactivate_key(const Uuid& id) {
  std::unique_lock lock(mutex_);
  auto it = keys_.find(id);
  if (it == keys_.end()) return no_such("key record", id);
  it->second.is_active = false;
  return {};
}

// ---- cipher key rotation (SDK 1.1) -----------------------------------------

// A scan: the stubs hold test-sized data, and rotation is rare.
sdk::Result<sdk::Page<sdk::Message>> MemoryStorage::key_page(const std::function<bool(const std::string&)>& wanted,
                                                            const sdk::PageRequest& request) const {
  if (request.limit == 0 || request.limit > sdk::max_page_limit)
    return fail(ErrorCode::invalid_argument,
                "page limit must be between 1 and " + std::to_string(sdk::max_page_limit));
  std::shared_lock lock(mutex_);
  std::vector<const sdk::Message*> matches;
  for (const auto& [id, m] : messages_) {
    if (!wanted(m.key_id)) continue;
    if (request.after && std::tie(m.created_at, m.id) >= std::tie(request.after->created_at, request.after->id))
      continue;
    matches.push_back(&m);
  }
  std::sort(matches.begin(), matches.end(), [](const sdk::Message* a, const sdk::Message* b) {
    return std::tie(a->created_at, a->id) > std::tie(b->created_at, b->id);
  });
  sdk::Page<sdk::Message> out;
  for (const sdk::Message* m : matches) {
    if (out.items.size() == request.limit) {
      out.next = sdk::Cursor{out.items.back().created_at, out.items.back().id};
      break;
    }
    out.items.push_back(*m);
  }
  return out;
}

sdk::Result<sdk::Page<sdk::Message>> MemoryStorage::messages_not_under_key(std::string_view key_id,
                                                                          const sdk::PageRequest& request) {
  return key_page([&](const std::string& k) { return k != key_id; }, request);
}

sdk::Result<sdk::Page<sdk::Message>> MemoryStorage::messages_under_key(std::string_view key_id,
                                                                      const sdk::PageRequest& request) {
  return key_page([&](const std::string& k) { return k == key_id; }, request);
}

sdk::Result<std::vector<sdk::KeyCount>> MemoryStorage::count_messages_by_key() {
  std::shared_lock lock(mutex_);
  std::map<std::string, std::uint64_t> counts;
  for (const auto& [id, m] : messages_) ++counts[m.key_id];
  std::vector<sdk::KeyCount> out;
  for (const auto& [key_id, n] : counts) out.push_back({key_id, n});
  return out;
}

sdk::Result<std::vector<bool>> MemoryStorage::replace_message_contents(std::span<const sdk::ContentReplacement> rows,
                                                                       std::span<const sdk::AuditEvent> events) {
  if (!events.empty() && events.size() != rows.size())
    return fail(ErrorCode::invalid_argument, "replace_message_contents takes no events or one per row");
  for (const auto& e : events)
    if (auto ok = sdk::validate(e); !ok) return sdk::fail(ok.error());
  std::unique_lock lock(mutex_);  // the rows and their events together, as one transaction
  std::vector<bool> out;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto it = messages_.find(rows[i].id);
    bool replace = it != messages_.end() && it->second.key_id == rows[i].expected_key_id;
    if (replace) {
      it->second.encrypted_content = rows[i].encrypted_content;
      it->second.iv = rows[i].iv;
      it->second.key_id = rows[i].key_id;
      if (!events.empty()) add_to_outbox(events[i]);
    }
    out.push_back(replace);
  }
  return out;
}

sdk::Result<std::uint64_t> MemoryStorage::count_messages_not_under_key(std::string_view key_id) {
  std::shared_lock lock(mutex_);
  return static_cast<std::uint64_t>(std::count_if(messages_.begin(), messages_.end(),
                                                  [&](const auto& entry) { return entry.second.key_id != key_id; }));
}

sdk::Result<bool> MemoryStorage::replace_message_content(const Uuid& id, std::string_view expected_key_id,
                                                         const sdk::Bytes& encrypted_content,
                                                         const sdk::Bytes& iv, std::string_view key_id) {
  std::unique_lock lock(mutex_);
  auto it = messages_.find(id);
  if (it == messages_.end()) return no_such("message", id);
  if (it->second.key_id != expected_key_id) return false;
  it->second.encrypted_content = encrypted_content;
  it->second.iv = iv;
  it->second.key_id = std::string(key_id);
  return true;
}

// ---- snapshot (SDK 1.2) ----------------------------------------------------

sdk::Result<sdk::BackupReport> MemoryStorage::backup(const std::filesystem::path& dir) {
  std::shared_lock lock(mutex_);
  nlohmann::json users = nlohmann::json::array(), messages = nlohmann::json::array(), keys = nlohmann::json::array();
  for (const auto& [id, u] : users_) users.push_back(to_json(u));
  for (const auto& [id, m] : messages_) messages.push_back(to_json(m));
  for (const auto& [id, k] : keys_) keys.push_back(to_json(k));
  return write_snapshot(dir, {{"users", users}, {"messages", messages}, {"encryption_keys", keys}},
                        {{"users", users_.size()}, {"messages", messages_.size()}, {"encryption_keys", keys_.size()}});
}

namespace {

struct StorageSnapshot {
  std::vector<sdk::User> users;
  std::vector<sdk::Message> messages;
  std::vector<sdk::KeyRecord> keys;
};

// The whole snapshot parsed, before anything is replaced.
sdk::Result<StorageSnapshot> read_storage_snapshot(const std::filesystem::path& dir) {
  auto snapshot = read_snapshot(dir);
  if (!snapshot) return sdk::fail(snapshot.error());
  StorageSnapshot out;
  try {
    for (const auto& j : snapshot->at("users")) out.users.push_back(user_from(j));
    for (const auto& j : snapshot->at("messages")) out.messages.push_back(message_from(j));
    for (const auto& j : snapshot->at("encryption_keys")) out.keys.push_back(key_from(j));
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorCode::invalid_argument, "the storage snapshot is malformed: " + std::string(e.what()));
  }
  return out;
}

}  // namespace

sdk::Result<void> MemoryStorage::check_restore(const std::filesystem::path& dir) {
  auto readable = read_storage_snapshot(dir);
  if (!readable) return sdk::fail(readable.error());
  return {};
}

sdk::Result<sdk::BackupReport> MemoryStorage::restore(const std::filesystem::path& dir) {
  auto snapshot = read_storage_snapshot(dir);
  if (!snapshot) return sdk::fail(snapshot.error());
  const auto& [users, messages, keys] = *snapshot;
  std::unique_lock lock(mutex_);
  users_.clear();
  user_by_name_.clear();
  user_by_email_.clear();
  messages_.clear();
  inbox_index_.clear();
  conversation_index_.clear();
  keys_.clear();
  // A restored store numbers its messages afresh, in a new epoch.
  inbox_heads_.clear();
  sequence_index_.clear();
  seq_of_.clear();
  epoch_ = Uuid::generate().str();
  for (const auto& u : users) {
    users_.emplace(u.id, u);
    user_by_name_.emplace(u.username, u.id);
    user_by_email_.emplace(u.email, u.id);
  }
  std::vector<const sdk::Message*> oldest_first;
  for (const auto& m : messages) oldest_first.push_back(&m);
  std::sort(oldest_first.begin(), oldest_first.end(),
            [](const auto* a, const auto* b) { return std::tie(a->created_at, a->id) < std::tie(b->created_at, b->id); });
  for (const auto* m : oldest_first) add_message(*m);
  for (const auto& k : keys) keys_.emplace(k.id, k);
  return sdk::BackupReport{{}, {{"users", users.size()}, {"messages", messages.size()}, {"encryption_keys", keys.size()}}, ""};
}

sdk::Result<bool> MemoryStorage::has_data() {
  std::shared_lock lock(mutex_);
  return !users_.empty() || !messages_.empty() || !keys_.empty();
}

}  // namespace strata::memory
