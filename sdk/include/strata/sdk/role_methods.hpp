#pragma once
// The one list of every role method: X-macro tables from which the SDK and
// the host expand, per method, the plugin-side guard (guarded.hpp), the
// `unsupported` defaults of optional methods (the role headers), the host's
// instrumentation and its ABI gate (core/host/src/instrumented.hpp), and the test
// that every call reaches the plugin (tests/host/method_reach_test.cpp).
//
// Adding a method: append a row to its role's table (the vtable order is the
// table order, so rows are only ever appended), document it in the role
// header, implement it in the plugins that support it. Nothing else.
//
// A row is X(KIND, RETURN, NAME, PARAMETERS, ARGUMENTS), with types written
// `sdk::…` (valid inside namespace strata and strata::sdk). KIND says since
// which SDK ABI the method exists and whether a plugin must implement it:
//   REQUIRED        ABI 1.0, pure virtual: every plugin implements it
//   OPTIONAL_1_0    ABI 1.0, optional: the default answers `unsupported`
//   OPTIONAL_1_1    added in ABI 1.1, optional; never called on a 1.0 plugin
//   OPTIONAL_1_2    added in ABI 1.2, optional; never called on a 1.0 or 1.1 plugin
//   OPTIONAL_1_3    added in ABI 1.3, optional; never called on an older plugin
//   OPTIONAL_1_4    added in ABI 1.4, optional; never called on an older plugin
//   OPTIONAL_1_5    added in ABI 1.5, optional; never called on an older plugin
//   OPTIONAL_1_6    added in ABI 1.6, optional; never called on an older plugin
//   OPTIONAL_1_7    added in ABI 1.7, optional; never called on an older plugin
//   OPTIONAL_1_8    added in ABI 1.8, optional; never called on an older plugin
//   OPTIONAL_1_9    added in ABI 1.9, optional; never called on an older plugin
//   OPTIONAL_1_10   added in ABI 1.10, optional; never called on an older plugin
//   OPTIONAL_1_11   added in ABI 1.11, optional; never called on an older plugin
//   OPTIONAL_1_12   added in ABI 1.12, optional; never called on an older plugin

/// The SDK ABI minor version a KIND appeared in.
#define STRATA_SDK_SINCE_REQUIRED 0
#define STRATA_SDK_SINCE_OPTIONAL_1_0 0
#define STRATA_SDK_SINCE_OPTIONAL_1_1 1
#define STRATA_SDK_SINCE_OPTIONAL_1_2 2
#define STRATA_SDK_SINCE_OPTIONAL_1_3 3
#define STRATA_SDK_SINCE_OPTIONAL_1_4 4
#define STRATA_SDK_SINCE_OPTIONAL_1_5 5
#define STRATA_SDK_SINCE_OPTIONAL_1_6 6
#define STRATA_SDK_SINCE_OPTIONAL_1_7 7
#define STRATA_SDK_SINCE_OPTIONAL_1_8 8
#define STRATA_SDK_SINCE_OPTIONAL_1_9 9
#define STRATA_SDK_SINCE_OPTIONAL_1_10 10
#define STRATA_SDK_SINCE_OPTIONAL_1_11 11
#define STRATA_SDK_SINCE_OPTIONAL_1_12 12
#define STRATA_SDK_SINCE(KIND) STRATA_SDK_SINCE_##KIND

// Backup and restore (ABI 1.2): the same three optional methods on storage, cache and audit.
#define STRATA_SDK_BACKUP_METHODS(X)                                                                  \
  /* Writes this instance's data into `dir` (empty, created by the host). */                          \
  X(OPTIONAL_1_2, sdk::Result<sdk::BackupReport>, backup, (const std::filesystem::path& dir), (dir))  \
  /* Replaces this instance's data with what backup() wrote into `dir`. */                            \
  X(OPTIONAL_1_2, sdk::Result<sdk::BackupReport>, restore, (const std::filesystem::path& dir), (dir)) \
  /* Whether the instance holds any data (restore refuses a non-empty target unless forced). */       \
  X(OPTIONAL_1_2, sdk::Result<bool>, has_data, (), ())

// Restore's preflight (ABI 1.8), appended to the same three tables (rows are only ever appended).
#define STRATA_SDK_RESTORE_CHECK_METHOD(X)                                                                  \
  /* Whether restore(dir) can replace this instance's data with what backup() wrote into `dir`, changing     \
     nothing: the files parse, the backend answers, the config allows replacing the data. A restore asks     \
     every instance before it writes any. */                                                                 \
  X(OPTIONAL_1_8, sdk::Result<void>, check_restore, (const std::filesystem::path& dir), (dir))

// The database behind an instance (ABI 1.12), appended to the storage, cache and audit tables.
#define STRATA_SDK_DATABASE_INFO_METHOD(X)                                                                  \
  /* The database this instance talks to, for the host's OpenTelemetry-style call metrics                   \
     (db.system.name, db.namespace, server.address, server.port); asked once, when the host opens it.      \
     Never a credential. `unsupported` (the default): its calls are counted under Strata's names only. */    \
  X(OPTIONAL_1_12, sdk::Result<sdk::DatabaseInfo>, database_info, (), ())

#define STRATA_SDK_STORAGE_METHODS(X)                                                                          \
  X(REQUIRED, sdk::Result<void>, health, (), ())                                                               \
  X(REQUIRED, sdk::Result<sdk::SchemaStatus>, schema_status, (), ())                                           \
  X(REQUIRED, sdk::Result<sdk::SchemaStatus>, migrate, (int target), (target))                                 \
  X(REQUIRED, sdk::Result<void>, create_user, (const sdk::User& user), (user))                                 \
  X(REQUIRED, sdk::Result<sdk::User>, get_user, (const sdk::Uuid& id), (id))                                   \
  X(REQUIRED, sdk::Result<sdk::User>, find_user_by_username, (std::string_view username), (username))          \
  X(REQUIRED, sdk::Result<sdk::User>, find_user_by_email, (std::string_view email), (email))                   \
  X(REQUIRED, sdk::Result<void>, update_user, (const sdk::User& user), (user))                                 \
  X(REQUIRED, sdk::Result<void>, record_login, (const sdk::Uuid& id, sdk::Timestamp at), (id, at))             \
  X(REQUIRED, sdk::Result<void>, set_user_active, (const sdk::Uuid& id, bool active), (id, active))            \
  X(REQUIRED, sdk::Result<void>, delete_user, (const sdk::Uuid& id), (id))                                     \
  X(REQUIRED, sdk::Result<void>, insert_message, (const sdk::Message& message), (message))                     \
  X(REQUIRED, sdk::Result<void>, insert_messages, (std::span<const sdk::Message> messages), (messages))        \
  X(REQUIRED, sdk::Result<sdk::Message>, get_message, (const sdk::Uuid& id), (id))                             \
  X(REQUIRED, sdk::Result<sdk::Page<sdk::Message>>, inbox, (const sdk::Uuid& recipient,                        \
                                                           const sdk::PageRequest& page), (recipient, page))   \
  X(REQUIRED, sdk::Result<sdk::Page<sdk::Message>>, conversation,                                              \
    (const sdk::Uuid& a, const sdk::Uuid& b, const sdk::PageRequest& page), (a, b, page))                      \
  X(REQUIRED, sdk::Result<void>, mark_read, (const sdk::Uuid& id, sdk::Timestamp at), (id, at))                \
  X(REQUIRED, sdk::Result<void>, soft_delete_message, (const sdk::Uuid& id), (id))                             \
  X(REQUIRED, sdk::Result<std::uint64_t>, purge_expired, (sdk::Timestamp now), (now))                          \
  X(REQUIRED, sdk::Result<void>, insert_key, (const sdk::KeyRecord& key), (key))                               \
  X(REQUIRED, sdk::Result<sdk::KeyRecord>, get_key, (const sdk::Uuid& id), (id))                               \
  X(REQUIRED, sdk::Result<std::vector<sdk::KeyRecord>>, keys_for_user, (const sdk::Uuid& user_id), (user_id))  \
  X(REQUIRED, sdk::Result<void>, deactivate_key, (const sdk::Uuid& id), (id))                                  \
  /* Messages (deleted or not, expired or not) whose key_id differs from `key_id`, newest first by keyset:     \
     what a cipher key rotation re-seals. */                                                                   \
  X(OPTIONAL_1_1, sdk::Result<sdk::Page<sdk::Message>>, messages_not_under_key,                                \
    (std::string_view key_id, const sdk::PageRequest& page), (key_id, page))                                   \
  /* How many messages messages_not_under_key would list in all. */                                           \
  X(OPTIONAL_1_1, sdk::Result<std::uint64_t>, count_messages_not_under_key, (std::string_view key_id),        \
    (key_id))                                                                                                  \
  /* Replaces a message's encrypted_content, iv and key_id, only if its key_id is still `expected_key_id`      \
     (compare-and-set: two rewrappers never both win). True when replaced, false when the key id had           \
     changed; `not_found` for an unknown id. */                                                                \
  X(OPTIONAL_1_1, sdk::Result<bool>, replace_message_content,                                                  \
    (const sdk::Uuid& id, std::string_view expected_key_id, const sdk::Bytes& encrypted_content,               \
     const sdk::Bytes& iv, std::string_view key_id),                                                           \
    (id, expected_key_id, encrypted_content, iv, key_id))                                                      \
  STRATA_SDK_BACKUP_METHODS(X)                                                                                 \
  /* Inserts `key` as its user's one active key and deactivates every other key of that user, atomically     \
     (one transaction, serialized per user): concurrent rotations leave exactly one active key.               \
     `invalid_argument` if the user does not exist, `already_exists` if the key id does. */                   \
  X(OPTIONAL_1_3, sdk::Result<void>, replace_active_key, (const sdk::KeyRecord& key), (key))                   \
  /* Every key record of every user (active or not), newest first by keyset (created_at, id): what a cipher  \
     key rotation re-wraps. */                                                                                 \
  X(OPTIONAL_1_4, sdk::Result<sdk::Page<sdk::KeyRecord>>, all_keys, (const sdk::PageRequest& page), (page))    \
  /* Replaces a key's private_key_encrypted, only if it is still `expected` (compare-and-set: two rewrappers   \
     never both win). True when replaced, false when it had changed; `not_found` for an unknown id. */        \
  X(OPTIONAL_1_4, sdk::Result<bool>, replace_key_wrapping,                                                     \
    (const sdk::Uuid& id, const sdk::Bytes& expected, const sdk::Bytes& replacement),                         \
    (id, expected, replacement))                                                                               \
  /* The transactional audit outbox (group commit, audit durable before an operation returns). Inserts        \
     `messages` (as insert_messages) and appends `events` to the outbox, in one transaction: both or neither. \
     Either span may be empty. */                                                                              \
  X(OPTIONAL_1_5, sdk::Result<void>, insert_with_outbox,                                                       \
    (std::span<const sdk::Message> messages, std::span<const sdk::AuditEvent> events), (messages, events))     \
  /* Hands up to `limit` outbox events, oldest first, to `deliver`; if it succeeds they leave the outbox in   \
     the same transaction, otherwise they stay. Events another process is delivering at that moment are       \
     skipped, so two relays never hand over the same event at once. The number delivered. */                 \
  X(OPTIONAL_1_5, sdk::Result<std::size_t>, drain_outbox, (std::size_t limit, const sdk::OutboxDelivery& deliver), \
    (limit, deliver))                                                                                          \
  /* How many events wait in the outbox. */                                                                    \
  X(OPTIONAL_1_5, sdk::Result<std::uint64_t>, outbox_size, (), ())                                          \
  /* How many messages purge_expired(now) would delete, deleting nothing (`strata cleanup --dry-run`). */      \
  X(OPTIONAL_1_6, sdk::Result<std::uint64_t>, count_expired, (sdk::Timestamp now), (now))                    \
  /* Current values the plugin measures, as metric records (e.g. read replicas' lag): shown by `strata check`  \
     and with this process's metrics. Empty when there is nothing to report. */                               \
  X(OPTIONAL_1_6, sdk::Result<std::vector<sdk::Metric>>, gauges, (), ())                                     \
  /* What migrate(target) would do, changing nothing: each step (applied, or adopted as a baseline because    \
     another tool made the same objects) and, when it would refuse, every difference it found. */             \
  X(OPTIONAL_1_7, sdk::Result<sdk::MigrationPlan>, plan_migration, (int target), (target))                     \
  /* Sets last_login and replaces password_hash (and updated_at) in one transaction, only if the stored hash  \
     is still `expected_hash` (a password changed meanwhile is not overwritten; last_login is set anyway).    \
     True when the hash was replaced; `not_found` for an unknown id. */                                       \
  X(OPTIONAL_1_7, sdk::Result<bool>, record_login_rehashed,                                                    \
    (const sdk::Uuid& id, sdk::Timestamp at, std::string_view expected_hash, std::string_view new_hash),       \
    (id, at, expected_hash, new_hash))                                                                         \
  /* Messages (deleted or not, expired or not) whose key_id is `key_id`, newest first by keyset: with ''       \
     the rows the seed's services wrote, which `adopt messages` converts. */                                   \
  X(OPTIONAL_1_7, sdk::Result<sdk::Page<sdk::Message>>, messages_under_key,                                    \
    (std::string_view key_id, const sdk::PageRequest& page), (key_id, page))                                   \
  /* How many messages each key_id seals ('' included), in key_id order. */                                    \
  X(OPTIONAL_1_7, sdk::Result<std::vector<sdk::KeyCount>>, count_messages_by_key, (), ())                      \
  /* replace_message_content for a batch, in one transaction: row i is replaced only if its key_id is still   \
     rows[i].expected_key_id. `events` is empty, or holds one audit event per row, each appended to the       \
     outbox in the same transaction only if its row was replaced. Per row: true when replaced, false when     \
     its key id had changed or the row is gone. */                                                             \
  X(OPTIONAL_1_7, sdk::Result<std::vector<bool>>, replace_message_contents,                                    \
    (std::span<const sdk::ContentReplacement> rows, std::span<const sdk::AuditEvent> events), (rows, events)) \
  STRATA_SDK_RESTORE_CHECK_METHOD(X)                                                                           \
  /* When the oldest event waiting in the outbox occurred; nullopt when none waits (`strata check` reports     \
     the backlog's age). */                                                                                    \
  X(OPTIONAL_1_8, sdk::Result<std::optional<sdk::Timestamp>>, outbox_oldest, (), ())                     \
  /* hold = true takes a lock on the backend itself, held until hold = false (or the instance goes), that   \
     no other process can take at the same time: restores into one database from two hosts exclude each     \
     other, where a lock in either host's data directory cannot see the other. Never waits: `conflict`     \
     when another holder has it. */                                                                         \
  X(OPTIONAL_1_8, sdk::Result<void>, hold_restore_lock, (bool hold), (hold))                                 \
  /* insert_with_outbox (`events` may be empty), only if every message's sender and recipient exists and is  \
     active, checked inside the same transaction with those users' rows locked against change until it      \
     commits: a deactivation or deletion either comes first and refuses the send, or waits for it. Otherwise  \
     `invalid_argument` naming the first user that does not qualify ("no user with id …", "user … is          \
     deactivated") and nothing is stored. What lets a send skip looking its users up before its commit. */   \
  X(OPTIONAL_1_8, sdk::Result<void>, insert_sends,                                                            \
    (std::span<const sdk::Message> messages, std::span<const sdk::AuditEvent> events), (messages, events))    \
  /* Records durably that sessions of `subject` created at or before `before` are revoked (the services'     \
     subjects: "all", "user:<uuid>", "token:<sha256>"). A subject revoked again keeps the later `before` and  \
     `keep_until`; records whose keep_until has passed (`before` as the clock) may be deleted meanwhile. */  \
  X(OPTIONAL_1_9, sdk::Result<void>, revoke_sessions,                                                         \
    (std::string_view subject, sdk::Timestamp before, sdk::Timestamp keep_until), (subject, before, keep_until)) \
  /* The latest `before` recorded for any of `subjects`; nullopt when none has a record. What a session       \
     lookup asks, so that a revocation outlives a session cache restarted from an older snapshot. */         \
  X(OPTIONAL_1_9, sdk::Result<std::optional<sdk::Timestamp>>, sessions_revoked_before,                        \
    (std::span<const std::string> subjects), (subjects))                                                       \
  /* The audit sink this instance's outbox belongs to (Audit::sink_identity): events written to the outbox   \
     from now on carry it, and drain_outbox, outbox_size and outbox_oldest consider only events that carry    \
     it (and those written before any sink was set, by an older host). Another process on the same storage   \
     with another sink then never relays this one's events into its own. */                                  \
  X(OPTIONAL_1_9, sdk::Result<void>, set_outbox_sink, (std::string_view identity), (identity))              \
  /* The recipient's messages after sequence number `after`, ascending, at most `limit` (1..max_page_limit):  \
     every row, deleted and expired ones included, so that a missing number always means a row that is gone. \
     With the sequence's epoch and the recipient's head (InboxStream). */                                     \
  X(OPTIONAL_1_10, sdk::Result<sdk::InboxStream>, inbox_since,                                               \
    (const sdk::Uuid& recipient, std::uint64_t after, std::size_t limit), (recipient, after, limit))          \
  /* The epoch and each recipient's head (0 for none yet), in the order asked: what a subscriber's poll asks  \
     for all its recipients in one call. */                                                                   \
  X(OPTIONAL_1_10, sdk::Result<sdk::InboxHeads>, inbox_heads, (std::span<const sdk::Uuid> recipients),        \
    (recipients))                                                                                              \
  /* Stores a data key. With destroyed_at unset: `key_destroyed` if that id was ever destroyed (a destroyed    \
     key is never stored again, by a restore neither), `already_exists` if it is stored. With destroyed_at    \
     set (a tombstone, as a key backup carries them): destroys that id, stored or not (already destroyed:     \
     nothing changes). Kept out of the plugin's own backups and left alone by its restore: the services       \
     back the keys up apart, with a shorter retention (core/README.md, "Erasure"). */                         \
  X(OPTIONAL_1_11, sdk::Result<void>, insert_data_key, (const sdk::DataKey& key), (key))                       \
  /* One data key by id, a tombstone included (destroyed_at set, wrapped empty); `not_found` if never stored. */ \
  X(OPTIONAL_1_11, sdk::Result<sdk::DataKey>, get_data_key, (const sdk::Uuid& id), (id))                       \
  /* The user's data keys not destroyed, newest first. */                                                      \
  X(OPTIONAL_1_11, sdk::Result<std::vector<sdk::DataKey>>, data_keys_for_user, (const sdk::Uuid& user_id),    \
    (user_id))                                                                                                 \
  /* Destroys every data key of the user in one transaction: each row keeps its id, user and created_at, its   \
     wrapped key is cleared and destroyed_at set to `at`. Costs the same whatever the user stored. The ids     \
     destroyed now (none when there were none, or all were already). */                                       \
  X(OPTIONAL_1_11, sdk::Result<std::vector<sdk::Uuid>>, destroy_data_keys,                                    \
    (const sdk::Uuid& user_id, sdk::Timestamp at), (user_id, at))                                              \
  /* Every data key record, tombstones included, newest first by keyset (created_at, id): what a key backup   \
     and a cipher key rotation read. */                                                                        \
  X(OPTIONAL_1_11, sdk::Result<sdk::Page<sdk::DataKey>>, all_data_keys, (const sdk::PageRequest& page), (page)) \
  /* Replaces a live data key's wrapping, only if it is still `expected` (compare-and-set). True when          \
     replaced; false when it had changed or was destroyed; `not_found` for an unknown id. */                   \
  X(OPTIONAL_1_11, sdk::Result<bool>, replace_data_key_wrapping,                                               \
    (const sdk::Uuid& id, const sdk::Bytes& expected, const sdk::Bytes& replacement), (id, expected, replacement)) \
  STRATA_SDK_DATABASE_INFO_METHOD(X)

#define STRATA_SDK_CACHE_METHODS(X)                                                                            \
  X(REQUIRED, sdk::Result<void>, health, (), ())                                                               \
  X(REQUIRED, sdk::Result<std::optional<sdk::Bytes>>, get, (std::string_view key), (key))                      \
  X(REQUIRED, sdk::Result<void>, set, (std::string_view key, sdk::BytesView value, std::optional<sdk::Ttl> ttl), \
    (key, value, ttl))                                                                                         \
  X(REQUIRED, sdk::Result<bool>, set_if_absent,                                                                \
    (std::string_view key, sdk::BytesView value, std::optional<sdk::Ttl> ttl), (key, value, ttl))              \
  X(REQUIRED, sdk::Result<bool>, remove, (std::string_view key), (key))                                        \
  X(REQUIRED, sdk::Result<bool>, exists, (std::string_view key), (key))                                        \
  X(REQUIRED, sdk::Result<bool>, expire, (std::string_view key, sdk::Ttl ttl), (key, ttl))                     \
  X(REQUIRED, sdk::Result<sdk::KeyTtl>, ttl, (std::string_view key), (key))                                    \
  X(REQUIRED, sdk::Result<std::vector<std::optional<sdk::Bytes>>>, get_many, (std::span<const std::string> keys), \
    (keys))                                                                                                    \
  X(REQUIRED, sdk::Result<void>, set_many,                                                                     \
    (std::span<const std::pair<std::string, sdk::Bytes>> entries, std::optional<sdk::Ttl> ttl), (entries, ttl)) \
  X(REQUIRED, sdk::Result<std::int64_t>, increment,                                                            \
    (std::string_view key, std::int64_t delta, std::optional<sdk::Ttl> ttl), (key, delta, ttl))                \
  X(REQUIRED, sdk::Result<std::uint64_t>, clear, (), ())                                                       \
  STRATA_SDK_BACKUP_METHODS(X)                                                                                 \
  /* As Storage::gauges: current values the plugin measures (e.g. the Redis topology it sees). */             \
  X(OPTIONAL_1_6, sdk::Result<std::vector<sdk::Metric>>, gauges, (), ())                                     \
  STRATA_SDK_RESTORE_CHECK_METHOD(X)                                                                         \
  /* Sends `message` to whoever listens on `channel` now, in any process using the same server (Redis        \
     PUBLISH): fire and forget, no delivery guarantee (what the services' inbox hints need). */               \
  X(OPTIONAL_1_10, sdk::Result<void>, publish, (std::string_view channel, sdk::BytesView message),            \
    (channel, message))                                                                                        \
  /* From now on calls `listener` with each message published on `channel`, on a thread of the plugin's,     \
     until listen(channel, {}) or the instance goes; after a lost connection it reconnects by itself, and     \
     what was published meanwhile is lost. An empty listener for a channel not listened to is a no-op. */     \
  X(OPTIONAL_1_10, sdk::Result<void>, listen, (std::string_view channel, sdk::ChannelListener listener),      \
    (channel, listener))                                                                                       \
  STRATA_SDK_DATABASE_INFO_METHOD(X)

#define STRATA_SDK_AUDIT_METHODS(X)                                                                            \
  X(REQUIRED, sdk::Result<void>, health, (), ())                                                               \
  X(REQUIRED, sdk::Result<void>, append, (std::span<const sdk::AuditEvent> events), (events))                  \
  X(REQUIRED, sdk::Result<void>, append_metrics, (std::span<const sdk::Metric> metrics), (metrics))            \
  X(REQUIRED, sdk::Result<std::vector<sdk::AuditEvent>>, query, (const sdk::AuditQuery& query), (query))       \
  X(REQUIRED, sdk::Result<std::uint64_t>, count, (const sdk::AuditQuery& query), (query))                      \
  X(REQUIRED, sdk::Result<std::vector<sdk::Metric>>, query_metrics, (const sdk::MetricQuery& query), (query))  \
  STRATA_SDK_BACKUP_METHODS(X)                                                                                 \
  STRATA_SDK_RESTORE_CHECK_METHOD(X)                                                                           \
  /* Where this sink's events end up, the same text in every process that writes there and in no process     \
     that writes elsewhere, whatever else its config says (e.g. "file:/var/lib/strata/audit.jsonl"; never a   \
     credential). Events in the storage's audit outbox are relayed only into the sink they were written for. */ \
  X(OPTIONAL_1_9, sdk::Result<std::string>, sink_identity, (), ())                                             \
  STRATA_SDK_DATABASE_INFO_METHOD(X)

#define STRATA_SDK_CIPHER_METHODS(X)                                                                           \
  X(REQUIRED, sdk::Result<void>, health, (), ())                                                               \
  X(REQUIRED, sdk::Result<std::string>, primary_key_id, (), ())                                                \
  X(REQUIRED, sdk::Result<std::vector<std::string>>, key_ids, (), ())                                          \
  X(REQUIRED, sdk::Result<sdk::Sealed>, seal, (sdk::BytesView plaintext, sdk::BytesView associated_data),      \
    (plaintext, associated_data))                                                                              \
  X(REQUIRED, sdk::Result<sdk::Bytes>, open, (const sdk::Sealed& sealed, sdk::BytesView associated_data),      \
    (sealed, associated_data))                                                                                 \
  X(REQUIRED, sdk::Result<sdk::Sealed>, wrap, (sdk::BytesView key_material), (key_material))                   \
  X(REQUIRED, sdk::Result<sdk::Bytes>, unwrap, (const sdk::Sealed& wrapped), (wrapped))                        \
  /* Seals with a caller-chosen nonce, for known-answer tests only: reusing a nonce under one key destroys     \
     confidentiality. */                                                                                       \
  X(OPTIONAL_1_0, sdk::Result<sdk::Sealed>, seal_with_iv,                                                      \
    (std::string_view key_id, sdk::BytesView iv, sdk::BytesView plaintext, sdk::BytesView associated_data),    \
    (key_id, iv, plaintext, associated_data))                                                                 \
  /* Decrypts a legacy AES-GCM ciphertext stored without its tag and sealed without associated data (the    \
     seed's DatabaseEncryption.encrypt): GCM's counter mode alone, so nothing is authenticated. For           \
     `strata adopt messages` only, which re-seals the result at once. */                                       \
  X(OPTIONAL_1_7, sdk::Result<sdk::Bytes>, open_untagged,                                                      \
    (std::string_view key_id, sdk::BytesView iv, sdk::BytesView ciphertext), (key_id, iv, ciphertext))

// ---- expansions used by the role headers ------------------------------------

// The `unsupported` default of an optional method; nothing for a required one
// (the role header declares those, documented, as pure virtuals). Parameters
// are named in the table, and unused here.
#define STRATA_SDK_DEFAULT_REQUIRED(RET, NAME, PARAMS, ARGS)
#define STRATA_SDK_DEFAULT_OPTIONAL_(RET, NAME, PARAMS, ARGS)                                                \
  _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wunused-parameter\"") virtual RET NAME \
      PARAMS {                                                                                              \
    return ::strata::sdk::fail(::strata::sdk::ErrorCode::unsupported,                                      \
                               "this plugin does not implement " #NAME " (optional)");                     \
  }                                                                                                         \
  _Pragma("GCC diagnostic pop")
#define STRATA_SDK_DEFAULT_OPTIONAL_1_0(RET, NAME, PARAMS, ARGS) STRATA_SDK_DEFAULT_OPTIONAL_(RET, NAME, PARAMS, ARGS)
#define STRATA_SDK_DEFAULT_OPTIONAL_1_1(RET, NAME, PARAMS, ARGS) STRATA_SDK_DEFAULT_OPTIONAL_(RET, NAME, PARAMS, ARGS)
#define STRATA_SDK_DEFAULT_OPTIONAL_1_2(RET, NAME, PARAMS, ARGS) STRATA_SDK_DEFAULT_OPTIONAL_(RET, NAME, PARAMS, ARGS)
#define STRATA_SDK_DEFAULT_OPTIONAL_1_3(RET, NAME, PARAMS, ARGS) STRATA_SDK_DEFAULT_OPTIONAL_(RET, NAME, PARAMS, ARGS)
#define STRATA_SDK_DEFAULT_OPTIONAL_1_4(RET, NAME, PARAMS, ARGS) STRATA_SDK_DEFAULT_OPTIONAL_(RET, NAME, PARAMS, ARGS)
#define STRATA_SDK_DEFAULT_OPTIONAL_1_5(RET, NAME, PARAMS, ARGS) STRATA_SDK_DEFAULT_OPTIONAL_(RET, NAME, PARAMS, ARGS)
#define STRATA_SDK_DEFAULT_OPTIONAL_1_6(RET, NAME, PARAMS, ARGS) STRATA_SDK_DEFAULT_OPTIONAL_(RET, NAME, PARAMS, ARGS)
#define STRATA_SDK_DEFAULT_OPTIONAL_1_7(RET, NAME, PARAMS, ARGS) STRATA_SDK_DEFAULT_OPTIONAL_(RET, NAME, PARAMS, ARGS)
#define STRATA_SDK_DEFAULT_OPTIONAL_1_8(RET, NAME, PARAMS, ARGS) STRATA_SDK_DEFAULT_OPTIONAL_(RET, NAME, PARAMS, ARGS)
#define STRATA_SDK_DEFAULT_OPTIONAL_1_9(RET, NAME, PARAMS, ARGS) STRATA_SDK_DEFAULT_OPTIONAL_(RET, NAME, PARAMS, ARGS)
#define STRATA_SDK_DEFAULT_OPTIONAL_1_10(RET, NAME, PARAMS, ARGS) STRATA_SDK_DEFAULT_OPTIONAL_(RET, NAME, PARAMS, ARGS)
#define STRATA_SDK_DEFAULT_OPTIONAL_1_11(RET, NAME, PARAMS, ARGS) STRATA_SDK_DEFAULT_OPTIONAL_(RET, NAME, PARAMS, ARGS)
#define STRATA_SDK_DEFAULT_OPTIONAL_1_12(RET, NAME, PARAMS, ARGS) STRATA_SDK_DEFAULT_OPTIONAL_(RET, NAME, PARAMS, ARGS)
/// Expands a table row to the optional method's default (used inside the role interfaces).
#define STRATA_SDK_OPTIONAL_DEFAULT(KIND, RET, NAME, PARAMS, ARGS) STRATA_SDK_DEFAULT_##KIND(RET, NAME, PARAMS, ARGS)
