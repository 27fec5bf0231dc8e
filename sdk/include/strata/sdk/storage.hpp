#pragma once
// The storage role: users, encrypted messages and per-user key records.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "strata/sdk/audit.hpp"
#include "strata/sdk/bytes.hpp"
#include "strata/sdk/backup.hpp"
#include "strata/sdk/database_info.hpp"
#include "strata/sdk/error.hpp"
#include "strata/sdk/role_methods.hpp"
#include "strata/sdk/timestamp.hpp"
#include "strata/sdk/uuid.hpp"

namespace strata::sdk {

/// A user row (the seed's `users` table). A user's public key is the
/// `public_key` of their active KeyRecord, as in the seed.
struct User {
  Uuid id;                    ///< primary key, chosen by the caller
  std::string username;       ///< unique
  std::string email;          ///< unique
  std::string password_hash;  ///< encoded KDF output with its parameters
  Timestamp created_at;
  Timestamp updated_at;
  std::optional<Timestamp> last_login;
  bool is_active = true;

  bool operator==(const User&) const = default;
};

/// A message row (the seed's `messages` table). The content is sealed by the
/// cipher role; `key_id` and `read_at` are Strata's additions to the seed's
/// columns (`key_id` names the cipher key that sealed it).
struct Message {
  Uuid id;
  Uuid sender_id;                 ///< must name an existing user
  Uuid recipient_id;              ///< must name an existing user
  Bytes encrypted_content;        ///< ciphertext with its authentication tag
  Bytes iv;                       ///< the nonce used to seal
  std::string key_id;             ///< cipher key id
  Timestamp created_at;           ///< set by the caller; the page order
  bool is_read = false;           ///< the seed's read state
  std::optional<Timestamp> read_at;  ///< when it was first read (absent for rows the seed marked read)
  bool is_deleted = false;        ///< soft delete
  std::optional<Timestamp> expires_at;

  bool operator==(const Message&) const = default;
};

/// A per-user key pair record (the seed's `encryption_keys` table).
struct KeyRecord {
  Uuid id;
  Uuid user_id;                      ///< must name an existing user
  Bytes public_key;                  ///< the raw public key
  Bytes private_key_encrypted;       ///< the private half, wrapped by the cipher role
  Timestamp created_at;
  std::optional<Timestamp> expires_at;
  bool is_active = true;

  bool operator==(const KeyRecord&) const = default;
};

/// A user's data key (SDK 1.11): what the services seal that user's
/// messages and private keys under. Stored wrapped by the cipher role, so the
/// storage never holds it in the clear; destroying it (erasing the user)
/// leaves a tombstone: the id, the user and when, with `wrapped` empty.
struct DataKey {
  Uuid id;
  Uuid user_id;                           ///< need not name an existing user (tombstones outlive users)
  Bytes wrapped;                          ///< the key, wrapped by the cipher role; empty once destroyed
  Timestamp created_at;
  std::optional<Timestamp> destroyed_at;  ///< set: a tombstone, never a key again

  bool operator==(const DataKey&) const = default;
};

/// A keyset position: pages continue strictly after (older than) it.
struct Cursor {
  Timestamp created_at;
  Uuid id;
  bool operator==(const Cursor&) const = default;
};

/// The largest page a storage backend must serve; larger limits are `invalid_argument`.
inline constexpr std::size_t max_page_limit = 1000;

/// The largest encrypted_content a read hands back: the services' 1 MiB
/// text bound plus room for any cipher's overhead. A stored row over it
/// (written by another client) is read with encrypted_content empty and the
/// rest of the row intact, so one huge row costs neither the time nor the
/// memory of its size; the services refuse to open it, naming the bound.
inline constexpr std::size_t max_read_ciphertext_bytes = (1 << 20) + 4096;

/// A page request: up to `limit` rows (1..max_page_limit), newest first, older than `after`.
struct PageRequest {
  std::size_t limit = 50;
  std::optional<Cursor> after;
};

/// One page of rows and the cursor of the next page (absent on the last page).
template <class T>
struct Page {
  std::vector<T> items;
  std::optional<Cursor> next;
};

/// The schema version a storage backend is at, and the newest it knows.
struct SchemaStatus {
  int current = 0;
  int latest = 0;
};

/// A message's new sealed content (replace_message_contents): replaced only
/// if the row's key_id is still `expected_key_id`.
struct ContentReplacement {
  Uuid id;
  std::string expected_key_id;
  Bytes encrypted_content;
  Bytes iv;
  std::string key_id;
};

/// How many messages one cipher key id seals ('' for the seed's rows).
struct KeyCount {
  std::string key_id;
  std::uint64_t messages = 0;
};

/// One step of a schema migration (plan_migration).
struct MigrationStep {
  int version = 0;
  std::string name;
  /// "apply" (run it), "baseline" (its objects were made by another tool,
  /// the seed's SQL say, and are identical: recorded as applied), "complete"
  /// (partly made by another tool: the rest is created), "revert" (down).
  std::string action;
  std::string detail;  ///< one line on what was found
};

/// A message with its number in its recipient's sequence (SDK 1.10): numbers
/// run 1, 2, 3 … per recipient, without gaps, in the order the messages
/// committed, assigned inside the transaction that stores each message.
struct SequencedMessage {
  std::uint64_t seq = 0;
  Message message;

  bool operator==(const SequencedMessage&) const = default;
};

/// What inbox_since read.
struct InboxStream {
  /// Names this run of the sequence: it changes when the numbers may restart
  /// or repeat (a restore, a re-created database), so a cursor from another
  /// epoch means nothing here.
  std::string epoch;
  /// The recipient's last number handed out (0: none yet).
  std::uint64_t head = 0;
  /// Rows numbered after the cursor, ascending.
  std::vector<SequencedMessage> items;
};

/// What inbox_heads read: the epoch and, per recipient asked, its head.
struct InboxHeads {
  std::string epoch;
  std::vector<std::uint64_t> heads;
};

/// What migrate(target) would do from the current state.
struct MigrationPlan {
  SchemaStatus status;
  int target = 0;
  std::vector<MigrationStep> steps;
  /// Why migrate(target) would refuse, one line per difference (the object,
  /// what the migration has, what was found); empty when it would go ahead.
  std::vector<std::string> differences;
  /// What was found and accepted (an extra nullable column, an extra index).
  std::vector<std::string> notes;
};

/// Storage role. Implementations must be safe to call from several threads.
///
/// What drain_outbox hands a batch of outbox events to (the host's relay to
/// the audit sink); on success the events leave the outbox.
using OutboxDelivery = std::function<Result<void>(std::span<const AuditEvent> events)>;

/// Ordering: pages are newest first by (created_at, id), both descending,
/// and must be computed by keyset (never OFFSET) so that rows inserted while
/// a reader pages never cause gaps or repeats.
/// Visibility: inbox and conversation pages leave out soft-deleted messages
/// and messages whose expires_at has passed.
class Storage {
 public:
  virtual ~Storage() = default;

  /// Whether the backend answers.
  virtual Result<void> health() = 0;

  /// The current and newest schema versions.
  virtual Result<SchemaStatus> schema_status() = 0;
  /// Migrates up or down to `target` (0 = empty); returns the new status.
  virtual Result<SchemaStatus> migrate(int target) = 0;

  /// Inserts a user; `already_exists` when the id, username or email is taken.
  virtual Result<void> create_user(const User& user) = 0;
  /// A user by id; `not_found` otherwise.
  virtual Result<User> get_user(const Uuid& id) = 0;
  /// A user by exact username; `not_found` otherwise.
  virtual Result<User> find_user_by_username(std::string_view username) = 0;
  /// A user by exact email; `not_found` otherwise.
  virtual Result<User> find_user_by_email(std::string_view email) = 0;
  /// Replaces username, email, password_hash, is_active and
  /// updated_at of an existing user; `already_exists` on a unique clash.
  virtual Result<void> update_user(const User& user) = 0;
  /// Sets last_login.
  virtual Result<void> record_login(const Uuid& id, Timestamp at) = 0;
  /// Activates or deactivates a user.
  virtual Result<void> set_user_active(const Uuid& id, bool active) = 0;
  /// Deletes a user with their key records and every message they sent or received.
  virtual Result<void> delete_user(const Uuid& id) = 0;

  /// Inserts one message; `invalid_argument` if sender or recipient does not exist,
  /// `already_exists` if the id does.
  virtual Result<void> insert_message(const Message& message) = 0;
  /// Inserts messages atomically: all or none.
  virtual Result<void> insert_messages(std::span<const Message> messages) = 0;
  /// A message by id, deleted or not; `not_found` otherwise.
  virtual Result<Message> get_message(const Uuid& id) = 0;
  /// Messages received by `recipient`, newest first.
  virtual Result<Page<Message>> inbox(const Uuid& recipient, const PageRequest& page) = 0;
  /// Messages between `a` and `b` in either direction, newest first.
  virtual Result<Page<Message>> conversation(const Uuid& a, const Uuid& b,
                                             const PageRequest& page) = 0;
  /// Sets is_read, and read_at if not yet set; `not_found` for an unknown id.
  virtual Result<void> mark_read(const Uuid& id, Timestamp at) = 0;
  /// Marks a message deleted; it stays until purged.
  virtual Result<void> soft_delete_message(const Uuid& id) = 0;
  /// Deletes messages whose expires_at is at or before `now`; returns how
  /// many. A server-backed plugin should delete in bounded batches, each its
  /// own short transaction, so a large purge never holds locks for long.
  virtual Result<std::uint64_t> purge_expired(Timestamp now) = 0;

  /// Inserts a key record; `invalid_argument` if the user does not exist.
  virtual Result<void> insert_key(const KeyRecord& key) = 0;
  /// A key record by id; `not_found` otherwise.
  virtual Result<KeyRecord> get_key(const Uuid& id) = 0;
  /// A user's key records, newest first.
  virtual Result<std::vector<KeyRecord>> keys_for_user(const Uuid& user_id) = 0;
  /// Sets is_active = false.
  virtual Result<void> deactivate_key(const Uuid& id) = 0;


  // ---- optional methods, from the table in role_methods.hpp -----------------
  // Their `unsupported` defaults are generated from STRATA_SDK_STORAGE_METHODS,
  // where each is documented, after the 1.0 methods above (appended, so
  // plugins built against an older minor keep their vtable layout; the host
  // never calls a method on a plugin whose SDK did not have it).
  // SDK ABI 1.1, cipher key rotation: messages_not_under_key,
  // count_messages_not_under_key, replace_message_content (compare-and-set).
  // SDK ABI 1.2: backup, restore, has_data.
  // SDK ABI 1.3: replace_active_key. 1.4: all_keys, replace_key_wrapping.
  // SDK ABI 1.5, the transactional audit outbox: insert_with_outbox,
  // drain_outbox, outbox_size. 1.6: count_expired, gauges.
  // SDK ABI 1.7, moving from the seed: plan_migration, record_login_rehashed,
  // messages_under_key, count_messages_by_key, replace_message_contents.
  // SDK ABI 1.8: check_restore(dir), restore's preflight (without it, the
  // host only asks has_data() whether the instance answers); outbox_oldest();
  // hold_restore_lock(hold), a restore's lock on the database itself;
  // insert_sends, messages stored only if their users exist and are active.
  // SDK ABI 1.9: revoke_sessions, sessions_revoked_before, durable session
  // revocations; set_outbox_sink, the audit sink the outbox's events are for.
  // SDK ABI 1.10, the per-recipient sequence: inbox_since, inbox_heads.
  STRATA_SDK_STORAGE_METHODS(STRATA_SDK_OPTIONAL_DEFAULT)
};

}  // namespace strata::sdk
