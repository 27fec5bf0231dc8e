#include "postgres_storage.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "postgres_backup.hpp"

#include "postgres_copy.hpp"
#include "postgres_migrator.hpp"
#include "postgres_rows.hpp"

namespace strata::postgres {
namespace {

using sdk::ErrorCode;
using sdk::fail;
using Params = std::vector<Param>;
static_assert(sdk::max_read_ciphertext_bytes == 1052672,
              "MAX_READ_CIPHERTEXT (postgres_rows.hpp) must say the same");

// The seed's columns first, then Strata's additions (messages.key_id, read_at).
#define USER_COLUMNS "id, username, email, password_hash, created_at, updated_at, last_login, is_active"
#define MESSAGE_COLUMNS \
  "id, sender_id, recipient_id, encrypted_content, iv, created_at, expires_at, is_read, is_deleted, key_id, read_at"
#define KEY_COLUMNS "id, user_id, public_key, private_key_encrypted, created_at, expires_at, is_active"
// Pages: live rows strictly older than the cursor (created_at, id), newest first, one extra row
// to learn whether a next page exists. The first page passes ('infinity', max uuid).
#define PAGE_TAIL                                                                                        \
  " AND is_deleted = false AND (expires_at IS NULL OR expires_at > $3)"                                  \
  " AND (created_at, id) < ($4::timestamptz, $5::uuid) ORDER BY created_at DESC, id DESC LIMIT $6"

const Statement insert_user{"strata_insert_user", "INSERT INTO users (" USER_COLUMNS
                                                  ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"};
const Statement user_by_id{"strata_user_by_id", "SELECT " USER_COLUMNS " FROM users WHERE id = $1"};
const Statement user_by_name{"strata_user_by_name", "SELECT " USER_COLUMNS " FROM users WHERE username = $1"};
const Statement user_by_email{"strata_user_by_email", "SELECT " USER_COLUMNS " FROM users WHERE email = $1"};
const Statement update_user_sql{"strata_update_user",
                                "UPDATE users SET username = $2, email = $3, password_hash = $4,"
                                " is_active = $5, updated_at = $6 WHERE id = $1"};
const Statement record_login_sql{"strata_record_login", "UPDATE users SET last_login = $2 WHERE id = $1"};
const Statement set_active_sql{"strata_set_active", "UPDATE users SET is_active = $2 WHERE id = $1"};
const Statement delete_user_messages{"strata_delete_user_messages",
                                     "DELETE FROM messages WHERE sender_id = $1 OR recipient_id = $1"};
const Statement delete_user_keys{"strata_delete_user_keys", "DELETE FROM encryption_keys WHERE user_id = $1"};
const Statement delete_user_sql{"strata_delete_user", "DELETE FROM users WHERE id = $1"};
const Statement insert_message_sql{"strata_insert_message",
                                   "INSERT INTO messages (" MESSAGE_COLUMNS
                                   ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"};
const Statement message_by_id{"strata_message_by_id", "SELECT " MESSAGE_READ_COLUMNS " FROM messages WHERE id = $1"};
// The inbox has one owner: its $2 is always NULL, so both page queries share PAGE_TAIL's numbering.
const Statement inbox_sql{"strata_inbox", "SELECT " MESSAGE_READ_COLUMNS
                                          " FROM messages WHERE recipient_id = $1 AND $2::uuid IS NULL" PAGE_TAIL};
const Statement conversation_sql{"strata_conversation",
                                 "SELECT " MESSAGE_READ_COLUMNS
                                 " FROM messages WHERE LEAST(sender_id, recipient_id) = $1"
                                 " AND GREATEST(sender_id, recipient_id) = $2" PAGE_TAIL};
// Rotation walks every row, deleted or expired included. It shares page()'s
// parameters; $2 (always NULL) and $3 (now) are only typed so PostgreSQL can prepare it.
const Statement not_under_key_sql{"strata_not_under_key",
                                  "SELECT " MESSAGE_READ_COLUMNS " FROM messages WHERE key_id IS DISTINCT FROM $1"
                                  " AND $2::uuid IS NULL AND $3::timestamptz IS NOT NULL"
                                  " AND (created_at, id) < ($4::timestamptz, $5::uuid)"
                                  " ORDER BY created_at DESC, id DESC LIMIT $6"};
const Statement count_not_under_key_sql{"strata_count_not_under_key",
                                        "SELECT count(*) FROM messages WHERE key_id IS DISTINCT FROM $1"};
// The seed's rows (key_id ''), as not_under_key_sql walks the others.
const Statement under_key_sql{"strata_under_key",
                              "SELECT " MESSAGE_READ_COLUMNS " FROM messages WHERE key_id = $1"
                              " AND $2::uuid IS NULL AND $3::timestamptz IS NOT NULL"
                              " AND (created_at, id) < ($4::timestamptz, $5::uuid)"
                              " ORDER BY created_at DESC, id DESC LIMIT $6"};
const Statement count_by_key_sql{"strata_count_by_key",
                                 "SELECT key_id, count(*) FROM messages GROUP BY key_id ORDER BY key_id"};
// last_login always; the hash (and updated_at) only if it is still the one verified.
const Statement login_rehashed_sql{"strata_login_rehashed",
                                   "UPDATE users SET last_login = $2,"
                                   " password_hash = CASE WHEN password_hash = $3::text THEN $4::text ELSE password_hash END,"
                                   " updated_at = CASE WHEN password_hash = $3::text THEN $2 ELSE updated_at END"
                                   " WHERE id = $1 RETURNING password_hash = $4::text"};
const Statement replace_content_sql{"strata_replace_content",
                                    "UPDATE messages SET encrypted_content = $3, iv = $4, key_id = $5"
                                    " WHERE id = $1 AND key_id IS NOT DISTINCT FROM $2"};
const Statement message_exists_sql{"strata_message_exists", "SELECT 1 FROM messages WHERE id = $1"};
const Statement mark_read_sql{"strata_mark_read", "UPDATE messages SET is_read = true, read_at = COALESCE(read_at, $2) WHERE id = $1"};
const Statement soft_delete_sql{"strata_soft_delete", "UPDATE messages SET is_deleted = true WHERE id = $1"};
const Statement insert_key_sql{"strata_insert_key", "INSERT INTO encryption_keys (" KEY_COLUMNS
                                                    ") VALUES ($1, $2, $3, $4, $5, $6, $7)"};
const Statement key_by_id{"strata_key_by_id", "SELECT " KEY_COLUMNS " FROM encryption_keys WHERE id = $1"};
const Statement keys_by_user{"strata_keys_by_user", "SELECT " KEY_COLUMNS
                                                    " FROM encryption_keys WHERE user_id = $1"
                                                    " ORDER BY created_at DESC, id DESC"};
// Rotation: the user's row is locked first, so two rotations of one user take turns.
const Statement lock_user_sql{"strata_lock_user", "SELECT 1 FROM users WHERE id = $1 FOR UPDATE"};
const Statement deactivate_user_keys_sql{"strata_deactivate_user_keys",
                                         "UPDATE encryption_keys SET is_active = false WHERE user_id = $1"
                                         " AND is_active IS DISTINCT FROM false"};
// Re-wrapping walks every key record by keyset, like not_under_key_sql.
const Statement all_keys_sql{"strata_all_keys", "SELECT " KEY_COLUMNS " FROM encryption_keys"
                                                " WHERE (created_at, id) < ($1::timestamptz, $2::uuid)"
                                                " ORDER BY created_at DESC, id DESC LIMIT $3"};
const Statement replace_wrapping_sql{"strata_replace_wrapping",
                                     "UPDATE encryption_keys SET private_key_encrypted = $3"
                                     " WHERE id = $1 AND private_key_encrypted = $2"};
const Statement key_exists_sql{"strata_key_exists", "SELECT 1 FROM encryption_keys WHERE id = $1"};
const Statement deactivate_key_sql{"strata_deactivate_key", "UPDATE encryption_keys SET is_active = false WHERE id = $1"};

// Row readers, in the order of the *_COLUMNS lists. A NULL where a value is
// needed is refused (postgres_rows.hpp).
sdk::User user_from(const Row& r) {
  return sdk::User{r.uuid(0), r.str(1), r.str(2), r.str(3), r.time(4), r.time(5), r.optional_time(6),
                   r.boolean(7)};
}


sdk::KeyRecord key_from(const Row& r) {
  return sdk::KeyRecord{r.uuid(0), r.uuid(1), r.bytes(2), r.bytes(3), r.time(4), r.optional_time(5),
                        r.boolean(6)};
}

// A unique violation names its constraint; say which value was taken.
sdk::Error explain_duplicate(sdk::Error e) {
  if (e.code != ErrorCode::already_exists) return e;
  if (e.message.find("users_username_key") != std::string::npos) e.message = "username is taken: " + e.message;
  else if (e.message.find("users_email_key") != std::string::npos) e.message = "email is taken: " + e.message;
  return e;
}

}  // namespace

bool by_recipient(const sdk::Message& a, const sdk::Message& b) { return a.recipient_id < b.recipient_id; }

sdk::Message message_from(const Row& r) {
  sdk::Message m;
  m.id = r.uuid(0);
  m.sender_id = r.uuid(1);
  m.recipient_id = r.uuid(2);
  m.encrypted_content = r.bytes(3);
  m.iv = r.bytes(4);
  m.created_at = r.time(5);
  m.expires_at = r.optional_time(6);
  m.is_read = r.boolean(7);
  m.is_deleted = r.boolean(8);
  m.key_id = r.str(9);
  m.read_at = r.optional_time(10);
  return m;
}

PostgresStorage::PostgresStorage(const sdk::PluginContext& context)
    : clock_(context.clock),
      log_(context.log),
      pool_(read_settings(context.config)),
      replicas_(pool_, pool_.settings().replicas, pool_.settings().replica_retry, log_) {}

sdk::ConfigSchema PostgresStorage::config_schema() { return settings_schema(); }

namespace {
// The seed's job, exactly: `SELECT cron.schedule('0 0 * * *', 'SELECT cleanup_old_messages()')`.
constexpr const char* cleanup_command = "SELECT cleanup_old_messages()";
// pg_advisory_xact_lock key for installing the job: processes starting at once take turns.
constexpr const char* cleanup_job_lock = "SELECT pg_advisory_xact_lock(7391149215237181442)";
}  // namespace

sdk::Result<void> PostgresStorage::ensure_cleanup_job(Connection& c) {
  const auto& schedule = *pool_.settings().cleanup_schedule;
  auto fix = "remove cleanup.schedule and run `strata cleanup` or the host's scheduler instead";
  // Exactly one job running the seed's command in this database, with this
  // schedule: created if missing, its schedule corrected if it differs. One
  // transaction under a lock, so processes starting together take turns.
  std::string job;
  bool no_cron = false;
  auto installed = in_transaction(c, [&]() -> sdk::Result<void> {
    if (auto locked = c.exec(cleanup_job_lock); !locked) return sdk::fail(locked.error());
    // pg_cron can only be created in the database named by cron.database_name.
    if (auto created = c.exec("CREATE EXTENSION IF NOT EXISTS pg_cron"); !created) {
      no_cron = true;
      return fail(ErrorCode::unsupported, "cleanup.schedule = \"" + schedule +
                                              "\" needs the pg_cron extension in this database, which the server "
                                              "cannot provide (" + created.error().message + "); " + fix);
    }
    auto found = c.exec("SELECT jobid::text, schedule FROM cron.job WHERE command = $1 AND database = current_database() "
                        "ORDER BY jobid",
                        {Param(cleanup_command)});
    if (!found) return sdk::fail(found.error());
    if (PQntuples(found->get()) == 0) {
      auto scheduled = c.exec("SELECT cron.schedule($1, $2)::text", {Param(schedule), Param(cleanup_command)});
      if (!scheduled) return sdk::fail(scheduled.error());
      job = PQgetvalue(scheduled->get(), 0, 0);
      return {};
    }
    job = PQgetvalue(found->get(), 0, 0);
    if (schedule != PQgetvalue(found->get(), 0, 1)) {
      auto altered = c.exec("SELECT cron.alter_job($1::bigint, schedule => $2)", {Param(job), Param(schedule)});
      if (!altered) return sdk::fail(altered.error());
    }
    return {};
  });
  if (!installed) {
    if (no_cron) return installed;
    auto e = installed.error();
    e.message = "installing the pg_cron job for cleanup.schedule: " + e.message;
    return sdk::fail(e);
  }
  // What `strata check` shows: the job, and how its last run went.
  auto last = c.exec("SELECT status || ' at ' || to_char(start_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
                     "FROM cron.job_run_details WHERE jobid = $1::bigint ORDER BY start_time DESC LIMIT 1",
                     {Param(job)});
  std::string last_run = last && PQntuples(last->get()) > 0 ? PQgetvalue(last->get(), 0, 0) : "not run yet";
  if (log_)
    log_(sdk::LogLevel::info, "pg_cron job " + job + ": '" + schedule + "' " + cleanup_command + " (last run: " +
                               last_run + ")");
  return {};
}

sdk::Result<void> PostgresStorage::health() {
  return pool_.run<void>(Repeatable::yes, [&](Connection& c) -> sdk::Result<void> {
    auto status = postgres::schema_status(c);
    if (!status) return sdk::fail(status.error());
    if (status->current != status->latest)
      return fail(ErrorCode::unavailable, "the schema is at version " + std::to_string(status->current) +
                                              ", this plugin needs " + std::to_string(status->latest) +
                                              ": run `strata migrate up`");
    // A store that cannot write is not healthy: a standby behind a wrong
    // URI, or default_transaction_read_only, refuses every send.
    auto writable = c.exec("SELECT pg_is_in_recovery()::text || ' ' || current_setting('transaction_read_only')");
    if (!writable) return sdk::fail(writable.error());
    if (std::string state = PQgetvalue(writable->get(), 0, 0); state != "false off")
      return fail(ErrorCode::conflict, "PostgreSQL at " + c.display() + " cannot write: " +
                                           (state.starts_with("true") ? "it is a standby (in recovery)"
                                                                      : "transactions are read-only "
                                                                        "(default_transaction_read_only)"));
    if (pool_.settings().cleanup_schedule) return ensure_cleanup_job(c);
    return {};
  });
}

sdk::Result<sdk::SchemaStatus> PostgresStorage::schema_status() {
  return pool_.run<sdk::SchemaStatus>(Repeatable::yes, [](Connection& c) { return postgres::schema_status(c); });
}

sdk::Result<sdk::SchemaStatus> PostgresStorage::migrate(int target) {
  return pool_.run<sdk::SchemaStatus>(Repeatable::no, [&](Connection& c) { return migrate_to(c, target); });
}

sdk::Result<sdk::MigrationPlan> PostgresStorage::plan_migration(int target) {
  return pool_.run<sdk::MigrationPlan>(Repeatable::yes, [&](Connection& c) { return postgres::plan_migration(c, target); });
}

// ---- users ---------------------------------------------------------------

sdk::Result<void> PostgresStorage::create_user(const sdk::User& u) {
  Params params{u.id.str(),         u.username,         u.email,              u.password_hash,
                text(u.created_at), text(u.updated_at), text(u.last_login), text(u.is_active)};
  return write<void>([&](Connection& c) -> sdk::Result<void> {
    auto r = c.run(insert_user, params);
    if (!r) return sdk::fail(explain_duplicate(r.error()));
    return {};
  });
}

sdk::Result<sdk::User> PostgresStorage::one_user(const Statement& statement, const std::string& value, std::string what) {
  return read<sdk::User>([&](Connection& c) -> sdk::Result<sdk::User> {
    auto r = c.run(statement, {value});
    if (!r) return sdk::fail(r.error());
    if (PQntuples(r->get()) == 0) return fail(ErrorCode::not_found, "no user with " + what);
    return user_from(Row(r->get(), 0));
  });
}

sdk::Result<sdk::User> PostgresStorage::get_user(const sdk::Uuid& id) {
  return one_user(user_by_id, id.str(), "id " + id.str());
}
sdk::Result<sdk::User> PostgresStorage::find_user_by_username(std::string_view username) {
  return one_user(user_by_name, std::string(username), "username '" + std::string(username) + "'");
}
sdk::Result<sdk::User> PostgresStorage::find_user_by_email(std::string_view email) {
  return one_user(user_by_email, std::string(email), "email '" + std::string(email) + "'");
}

sdk::Result<void> PostgresStorage::update_one(const Statement& statement, Params params, std::string_view what,
                                              const sdk::Uuid& id) {
  return write<void>([&](Connection& c) -> sdk::Result<void> {
    auto r = c.run(statement, params);
    if (!r) return sdk::fail(explain_duplicate(r.error()));
    if (affected(*r) == 0) return fail(ErrorCode::not_found, "no " + std::string(what) + " with id " + id.str());
    return {};
  });
}

sdk::Result<void> PostgresStorage::update_user(const sdk::User& u) {
  return update_one(update_user_sql,
                    {u.id.str(), u.username, u.email, u.password_hash, text(u.is_active), text(u.updated_at)},
                    "user", u.id);
}
sdk::Result<void> PostgresStorage::record_login(const sdk::Uuid& id, sdk::Timestamp at) {
  return update_one(record_login_sql, {id.str(), text(at)}, "user", id);
}
sdk::Result<bool> PostgresStorage::record_login_rehashed(const sdk::Uuid& id, sdk::Timestamp at,
                                                         std::string_view expected_hash, std::string_view new_hash) {
  Params params{id.str(), text(at), std::string(expected_hash), std::string(new_hash)};
  return write<bool>([&](Connection& c) -> sdk::Result<bool> {
    auto r = c.run(login_rehashed_sql, params);
    if (!r) return sdk::fail(r.error());
    if (PQntuples(r->get()) == 0) return fail(ErrorCode::not_found, "no user with id " + id.str());
    return Row(r->get(), 0).boolean(0);
  });
}
sdk::Result<void> PostgresStorage::set_user_active(const sdk::Uuid& id, bool active) {
  return update_one(set_active_sql, {id.str(), text(active)}, "user", id);
}

sdk::Result<void> PostgresStorage::delete_user(const sdk::Uuid& id) {
  // The seed's foreign keys do not cascade: remove what references the user first, atomically.
  return write<void>([&](Connection& c) -> sdk::Result<void> {
    return in_transaction(c, [&]() -> sdk::Result<void> {
      for (const auto* statement : {&delete_user_messages, &delete_user_keys})
        if (auto r = c.run(*statement, {id.str()}); !r) return sdk::fail(r.error());
      auto r = c.run(delete_user_sql, {id.str()});
      if (!r) return sdk::fail(r.error());
      if (affected(*r) == 0) return fail(ErrorCode::not_found, "no user with id " + id.str());
      return {};
    });
  });
}

// ---- messages ------------------------------------------------------------

sdk::Result<void> PostgresStorage::insert_message(const sdk::Message& message) {
  auto params = message_params(message);
  return write<void>([&](Connection& c) -> sdk::Result<void> {
    auto r = c.run(insert_message_sql, params);
    if (!r) return sdk::fail(r.error());
    return {};
  });
}

sdk::Result<void> PostgresStorage::insert_messages(std::span<const sdk::Message> messages) {
  if (messages.empty()) return {};
  // In recipient order, as every batch insert: the numbering trigger locks
  // each recipient's head row, and two batches locking in one order never
  // deadlock. Stable: a recipient's messages keep their order.
  std::vector<sdk::Message> sorted;
  if (!std::is_sorted(messages.begin(), messages.end(), by_recipient)) {
    sorted.assign(messages.begin(), messages.end());
    std::stable_sort(sorted.begin(), sorted.end(), by_recipient);
    messages = sorted;
  }
  auto data = encode_messages(messages);
  if (!data) return sdk::fail(data.error());
  return write<void>([&](Connection& c) -> sdk::Result<void> {
    return in_transaction(c, [&] { return c.copy_in(copy_messages_sql, *data); });
  });
}

sdk::Result<sdk::Message> PostgresStorage::get_message(const sdk::Uuid& id) {
  return read<sdk::Message>([&](Connection& c) -> sdk::Result<sdk::Message> {
    auto r = c.run(message_by_id, {id.str()});
    if (!r) return sdk::fail(r.error());
    if (PQntuples(r->get()) == 0) return fail(ErrorCode::not_found, "no message with id " + id.str());
    return message_from(Row(r->get(), 0));
  });
}

sdk::Result<sdk::Page<sdk::Message>> PostgresStorage::page(const Statement& statement, std::string owner_a,
                                                           std::optional<std::string> owner_b,
                                                           const sdk::PageRequest& request, bool on_replica) {
  // Key rotation reads its pages from the primary: it compares-and-sets what it read.
  return keyset_page(statement, {std::move(owner_a), std::move(owner_b), text(clock_->now())}, request, message_from,
                     on_replica);
}

sdk::Result<sdk::Page<sdk::Message>> PostgresStorage::inbox(const sdk::Uuid& recipient, const sdk::PageRequest& request) {
  return page(inbox_sql, recipient.str(), std::nullopt, request, true);
}

sdk::Result<sdk::Page<sdk::Message>> PostgresStorage::conversation(const sdk::Uuid& a, const sdk::Uuid& b,
                                                                   const sdk::PageRequest& request) {
  auto [low, high] = std::minmax(a, b);  // byte order, as PostgreSQL orders uuid
  return page(conversation_sql, low.str(), high.str(), request, true);
}

sdk::Result<void> PostgresStorage::mark_read(const sdk::Uuid& id, sdk::Timestamp at) {
  return update_one(mark_read_sql, {id.str(), text(at)}, "message", id);
}
sdk::Result<void> PostgresStorage::soft_delete_message(const sdk::Uuid& id) {
  return update_one(soft_delete_sql, {id.str()}, "message", id);
}

// ---- cipher key rotation (SDK 1.1) -----------------------------------------

sdk::Result<sdk::Page<sdk::Message>> PostgresStorage::messages_not_under_key(std::string_view key_id,
                                                                            const sdk::PageRequest& request) {
  return page(not_under_key_sql, std::string(key_id), std::nullopt, request, false);
}

sdk::Result<sdk::Page<sdk::Message>> PostgresStorage::messages_under_key(std::string_view key_id,
                                                                        const sdk::PageRequest& request) {
  return page(under_key_sql, std::string(key_id), std::nullopt, request, false);
}

sdk::Result<std::vector<sdk::KeyCount>> PostgresStorage::count_messages_by_key() {
  return pool_.run<std::vector<sdk::KeyCount>>(Repeatable::yes, [&](Connection& c) -> sdk::Result<std::vector<sdk::KeyCount>> {
    auto r = c.run(count_by_key_sql, {});
    if (!r) return sdk::fail(r.error());
    std::vector<sdk::KeyCount> out;
    for (int i = 0; i < PQntuples(r->get()); ++i) {
      Row row(r->get(), i);
      out.push_back({row.str(0), static_cast<std::uint64_t>(row.int8(1))});
    }
    return out;
  });
}

sdk::Result<std::vector<sdk::Metric>> PostgresStorage::gauges() {
  auto out = sdk::connection_pool_metrics(pool_.usage(), "primary");
  if (!replicas_.empty())
    for (auto& g : replicas_.gauges()) out.push_back(std::move(g));
  return out;
}

sdk::Result<sdk::DatabaseInfo> PostgresStorage::database_info() { return postgres::database_info(pool_.settings()); }

sdk::Result<std::uint64_t> PostgresStorage::count_messages_not_under_key(std::string_view key_id) {
  return pool_.run<std::uint64_t>(Repeatable::yes, [&](Connection& c) -> sdk::Result<std::uint64_t> {
    auto r = c.run(count_not_under_key_sql, {std::string(key_id)});
    if (!r) return sdk::fail(r.error());
    return static_cast<std::uint64_t>(Row(r->get(), 0).int8(0));
  });
}

sdk::Result<bool> PostgresStorage::replace_message_content(const sdk::Uuid& id, std::string_view expected_key_id,
                                                           const sdk::Bytes& encrypted_content, const sdk::Bytes& iv,
                                                           std::string_view key_id) {
  Params params{id.str(), std::string(expected_key_id), Param::bytes(encrypted_content), Param::bytes(iv),
                std::string(key_id)};
  return write<bool>([&](Connection& c) -> sdk::Result<bool> {
    auto r = c.run(replace_content_sql, params);
    if (!r) return sdk::fail(r.error());
    if (affected(*r) == 1) return true;
    auto exists = c.run(message_exists_sql, {id.str()});
    if (!exists) return sdk::fail(exists.error());
    if (PQntuples(exists->get()) == 0) return fail(ErrorCode::not_found, "no message with id " + id.str());
    return false;
  });
}

// ---- key records ---------------------------------------------------------

sdk::Result<void> PostgresStorage::insert_key(const sdk::KeyRecord& k) {
  Params params{k.id.str(),           k.user_id.str(),     Param::bytes(k.public_key),
                Param::bytes(k.private_key_encrypted), text(k.created_at), text(k.expires_at),
                text(k.is_active)};
  return write<void>([&](Connection& c) -> sdk::Result<void> {
    auto r = c.run(insert_key_sql, params);
    if (!r) return sdk::fail(r.error());
    return {};
  });
}

sdk::Result<void> PostgresStorage::replace_active_key(const sdk::KeyRecord& k) {
  Params params{k.id.str(),           k.user_id.str(),     Param::bytes(k.public_key),
                Param::bytes(k.private_key_encrypted), text(k.created_at), text(k.expires_at),
                text(true)};
  return write<void>([&](Connection& c) -> sdk::Result<void> {
    return in_transaction(c, [&]() -> sdk::Result<void> {
      auto locked = c.run(lock_user_sql, {k.user_id.str()});
      if (!locked) return sdk::fail(locked.error());
      if (PQntuples(locked->get()) == 0)
        return fail(ErrorCode::invalid_argument, "user " + k.user_id.str() + " does not exist");
      if (auto r = c.run(deactivate_user_keys_sql, {k.user_id.str()}); !r) return sdk::fail(r.error());
      if (auto r = c.run(insert_key_sql, params); !r) return sdk::fail(r.error());
      return {};
    });
  });
}

sdk::Result<sdk::KeyRecord> PostgresStorage::get_key(const sdk::Uuid& id) {
  return read<sdk::KeyRecord>([&](Connection& c) -> sdk::Result<sdk::KeyRecord> {
    auto r = c.run(key_by_id, {id.str()});
    if (!r) return sdk::fail(r.error());
    if (PQntuples(r->get()) == 0) return fail(ErrorCode::not_found, "no key record with id " + id.str());
    return key_from(Row(r->get(), 0));
  });
}

sdk::Result<std::vector<sdk::KeyRecord>> PostgresStorage::keys_for_user(const sdk::Uuid& user_id) {
  return read<std::vector<sdk::KeyRecord>>([&](Connection& c) -> sdk::Result<std::vector<sdk::KeyRecord>> {
    auto r = c.run(keys_by_user, {user_id.str()});
    if (!r) return sdk::fail(r.error());
    std::vector<sdk::KeyRecord> out;
    for (int i = 0; i < PQntuples(r->get()); ++i) out.push_back(key_from(Row(r->get(), i)));
    return out;
  });
}

sdk::Result<void> PostgresStorage::deactivate_key(const sdk::Uuid& id) {
  return update_one(deactivate_key_sql, {id.str()}, "key record", id);
}

sdk::Result<sdk::Page<sdk::KeyRecord>> PostgresStorage::all_keys(const sdk::PageRequest& request) {
  return keyset_page(all_keys_sql, {}, request, key_from, false);
}

sdk::Result<bool> PostgresStorage::replace_key_wrapping(const sdk::Uuid& id, const sdk::Bytes& expected,
                                                        const sdk::Bytes& replacement) {
  Params params{id.str(), Param::bytes(expected), Param::bytes(replacement)};
  return write<bool>([&](Connection& c) -> sdk::Result<bool> {
    auto r = c.run(replace_wrapping_sql, params);
    if (!r) return sdk::fail(r.error());
    if (affected(*r) == 1) return true;
    auto exists = c.run(key_exists_sql, {id.str()});
    if (!exists) return sdk::fail(exists.error());
    if (PQntuples(exists->get()) == 0) return fail(ErrorCode::not_found, "no key record with id " + id.str());
    return false;
  });
}

// ---- backup (SDK 1.2): pg_dump and pg_restore ----------------------------------

namespace {

constexpr const char* dump_file = "postgres.dump";
constexpr const char* data_keys_table = "strata_data_keys";
constexpr int data_keys_migration = 9;  // schema/postgres/009_data_keys.up.sql, written to run again

// Rows per table as the connection's transaction sees them. to_regclass: a
// database not migrated yet has no tables, and counts zero.
sdk::Result<std::map<std::string, std::uint64_t>> count_tables(Connection& c) {
  auto r = c.exec(
      "SELECT t, CASE WHEN to_regclass(t) IS NULL THEN 0 ELSE "
      "(xpath('/row/c/text()', query_to_xml('SELECT count(*) AS c FROM ' || t, false, true, '')))[1]::text::bigint END "
      "FROM unnest(ARRAY['users', 'messages', 'encryption_keys']) AS t");
  if (!r) return sdk::fail(r.error());
  std::map<std::string, std::uint64_t> counts;
  for (int i = 0; i < PQntuples(r->get()); ++i)
    counts[PQgetvalue(r->get(), i, 0)] = std::stoull(PQgetvalue(r->get(), i, 1));
  return counts;
}

}  // namespace

sdk::Result<std::map<std::string, std::uint64_t>> PostgresStorage::table_counts() {
  return pool_.run<std::map<std::string, std::uint64_t>>(Repeatable::yes, count_tables);
}

sdk::Result<sdk::BackupReport> PostgresStorage::backup(const std::filesystem::path& dir) {
  auto status = schema_status();
  if (!status) return sdk::fail(status.error());
  const auto& s = pool_.settings();
  // One snapshot for the dump and the counts: this transaction exports it,
  // counts in it, and pg_dump --snapshot reads exactly the same rows, so the
  // manifest says what is in the file even while others write.
  return pool_.run<sdk::BackupReport>(Repeatable::no, [&](Connection& c) -> sdk::Result<sdk::BackupReport> {
    auto in_snapshot = [&]() -> sdk::Result<sdk::BackupReport> {
      if (auto r = c.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !r) return sdk::fail(r.error());
      auto snapshot = c.exec("SELECT pg_export_snapshot()");
      if (!snapshot) return sdk::fail(snapshot.error());
      auto counts = count_tables(c);
      if (!counts) return sdk::fail(counts.error());
      if (auto r = run_pg_tool(s.pg_dump,
                               // Without the sequence's epoch: a restore starts a new one (inbox_since).
                               // Without the data keys at all: they are backed up apart, with a shorter
                               // retention, and a restore must never drop the live table (tombstones).
                               {"--format=custom", "--no-password", "--exclude-table-data=strata_inbox_epoch",
                                "--exclude-table=" + std::string(data_keys_table),
                                "--file=" + (dir / dump_file).string(),
                                std::string("--snapshot=") + PQgetvalue(snapshot->get(), 0, 0)},
                               s);
          !r)
        return sdk::fail(r.error());
      return sdk::BackupReport{{dump_file}, std::move(*counts), std::to_string(status->current)};
    };
    auto report = in_snapshot();
    auto ended = c.exec(report ? "COMMIT" : "ROLLBACK");
    if (report && !ended) return sdk::fail(ended.error());
    return report;
  });
}

sdk::Result<void> PostgresStorage::recreate_data_keys_table() {
  return pool_.run<void>(Repeatable::yes, [](Connection& c) -> sdk::Result<void> {
    auto status = postgres::schema_status(c);
    if (!status) return sdk::fail(status.error());
    if (status->current < data_keys_migration) return {};
    const Migration* m = migrations().find(data_keys_migration);
    if (!m) return fail(ErrorCode::internal, "migration 9 (data keys) is not in this build");
    auto r = c.exec(m->up);
    if (!r) return sdk::fail(r.error());
    return {};
  });
}

sdk::Result<sdk::BackupReport> PostgresStorage::restore(const std::filesystem::path& dir) {
  const auto& s = pool_.settings();
  pool_.close_idle();  // their prepared statements name the tables about to be replaced
  // One transaction: a failure leaves the database as it was.
  if (auto r = run_pg_tool(s.pg_restore,
                           {"--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
                            "--no-password", (dir / dump_file).string()},
                           s);
      !r)
    return sdk::fail(r.error());
  pool_.close_idle();
  // The dump holds no data key table (see backup): into a new database, make it.
  if (auto made = recreate_data_keys_table(); !made) return sdk::fail(made.error());
  auto status = schema_status();
  if (!status) return sdk::fail(status.error());
  auto counts = table_counts();
  if (!counts) return sdk::fail(counts.error());
  return sdk::BackupReport{{}, std::move(*counts), std::to_string(status->current)};
}

namespace {

// Whether `tool` (a path, or a name searched in PATH as posix_spawnp does) can be run.
bool tool_found(const std::string& tool) {
  if (tool.find('/') != std::string::npos) return ::access(tool.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/bin:/bin";
  while (!dirs.empty()) {
    auto end = dirs.find(':');
    std::string dir(dirs.substr(0, end));
    if (::access(((dir.empty() ? "." : dir) + "/" + tool).c_str(), X_OK) == 0) return true;
    dirs = end == std::string_view::npos ? std::string_view{} : dirs.substr(end + 1);
  }
  return false;
}

}  // namespace

sdk::Result<void> PostgresStorage::check_restore(const std::filesystem::path& dir) {
  const auto& s = pool_.settings();
  std::ifstream dump(dir / dump_file, std::ios::binary);
  char magic[5] = {};
  if (!dump.read(magic, sizeof magic) || std::string_view(magic, sizeof magic) != "PGDMP")
    return fail(ErrorCode::invalid_argument, (dir / dump_file).string() + " is not a pg_dump custom-format archive");
  if (!tool_found(s.pg_restore))
    return fail(ErrorCode::unavailable, "'" + s.pg_restore + "' was not found (install postgresql-client, or set "
                                        "backup.pg_restore in [storage] to its path)");
  return health();
}

sdk::Result<bool> PostgresStorage::has_data() {
  auto counts = table_counts();
  if (!counts) return sdk::fail(counts.error());
  for (const auto& [table, n] : *counts)
    if (n > 0) return true;
  return false;
}

namespace {
// The restore's session advisory lock key ("strata" as a number, + 3): the
// same in every process, beside the migration (…441) and cleanup-job (…442) keys.
constexpr const char* restore_lock_key = "7391149215237181443";
}  // namespace

sdk::Result<void> PostgresStorage::hold_restore_lock(bool hold) {
  std::lock_guard lock(restore_lock_mutex_);
  if (!hold) {
    // Unlocked explicitly before the session closes: the server ends a closed
    // session asynchronously, and a host asking right after would still find
    // the lock held (a restore's caller did, now and then).
    if (restore_lock_) (void)restore_lock_->exec("SELECT pg_advisory_unlock($1::bigint)", {Param(restore_lock_key)});
    restore_lock_.reset();  // closing the session releases it anyway, should the unlock have failed
    return {};
  }
  if (restore_lock_) return {};
  auto connection = Connection::open(pool_.settings());
  if (!connection) return sdk::fail(connection.error());
  auto taken = (*connection)->exec("SELECT pg_try_advisory_lock($1::bigint)", {Param(restore_lock_key)});
  if (!taken) return sdk::fail(taken.error());
  if (std::string_view(PQgetvalue(taken->get(), 0, 0)) != "t") {
    // Who holds it, for the message (a bigint key shows as classid:objid in pg_locks).
    auto holder = (*connection)->exec(
        "SELECT a.pid, coalesce(host(a.client_addr), 'local'), a.backend_start FROM pg_locks l JOIN "
        "pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND "
        "((l.classid::bigint << 32) | l.objid::bigint) = $1::bigint",
        {Param(restore_lock_key)});
    std::string who;
    if (holder && PQntuples(holder->get()) > 0)
      who = " (backend pid " + std::string(PQgetvalue(holder->get(), 0, 0)) + " from " +
            PQgetvalue(holder->get(), 0, 1) + ", connected " + PQgetvalue(holder->get(), 0, 2) + ")";
    return fail(ErrorCode::conflict, "another restore into " + pool_.settings().display + " is running" + who +
                                         "; wait for it to finish");
  }
  restore_lock_ = std::move(*connection);
  return {};
}

}  // namespace strata::postgres
