// The postgres plugin against a real PostgreSQL 15: migrations, concurrency,
// pool limits, killed backends, hostile input, seed compatibility, the CLI.

#include <algorithm>
#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>

#include <strata/sdk/testing/fixtures.hpp>

#include "postgres_db.hpp"
#include "process.hpp"
#include "strata/services.hpp"
#include "test_host.hpp"
#include "test_paths.hpp"

using namespace strata;
using namespace std::chrono_literals;
using sdk::testing::make_message;
using sdk::testing::make_user;

namespace {

constexpr int latest_version = 9;

std::shared_ptr<sdk::Storage> migrated(Host& host) {
  auto storage = host.storage();
  REQUIRE(storage->migrate(latest_version));
  return storage;
}

bool table_exists(const test::TempDatabase& db, const std::string& table) {
  return db.sql("SELECT to_regclass('" + table + "') IS NOT NULL") == "t";
}

}  // namespace

TEST_CASE("postgres: migrations up, down and up, and health says when to migrate", "[postgres][migrate]") {
  test::TempDatabase db;
  auto host = test::open_host(db.storage_table());
  auto storage = host->storage();
  CHECK(storage->schema_status()->current == 0);
  CHECK(storage->schema_status()->latest == latest_version);
  auto unmigrated = storage->health();
  REQUIRE_FALSE(unmigrated);
  CHECK(unmigrated.error().message.find("run `strata migrate up`") != std::string::npos);

  CHECK(storage->migrate(latest_version)->current == latest_version);
  CHECK(storage->health());
  for (const char* table : {"users", "messages", "encryption_keys", "strata_audit_outbox_batches",
                            "strata_session_revocations", "strata_data_keys", "strata_schema_migrations"})
    CHECK(table_exists(db, table));
  CHECK(db.sql("SELECT count(*) FROM strata_schema_migrations") == std::to_string(latest_version));

  CHECK(storage->migrate(1)->current == 1);
  CHECK(db.sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'messages' AND column_name = 'key_id'") == "0");
  CHECK(storage->migrate(0)->current == 0);
  CHECK_FALSE(table_exists(db, "users"));
  CHECK(storage->migrate(latest_version)->current == latest_version);
  CHECK(storage->health());

  auto beyond = storage->migrate(latest_version + 1);
  REQUIRE_FALSE(beyond);
  CHECK(beyond.error().code == sdk::ErrorCode::invalid_argument);
}

TEST_CASE("postgres: events waiting in the per-event outbox move to batches and back, in order", "[postgres][migrate]") {
  test::TempDatabase db;
  auto host = test::open_host(db.storage_table());
  auto storage = host->storage();
  REQUIRE(storage->migrate(6));
  // 300 events of one sink (two batches of at most 256) between two of another.
  db.sql("INSERT INTO strata_audit_outbox (event_id, occurred_at, user_id, ip, action, resource, status, metadata, sink)"
         " VALUES (gen_random_uuid(), now(), NULL, 'local', 'other.0', 'r', 'failure', '{}', 'file:/other')");
  db.sql("INSERT INTO strata_audit_outbox (event_id, occurred_at, user_id, ip, action, resource, status, metadata, sink)"
         " SELECT gen_random_uuid(), now(), 'u' || i, 'local', 'mine.' || i, 'r', 'success', '{\"i\":' || i || '}', "
         "'memory' FROM generate_series(1, 300) i");
  db.sql("INSERT INTO strata_audit_outbox (event_id, occurred_at, user_id, ip, action, resource, status, metadata, sink)"
         " VALUES (gen_random_uuid(), now(), NULL, 'local', 'other.1', 'r', 'success', '{}', 'file:/other')");
  const std::string before = db.sql("SELECT string_agg(event_id::text, ',' ORDER BY seq) FROM strata_audit_outbox");

  REQUIRE(storage->migrate(7));
  CHECK(db.sql("SELECT count(*) FROM strata_audit_outbox_batches") == "4");
  CHECK_FALSE(table_exists(db, "strata_audit_outbox"));
  REQUIRE(storage->migrate(6));  // and back, nothing lost or reordered
  CHECK(db.sql("SELECT string_agg(event_id::text, ',' ORDER BY seq) FROM strata_audit_outbox") == before);
  REQUIRE(storage->migrate(7));

  REQUIRE(storage->set_outbox_sink("memory"));
  CHECK(storage->outbox_size().value() == 300);
  std::vector<sdk::AuditEvent> got;
  while (true) {
    auto n = storage->drain_outbox(7, [&](std::span<const sdk::AuditEvent> events) -> sdk::Result<void> {
      got.insert(got.end(), events.begin(), events.end());
      return {};
    });
    REQUIRE(n);
    if (*n == 0) break;
  }
  REQUIRE(got.size() == 300);
  for (int i = 0; i < 300; ++i) {
    CHECK(got[static_cast<std::size_t>(i)].action == "mine." + std::to_string(i + 1));
    CHECK(got[static_cast<std::size_t>(i)].metadata == "{\"i\":" + std::to_string(i + 1) + "}");
  }
  CHECK(got[0].user_id == std::optional<std::string>("u1"));
  REQUIRE(storage->set_outbox_sink("file:/other"));
  CHECK(storage->outbox_size().value() == 2);
}

TEST_CASE("postgres: an embedding application on an unmigrated database is told once, and migrates by API",
          "[postgres][migrate]") {
  test::TempDatabase db;
  auto host = test::open_host(db.storage_table() + "[cipher]\nplugin = \"aes_gcm\"\nkey = \"" + test::test_key_hex +
                              "\"\n");
  auto refused = Services::open(*host);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == sdk::ErrorCode::invalid_argument);
  CHECK_FALSE(refused.error().retryable);
  CHECK(refused.error().message.find("schema is at version 0 and this build needs " + std::to_string(latest_version)) !=
        std::string::npos);
  CHECK(refused.error().message.find("Services::migrate(host)") != std::string::npos);

  auto migrated = Services::migrate(*host);
  REQUIRE(migrated);
  CHECK(migrated->current == latest_version);
  CHECK(Services::migrate(*host)->current == latest_version);  // already there: nothing to do
  auto services = Services::open(*host);
  REQUIRE(services);
  CHECK((*services)->users().register_user("alice", "alice@example.org", "alice-password", Origin{}));

  // A database that differs from what the migrations expect is refused whole.
  test::TempDatabase other;
  other.sql("CREATE TABLE users (id integer)");
  auto other_host = test::open_host(other.storage_table());
  auto differs = Services::migrate(*other_host);
  REQUIRE_FALSE(differs);
  CHECK(differs.error().message.find("nothing was changed") != std::string::npos);
  CHECK(other.sql("SELECT count(*) FROM information_schema.tables WHERE table_name = 'messages'") == "0");
}

TEST_CASE("postgres: four processes migrating at once take turns", "[postgres][migrate]") {
  test::TempDatabase db;
  std::vector<std::unique_ptr<Host>> hosts;
  for (int i = 0; i < 4; ++i) hosts.push_back(test::open_host(db.storage_table()));
  std::atomic<int> failures{0};
  std::vector<std::thread> migrators;
  for (auto& host : hosts)
    migrators.emplace_back([&] {
      if (!host->storage()->migrate(latest_version)) ++failures;
    });
  for (auto& t : migrators) t.join();
  CHECK(failures == 0);
  CHECK(db.sql("SELECT count(*) FROM strata_schema_migrations") == std::to_string(latest_version));
  CHECK(hosts[0]->storage()->health());
}

TEST_CASE("postgres: the schema is the seed's DDL exactly, plus only Strata's additions", "[postgres][seed]") {
  test::TempDatabase db;
  auto host = test::open_host(db.storage_table());
  migrated(*host);
  // name:type:nullable:default of every column, in table order (shared/seed's schema.sql, then migration 3).
  auto columns = [&](const std::string& table) {
    return db.sql("SELECT string_agg(column_name || ':' || CASE WHEN data_type = 'character varying' THEN "
                  "'varchar(' || character_maximum_length || ')' ELSE data_type END || ':' || is_nullable || ':' || "
                  "COALESCE(column_default, ''), ',' ORDER BY ordinal_position) "
                  "FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '" + table + "'");
  };
  CHECK(columns("users") ==
        "id:uuid:NO:uuid_generate_v4(),username:varchar(255):NO:,email:varchar(255):NO:,"
        "password_hash:varchar(255):NO:,created_at:timestamp with time zone:YES:now(),"
        "updated_at:timestamp with time zone:YES:now(),last_login:timestamp with time zone:YES:,"
        "is_active:boolean:YES:true");
  CHECK(columns("messages") ==
        "id:uuid:NO:uuid_generate_v4(),sender_id:uuid:YES:,recipient_id:uuid:YES:,encrypted_content:bytea:NO:,"
        "iv:bytea:NO:,created_at:timestamp with time zone:YES:now(),expires_at:timestamp with time zone:YES:,"
        "is_read:boolean:YES:false,is_deleted:boolean:YES:false,"
        // Strata's additions (schema/postgres/003_strata.up.sql):
        "key_id:text:NO:''::text,read_at:timestamp with time zone:YES:,"
        // and 008_inbox_sequence.up.sql:
        "recipient_seq:bigint:YES:");
  CHECK(columns("encryption_keys") ==
        "id:uuid:NO:uuid_generate_v4(),user_id:uuid:YES:,public_key:bytea:NO:,private_key_encrypted:bytea:NO:,"
        "created_at:timestamp with time zone:YES:now(),expires_at:timestamp with time zone:YES:,"
        "is_active:boolean:YES:true");
  // Every index: the seed's (constraints, schema.sql, indexes.sql), then Strata's four.
  CHECK(db.sql("SELECT string_agg(indexdef, E'\\n' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public' "
               "AND tablename IN ('users', 'messages', 'encryption_keys')") ==
        "CREATE UNIQUE INDEX encryption_keys_pkey ON public.encryption_keys USING btree (id)\n"
        "CREATE INDEX idx_encryption_keys_user ON public.encryption_keys USING btree (user_id)\n"
        "CREATE INDEX idx_messages_composite ON public.messages USING btree (sender_id, recipient_id, created_at)\n"
        "CREATE INDEX idx_messages_conversation_keyset ON public.messages USING btree (LEAST(sender_id, recipient_id), "
        "GREATEST(sender_id, recipient_id), created_at DESC, id DESC) WHERE (is_deleted = false)\n"
        "CREATE INDEX idx_messages_created ON public.messages USING btree (created_at)\n"
        "CREATE INDEX idx_messages_expires_at ON public.messages USING btree (expires_at) WHERE (expires_at IS NOT NULL)\n"
        "CREATE INDEX idx_messages_inbox_keyset ON public.messages USING btree (recipient_id, created_at DESC, id DESC) "
        "WHERE (is_deleted = false)\n"
        "CREATE INDEX idx_messages_recipient ON public.messages USING btree (recipient_id)\n"
        "CREATE UNIQUE INDEX idx_messages_recipient_seq ON public.messages USING btree (recipient_id, recipient_seq)\n"
        "CREATE INDEX idx_messages_sender ON public.messages USING btree (sender_id)\n"
        "CREATE INDEX idx_users_composite ON public.users USING btree (username, email, is_active)\n"
        "CREATE UNIQUE INDEX messages_pkey ON public.messages USING btree (id)\n"
        "CREATE UNIQUE INDEX users_email_key ON public.users USING btree (email)\n"
        "CREATE UNIQUE INDEX users_pkey ON public.users USING btree (id)\n"
        "CREATE UNIQUE INDEX users_username_key ON public.users USING btree (username)");
  // The seed's foreign keys, without cascades.
  CHECK(db.sql("SELECT string_agg(conname || ' ' || pg_get_constraintdef(oid), ', ' ORDER BY conname) FROM pg_constraint "
               "WHERE contype = 'f'") ==
        "encryption_keys_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id), "
        "messages_recipient_id_fkey FOREIGN KEY (recipient_id) REFERENCES users(id), "
        "messages_sender_id_fkey FOREIGN KEY (sender_id) REFERENCES users(id)");
  // cleanup_old_messages() with the seed's body: expired and not deleted.
  std::string body = db.sql("SELECT prosrc FROM pg_proc WHERE proname = 'cleanup_old_messages'");
  CHECK(body.find("DELETE FROM messages\n  WHERE expires_at < NOW()\n  AND is_deleted = false;") != std::string::npos);

  // A row written the seed's way (its four columns, defaults for the rest) reads back through the plugin.
  auto storage = host->storage();
  auto alice = make_user("alice"), bob = make_user("bob");
  REQUIRE(storage->create_user(alice));
  REQUIRE(storage->create_user(bob));
  db.sql("INSERT INTO messages (sender_id, recipient_id, encrypted_content, iv) VALUES ('" + alice.id.str() + "', '" +
         bob.id.str() + "', '\\xde00beef', '\\x000102030405060708090a0b')");
  auto inbox = storage->inbox(bob.id, {});
  REQUIRE(inbox);
  REQUIRE(inbox->items.size() == 1);
  CHECK(inbox->items[0].encrypted_content == sdk::Bytes{0xde, 0x00, 0xbe, 0xef});
  CHECK(inbox->items[0].iv.size() == 12);
  CHECK(inbox->items[0].key_id.empty());
  CHECK_FALSE(inbox->items[0].is_read);
  CHECK_FALSE(inbox->items[0].read_at);
  // A seed client marks it read: is_read is the read state.
  db.sql("UPDATE messages SET is_read = true WHERE id = '" + inbox->items[0].id.str() + "'");
  CHECK(storage->get_message(inbox->items[0].id)->is_read);

  // What the plugin writes is what psql shows: raw bytes, timestamps in UTC.
  auto m = make_message(alice.id, bob.id, sdk::Timestamp::from_micros(1'764'460'800'123'456));  // 2025-11-30
  REQUIRE(storage->insert_message(m));
  CHECK(db.sql("SELECT encode(iv, 'hex') || ' ' || length(encrypted_content) || ' ' || "
               "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM messages WHERE id = '" +
               m.id.str() + "'") == "424242424242424242424242 256 2025-11-30 00:00:00.123456");

  // The seed's cleanup function: expired rows go, unless soft-deleted (its body says so).
  auto old = make_message(alice.id, bob.id, sdk::Timestamp::now());
  old.expires_at = sdk::Timestamp::now() - 1h;
  auto old_deleted = make_message(alice.id, bob.id, sdk::Timestamp::now());
  old_deleted.expires_at = sdk::Timestamp::now() - 1h;
  old_deleted.is_deleted = true;
  REQUIRE(storage->insert_message(old));
  REQUIRE(storage->insert_message(old_deleted));
  db.sql("SELECT cleanup_old_messages()");
  CHECK(storage->get_message(old.id).error().code == sdk::ErrorCode::not_found);
  CHECK(storage->get_message(old_deleted.id));
}

TEST_CASE("postgres: an exhausted pool answers timeout, and a slow statement is cancelled", "[postgres][pool]") {
  test::TempDatabase db;
  auto host = test::open_host(db.storage_table("pool.max = 2\npool.connect_timeout_ms = 300\nstatement_timeout_ms = 3000\n"));
  auto storage = migrated(*host);
  auto user = make_user("u");
  REQUIRE(storage->create_user(user));

  // Another session locks the users table: two calls block, holding both connections.
  PGconn* locker = PQconnectdb(db.conninfo().c_str());
  REQUIRE(PQstatus(locker) == CONNECTION_OK);
  PQclear(PQexec(locker, "BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE"));
  std::atomic<int> finished{0};
  std::vector<std::thread> blocked;
  for (int i = 0; i < 2; ++i)
    blocked.emplace_back([&] {
      if (storage->get_user(user.id)) ++finished;
    });
  REQUIRE(test::wait_until([&] {
    return db.sql("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'users'::regclass") == "2";
  }));
  auto third = storage->get_user(user.id);
  REQUIRE_FALSE(third);
  CHECK(third.error().code == sdk::ErrorCode::timeout);
  CHECK(third.error().message.find("all 2 (pool.max) are busy") != std::string::npos);
  PQclear(PQexec(locker, "COMMIT"));
  for (auto& t : blocked) t.join();
  CHECK(finished == 2);

  // statement_timeout: the server cancels a statement stuck on the lock.
  auto quick = test::open_host(db.storage_table("statement_timeout_ms = 200\n"));
  PQclear(PQexec(locker, "BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE"));
  auto cancelled = quick->storage()->get_user(user.id);
  PQclear(PQexec(locker, "COMMIT"));
  PQfinish(locker);
  REQUIRE_FALSE(cancelled);
  CHECK(cancelled.error().code == sdk::ErrorCode::timeout);
  CHECK(storage->get_user(user.id));
}

TEST_CASE("postgres: recovers on its own when the server kills its backends", "[postgres][fault]") {
  test::TempDatabase db;
  auto host = test::open_host(db.storage_table("pool.max = 4\n"));
  auto storage = migrated(*host);
  auto alice = make_user("alice"), bob = make_user("bob");
  REQUIRE(storage->create_user(alice));
  // Fill the pool with idle connections.
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) readers.emplace_back([&] { (void)storage->get_user(alice.id); });
  for (auto& t : readers) t.join();
  CHECK(db.sql("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'strata'") != "0");

  // The timeout argument makes pg_terminate_backend wait until each backend is gone.
  db.sql("SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity WHERE datname = current_database() "
         "AND application_name = 'strata'");
  // Every call works, writes included: dead idle connections are dropped before use.
  auto created = storage->create_user(bob);
  INFO((created ? std::string("ok") : created.error().describe()));
  CHECK(created);
  CHECK(storage->insert_message(make_message(alice.id, bob.id, sdk::Timestamp::now())));
  CHECK(storage->get_user(alice.id));
  CHECK(storage->health());
}

TEST_CASE("postgres: purge deletes in batches of purge.batch_size, each its own transaction, and counts first",
          "[postgres][cleanup]") {
  test::TempDatabase db;
  std::mutex log_mutex;
  std::vector<std::string> log;
  HostOptions options;
  options.log = [&](sdk::LogLevel, std::string_view line) {
    std::lock_guard lock(log_mutex);
    log.emplace_back(line);
  };
  auto host = test::open_host(db.storage_table("purge.batch_size = 7\npurge.pause_ms = 1\n"), options);
  auto storage = migrated(*host);
  auto alice = make_user("alice"), bob = make_user("bob");
  REQUIRE(storage->create_user(alice));
  REQUIRE(storage->create_user(bob));
  const auto now = sdk::Timestamp::now();
  std::vector<sdk::Message> messages;
  for (int i = 0; i < 105; ++i) {
    auto m = make_message(alice.id, bob.id, now - std::chrono::seconds(i));
    m.expires_at = i < 100 ? now - std::chrono::minutes(1) : now + std::chrono::hours(1);
    messages.push_back(m);
  }
  REQUIRE(storage->insert_messages(messages));
  auto would_go = storage->count_expired(now);
  REQUIRE(would_go);
  CHECK(*would_go == 100);
  CHECK(db.sql("SELECT count(*) FROM messages") == "105");  // counting deleted nothing

  auto purged = storage->purge_expired(now);
  REQUIRE(purged);
  CHECK(*purged == 100);
  CHECK(db.sql("SELECT count(*) FROM messages") == "5");
  // 100 rows in batches of 7: 15 transactions (14 full, one of 2), reported in one line.
  std::lock_guard lock(log_mutex);
  CHECK(std::any_of(log.begin(), log.end(), [](const std::string& line) {
    return line.find("100 expired messages deleted in 15 batches") != std::string::npos;
  }));
}

TEST_CASE("postgres: hostile input is stored verbatim, never executed", "[postgres][hostile]") {
  test::TempDatabase db;
  auto host = test::open_host(db.storage_table());
  auto storage = migrated(*host);
  auto evil = make_user("x");
  evil.username = "x'); DROP TABLE users; --";
  evil.email = "\"; DELETE FROM messages; SELECT \"@evil";
  evil.password_hash = "$$; DROP TABLE encryption_keys; $$";
  REQUIRE(storage->create_user(evil));
  CHECK(storage->find_user_by_username(evil.username)->email == evil.email);
  CHECK(table_exists(db, "users"));
  CHECK(table_exists(db, "encryption_keys"));

  auto bob = make_user("bob");
  REQUIRE(storage->create_user(bob));
  auto m = make_message(evil.id, bob.id, sdk::Timestamp::now());
  m.encrypted_content = sdk::Bytes(4096, 0);  // NULs
  m.key_id = "'; TRUNCATE messages; --";
  REQUIRE(storage->insert_message(m));
  CHECK(*storage->get_message(m.id) == m);

  auto nul = make_user("nul");
  nul.username = std::string("cut\0here", 8);
  auto refused = storage->create_user(nul);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == sdk::ErrorCode::invalid_argument);
  CHECK(refused.error().message.find("NUL") != std::string::npos);
  CHECK(storage->find_user_by_username("cut").error().code == sdk::ErrorCode::not_found);  // nothing truncated stored
}

TEST_CASE("postgres: infinity and far-off timestamps read as what they are, in lists and reads alike",
          "[postgres][hardening]") {
  test::TempDatabase db;
  auto host = test::open_host(db.storage_table());
  auto storage = migrated(*host);
  auto alice = make_user("alice"), bob = make_user("bob");
  REQUIRE(storage->create_user(alice));
  REQUIRE(storage->create_user(bob));
  auto insert = [&](const std::string& created_at, const std::string& expires_at) {
    return sdk::Uuid::parse(db.sql("INSERT INTO messages (sender_id, recipient_id, encrypted_content, iv, created_at, "
                                   "expires_at) VALUES ('" + alice.id.str() + "', '" + bob.id.str() +
                                   "', '\\xde', '\\x00', '" + created_at + "', '" + expires_at + "') RETURNING id"))
        .value();
  };
  auto never = insert("-infinity", "infinity");
  auto far = insert("2026-01-01 00:00:00+00", "200000-06-01 12:00:00+00");
  auto beyond = insert("2026-01-01 00:00:00+00", "294276-12-31 23:59:59+00");  // PostgreSQL's last day

  auto m = storage->get_message(never);
  REQUIRE(m);
  CHECK(m->created_at == sdk::Timestamp::minus_infinity());
  CHECK(m->expires_at == sdk::Timestamp::infinity());
  CHECK(m->expires_at->iso8601() == "infinity");
  CHECK(storage->get_message(far)->expires_at->iso8601() == "200000-06-01T12:00:00.000000Z");
  CHECK(storage->get_message(beyond)->expires_at == sdk::Timestamp::infinity());  // not a year before Christ

  // The inbox lists what a read finds: all three are live (none has expired).
  auto inbox = storage->inbox(bob.id, {});
  REQUIRE(inbox);
  CHECK(inbox->items.size() == 3);
  CHECK(storage->count_expired(sdk::Timestamp::now()).value() == 0);

  // Written back, infinity is PostgreSQL's infinity again.
  auto forever = make_message(alice.id, bob.id, sdk::Timestamp::now());
  forever.expires_at = sdk::Timestamp::infinity();
  REQUIRE(storage->insert_message(forever));
  CHECK(db.sql("SELECT expires_at::text FROM messages WHERE id = '" + forever.id.str() + "'") == "infinity");
  CHECK(storage->get_message(forever.id)->expires_at == sdk::Timestamp::infinity());
}

TEST_CASE("postgres: a NULL where the seed's defaults put a value is refused, naming the column and the row",
          "[postgres][hardening]") {
  test::TempDatabase db;
  auto host = test::open_host(db.storage_table());
  auto storage = migrated(*host);
  auto alice = make_user("alice"), bob = make_user("bob");
  REQUIRE(storage->create_user(alice));
  REQUIRE(storage->create_user(bob));
  db.sql("UPDATE users SET is_active = NULL WHERE id = '" + alice.id.str() + "'");
  auto user = storage->get_user(alice.id);
  REQUIRE_FALSE(user);  // not "active"
  CHECK(user.error().code == sdk::ErrorCode::conflict);
  CHECK(user.error().message.find("column is_active of the row with id " + alice.id.str() + " holds NULL, not a flag") !=
        std::string::npos);
  CHECK(storage->get_user(bob.id));

  auto id = sdk::Uuid::parse(db.sql("INSERT INTO messages (sender_id, recipient_id, encrypted_content, iv, created_at) "
                                    "VALUES ('" + bob.id.str() + "', '" + bob.id.str() +
                                    "', '\\xde', '\\x00', NULL) RETURNING id"))
                .value();
  auto m = storage->get_message(id);
  REQUIRE_FALSE(m);  // not 1970
  CHECK(m.error().message.find("column created_at of the row with id " + id.str() + " holds NULL, not a time") !=
        std::string::npos);
  // Refusals neither leak nor wedge pooled connections: many in a row, then a normal read.
  for (int i = 0; i < 40; ++i) CHECK_FALSE(storage->get_message(id));
  CHECK(storage->get_user(bob.id));
}

TEST_CASE("postgres: a read-only server is a definite refusal, and check says the store cannot write",
          "[postgres][hardening]") {
  test::TempDatabase db;
  auto config = db.storage_table() + "[cache.default]\nplugin = \"memory\"\n[audit]\nplugin = \"memory\"\n"
                                     "[cipher]\nplugin = \"aes_gcm\"\nkey = \"" + std::string(test::test_key_hex) +
                "\"\n[users]\nscrypt_log2_n = 10\n[group_commit]\nretry_ms = 300\n";
  sdk::User alice, bob;
  {
    auto host = test::open_host(config);
    migrated(*host);
    auto services = std::move(Services::open(*host).value());
    alice = services->users().register_user("alice", "alice@example.org", "alice-password", Origin{}).value();
    bob = services->users().register_user("bob", "bob@example.org", "bob-password", Origin{}).value();
  }
  test::admin_sql("ALTER DATABASE " + db.name() + " SET default_transaction_read_only = on");
  auto host = test::open_host(config);
  auto health = host->storage()->health();
  REQUIRE_FALSE(health);
  CHECK(health.error().code == sdk::ErrorCode::conflict);
  CHECK(health.error().message.find("cannot write: transactions are read-only") != std::string::npos);

  auto services = std::move(Services::open(*host).value());
  auto sent = services->messages().send(alice, bob, "refused", std::nullopt, Origin{});
  REQUIRE_FALSE(sent);  // not "outcome unknown": the server said no
  INFO(sent.error().describe());
  CHECK(sent.error().code == sdk::ErrorCode::conflict);
  CHECK(sent.error().message.find("refused the write, nothing was written: it is read-only") != std::string::npos);
  CHECK(sent.error().message.find("nothing was stored") != std::string::npos);
  CHECK(sent.error().message.find("unknown") == std::string::npos);
  test::admin_sql("ALTER DATABASE " + db.name() + " RESET default_transaction_read_only");
}

TEST_CASE("postgres: a ciphertext over the read bound comes back empty, and the services say why",
          "[postgres][hardening]") {
  test::TempDatabase db;
  auto host = test::open_host(db.storage_table() + "[cache.default]\nplugin = \"memory\"\n[audit]\nplugin = "
                              "\"memory\"\n[cipher]\nplugin = \"aes_gcm\"\nkey = \"" + std::string(test::test_key_hex) +
                              "\"\n[users]\nscrypt_log2_n = 10\n");
  auto storage = migrated(*host);
  auto services = std::move(Services::open(*host).value());
  auto alice = services->users().register_user("alice", "alice@example.org", "alice-password", Origin{}).value();
  auto bob = services->users().register_user("bob", "bob@example.org", "bob-password", Origin{}).value();
  auto fine = services->messages().send(alice, bob, "within bounds", std::nullopt, Origin{}).value();
  // 8 MiB written by another client: a read must not fetch it whole.
  auto huge = sdk::Uuid::parse(db.sql("INSERT INTO messages (sender_id, recipient_id, encrypted_content, iv, key_id) "
                                      "VALUES ('" + alice.id.str() + "', '" + bob.id.str() +
                                      "', decode(repeat('ab', 8 * 1024 * 1024), 'hex'), '\\x000102030405060708090a0b', "
                                      "'default') RETURNING id"))
                  .value();
  auto raw = storage->get_message(huge);
  REQUIRE(raw);
  CHECK(raw->encrypted_content.empty());
  CHECK(raw->iv.size() == 12);  // the rest of the row intact
  auto read = services->messages().read(huge, bob.id, Origin{});
  REQUIRE_FALSE(read);
  CHECK(read.error().message.find("over the 1052672 bytes reads allow") != std::string::npos);
  auto inbox = services->messages().inbox(bob.id, {}, Origin{});
  REQUIRE(inbox);
  REQUIRE(inbox->items.size() == 2);
  for (const auto& entry : inbox->items) CHECK(entry.text.has_value() == (entry.envelope.id == fine.id));
  CHECK(db.sql("SELECT octet_length(encrypted_content) FROM messages WHERE id = '" + huge.str() + "'") == "8388608");
}

TEST_CASE("postgres: a multi-host conninfo passes through: a dead first host fails over", "[postgres][config]") {
  test::TempDatabase db;
  int dead = test::free_port();
  auto host = test::open_host("[storage]\nplugin = \"postgres\"\nconninfo = \"host=127.0.0.1,127.0.0.1 port=" +
                              std::to_string(dead) + "," + std::to_string(test::postgres_port()) + " user=postgres dbname=" + db.name() +
                              " target_session_attrs=read-write\"\n");
  auto status = host->storage()->migrate(latest_version);
  INFO((status ? std::string("ok") : status.error().describe()));
  REQUIRE(status);
  CHECK(host->storage()->health());
  CHECK(host->effective_config().find(db.name()) == std::string::npos);  // conninfo is secret: redacted
}

TEST_CASE("postgres: cleanup.schedule where pg_cron cannot run is a clear error", "[postgres][cleanup]") {
  // The test cluster preloads pg_cron for one database (cron.database_name); this is another.
  test::TempDatabase db;
  auto host = test::open_host(db.storage_table("cleanup.schedule = \"0 0 * * *\"\n"));
  migrated(*host);
  auto health = host->storage()->health();
  REQUIRE_FALSE(health);
  CHECK(health.error().code == sdk::ErrorCode::unsupported);
  CHECK(health.error().message.find("needs the pg_cron extension") != std::string::npos);
  CHECK(health.error().message.find("strata cleanup") != std::string::npos);
}

TEST_CASE("postgres: pg_cron runs the seed's cleanup job, installed once by processes starting together",
          "[postgres][cleanup][cron]") {
  // The database pg_cron serves in the test cluster (tools/services.sh); emptied before and after.
  const std::string cron_db = "strata_cron";
  test::require_postgres();
  auto sql = [&](const std::string& statement) { return test::admin_sql(statement, cron_db); };
  auto reset = [&] {
    sql("DROP EXTENSION IF EXISTS pg_cron");
    sql("DROP TABLE IF EXISTS encryption_keys, messages, users, strata_audit_outbox, strata_audit_outbox_batches, "
        "strata_session_revocations, strata_inbox_heads, strata_inbox_epoch, strata_data_keys, "
        "strata_schema_migrations");
    sql("DROP FUNCTION IF EXISTS cleanup_old_messages()");
    sql("DROP FUNCTION IF EXISTS strata_number_message()");
  };
  reset();
  auto table = [&](const std::string& schedule) {
    return "[storage]\nplugin = \"postgres\"\nhost = \"127.0.0.1\"\nport = " + std::to_string(test::postgres_port()) +
           "\nuser = \"postgres\"\ndbname = \"" + cron_db + "\"\ncleanup.schedule = \"" + schedule + "\"\n";
  };
  {
    // The seed's schedule, from four processes' worth of hosts at once: one job.
    std::vector<std::unique_ptr<Host>> hosts;
    for (int i = 0; i < 4; ++i) hosts.push_back(test::open_host(table("0 0 * * *")));
    REQUIRE(hosts[0]->storage()->migrate(latest_version));
    std::atomic<int> failures{0};
    std::vector<std::thread> starting;
    for (auto& h : hosts)
      starting.emplace_back([&] {
        if (!h->storage()->health()) ++failures;
      });
    for (auto& t : starting) t.join();
    CHECK(failures == 0);
    CHECK(sql("SELECT count(*) || ' ' || min(schedule) || ' ' || min(command) FROM cron.job") ==
          "1 0 0 * * * SELECT cleanup_old_messages()");
  }
  // A shorter schedule corrects the same job; `strata check` shows it.
  auto dir = std::filesystem::temp_directory_path() / ("strata-cron-" + sdk::Uuid::generate().str());
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "cron.toml") << table("* * * * *");
  auto out = dir / "check.out";
  CHECK(test::run({strata::test::paths::strata_cli(), "--config", (dir / "cron.toml").string(), "check"}, out) == 0);
  std::string shown = test::read_file(out);
  INFO(shown);
  CHECK(shown.find("pg_cron job") != std::string::npos);
  CHECK(shown.find("'* * * * *' SELECT cleanup_old_messages()") != std::string::npos);
  CHECK(sql("SELECT count(*) || ' ' || min(schedule) FROM cron.job") == "1 * * * * *");

  // pg_cron runs it (at the next minute): expired rows go, live and soft-deleted ones stay.
  auto host = test::open_host(table("* * * * *"));
  auto storage = host->storage();
  auto alice = make_user("alice"), bob = make_user("bob");
  REQUIRE(storage->create_user(alice));
  REQUIRE(storage->create_user(bob));
  auto expired = make_message(alice.id, bob.id, sdk::Timestamp::now());
  expired.expires_at = sdk::Timestamp::now() - 1h;
  auto deleted = expired;
  deleted.id = sdk::Uuid::generate();
  deleted.is_deleted = true;
  auto live = make_message(alice.id, bob.id, sdk::Timestamp::now());
  live.expires_at = sdk::Timestamp::now() + 1h;
  REQUIRE(storage->insert_messages(std::vector{expired, deleted, live}));
  CHECK(test::wait_until([&] { return !storage->get_message(expired.id); }, 90s));
  CHECK(storage->get_message(deleted.id));
  CHECK(storage->get_message(live.id));
  // The run's own record says "running" until its transaction has ended, a moment after the row went.
  CHECK(test::wait_until(
      [&] { return sql("SELECT status FROM cron.job_run_details ORDER BY start_time DESC LIMIT 1") == "succeeded"; },
      30s));
  host.reset();
  std::filesystem::remove_all(dir);
  reset();
}

TEST_CASE("postgres: config/production.toml's storage, migrated and checked with the strata CLI", "[postgres][cli]") {
  test::TempDatabase db;
  auto dir = std::filesystem::temp_directory_path() / ("strata-cli-" + sdk::Uuid::generate().str());
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "pg.toml") << db.storage_table();
  auto config = (dir / "pg.toml").string();
  CHECK(test::run({strata::test::paths::strata_cli(), "--config", config, "check"}) == 1);  // not migrated yet
  CHECK(test::run({strata::test::paths::strata_cli(), "--config", config, "migrate", "up"}) == 0);
  CHECK(test::run({strata::test::paths::strata_cli(), "--config", config, "check"}) == 0);
  CHECK(test::run({strata::test::paths::strata_cli(), "--config", config, "migrate", "down", "1"}) == 0);
  CHECK(db.sql("SELECT max(version) FROM strata_schema_migrations") == std::to_string(latest_version - 1));
  CHECK(test::run({strata::test::paths::strata_cli(), "--config", config, "migrate", "up"}) == 0);
  CHECK(test::run({strata::test::paths::strata_cli(), "--config", config, "cleanup"}) == 0);
  std::filesystem::remove_all(dir);

  // The shipped production config, pointed at this database through the seed's variables.
  HostOptions options;
  options.env = test::fake_env({{"DB_NAME", db.name()}, {"DB_HOST", "127.0.0.1"}, {"DB_USER", "postgres"},
                                {"DB_PORT", std::to_string(test::postgres_port())},
                                {"DB_ENCRYPTION_KEY", test::test_key_hex}});
  auto host = Host::open_file(strata::test::paths::source_dir() + "/config/production.toml", options);
  REQUIRE(host);
  REQUIRE((*host)->storage());
  REQUIRE((*host)->storage()->migrate(latest_version));
  CHECK((*host)->storage()->health());
}

TEST_CASE("postgres: pg_dump and pg_restore take a hostile database name, password and path literally", "[postgres][backup]") {
  const std::string name = "strata test ';$(touch pwned)\" " + sdk::Uuid::generate().str().substr(0, 8);
  std::string quoted = "\"";
  for (char c : name) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  quoted += "\"";
  test::admin_sql("CREATE DATABASE " + quoted);
  auto dir = std::filesystem::temp_directory_path() / ("strata pg 'backup' $(touch pwned); " + sdk::Uuid::generate().str());
  std::filesystem::create_directories(dir);
  {
    HostOptions options;
    // The seed's variables; trust auth ignores the password, but it still travels (in PGPASSWORD).
    options.env = test::fake_env({{"DB_NAME", name}, {"DB_HOST", "127.0.0.1"}, {"DB_USER", "postgres"},
                                  {"DB_PORT", std::to_string(test::postgres_port())},
                                  {"DB_PASSWORD", "p@ss 'w\"ord; $(touch pwned)"}});
    auto host = test::open_host("[storage]\nplugin = \"postgres\"\n", options);
    auto storage = host->storage();
    REQUIRE(storage->migrate(latest_version));
    auto user = make_user("hostile", sdk::testing::now_ms());
    REQUIRE(storage->create_user(user));
    auto backup = storage->backup(dir);
    INFO((backup ? std::string() : backup.error().describe()));
    REQUIRE(backup);
    CHECK(backup->files == std::vector<std::string>{"postgres.dump"});
    CHECK(backup->counts.at("users") == 1);
    CHECK(backup->schema_version == std::to_string(latest_version));
    REQUIRE(storage->delete_user(user.id));
    CHECK_FALSE(storage->has_data().value());
    auto restored = storage->restore(dir);
    INFO((restored ? std::string() : restored.error().describe()));
    REQUIRE(restored);
    CHECK(restored->counts.at("users") == 1);
    CHECK(storage->get_user(user.id).value() == user);
    CHECK(storage->has_data().value());
  }
  CHECK_FALSE(std::filesystem::exists("pwned"));
  CHECK_FALSE(std::filesystem::exists(dir / "pwned"));
  test::admin_sql("DROP DATABASE " + quoted + " WITH (FORCE)");
  std::filesystem::remove_all(dir);
}

TEST_CASE("postgres: a backup's counts are the rows in its dump, while others write", "[postgres][backup][hardening]") {
  test::TempDatabase db, copy;
  auto host = test::open_host(db.storage_table());
  auto storage = migrated(*host);
  auto t0 = sdk::testing::now_ms();
  auto a = make_user("a", t0), b = make_user("b", t0);
  REQUIRE(storage->create_user(a));
  REQUIRE(storage->create_user(b));
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t)
    writers.emplace_back([&] {
      while (!stop)
        if (storage->insert_message(make_message(a.id, b.id, sdk::testing::now_ms()))) ++written;
    });
  while (written < 200) std::this_thread::sleep_for(5ms);
  auto dir = std::filesystem::temp_directory_path() / ("strata-pg-" + sdk::Uuid::generate().str());
  std::filesystem::create_directories(dir);
  auto backup = storage->backup(dir);
  stop = true;
  for (auto& w : writers) w.join();
  INFO((backup ? std::string() : backup.error().describe()));
  REQUIRE(backup);
  // The dump restored elsewhere holds exactly what the report counted.
  auto other = test::open_host(copy.storage_table());
  auto restored = other->storage()->restore(dir);
  INFO((restored ? std::string() : restored.error().describe()));
  REQUIRE(restored);
  CHECK(restored->counts == backup->counts);
  CHECK(copy.sql("SELECT count(*) FROM messages") == std::to_string(backup->counts.at("messages")));
  CHECK(backup->counts.at("messages") < static_cast<std::uint64_t>(written.load()));  // writes went on after it
  std::filesystem::remove_all(dir);
}

TEST_CASE("postgres: pg_dump sees no password in its argv and none of the host's secrets in its environment",
          "[postgres][backup][hardening]") {
  test::TempDatabase db;
  auto scratch = std::filesystem::temp_directory_path() / ("strata-pg-" + sdk::Uuid::generate().str());
  std::filesystem::create_directories(scratch);
  // A pg_dump that writes down what it was given, then runs the real one.
  auto wrapper = scratch / "pg_dump";
  std::ofstream(wrapper) << "#!/bin/sh\n"
                            "printf '%s\\n' \"$@\" > '" << (scratch / "argv").string() << "'\n"
                            "env > '" << (scratch / "env").string() << "'\n"
                            "stat -c %a \"$PGPASSFILE\" > '" << (scratch / "passfile-mode").string() << "'\n"
                            "cat \"$PGPASSFILE\" > '" << (scratch / "passfile").string() << "'\n"
                            "exec pg_dump \"$@\"\n";
  std::filesystem::permissions(wrapper, std::filesystem::perms::owner_all);
  ::setenv("DB_ENCRYPTION_KEY", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 1);
  // A conninfo URI with the password in it (trust auth ignores it, but it still travels).
  auto host = test::open_host("[storage]\nplugin = \"postgres\"\nconninfo = \"postgresql://postgres:hunter2-secret@127.0.0.1:" +
                              std::to_string(test::postgres_port()) + "/" + db.name() +
                              "\"\nbackup.pg_dump = \"" + wrapper.string() + "\"\n");
  REQUIRE(host->storage()->migrate(latest_version));
  auto backup = host->storage()->backup(scratch);
  ::unsetenv("DB_ENCRYPTION_KEY");
  INFO((backup ? std::string() : backup.error().describe()));
  REQUIRE(backup);
  std::string argv = test::read_file(scratch / "argv"), env = test::read_file(scratch / "env");
  INFO(argv);
  CHECK(argv.find("hunter2") == std::string::npos);
  CHECK(argv.find("dbname='" + db.name() + "'") != std::string::npos);
  CHECK(env.find("hunter2") == std::string::npos);
  CHECK(env.find("DB_ENCRYPTION_KEY") == std::string::npos);
  CHECK(env.find("PGPASSFILE=") != std::string::npos);
  CHECK(test::read_file(scratch / "passfile-mode") == "600\n");
  CHECK(test::read_file(scratch / "passfile") == "*:*:*:*:hunter2-secret\n");
  // The passfile is gone once pg_dump is done.
  auto at = env.find("PGPASSFILE=") + std::string("PGPASSFILE=").size();
  CHECK_FALSE(std::filesystem::exists(env.substr(at, env.find('\n', at) - at)));
  std::filesystem::remove_all(scratch);
}

TEST_CASE("postgres: a missing pg_dump is a clear error", "[postgres][backup]") {
  test::TempDatabase db;
  auto host = test::open_host(db.storage_table("backup.pg_dump = \"/nonexistent/pg_dump\"\n"));
  REQUIRE(host->storage()->migrate(latest_version));
  auto dir = std::filesystem::temp_directory_path() / ("strata-pg-" + sdk::Uuid::generate().str());
  std::filesystem::create_directories(dir);
  auto backup = host->storage()->backup(dir);
  REQUIRE_FALSE(backup);
  CHECK(backup.error().code == sdk::ErrorCode::unavailable);
  CHECK(backup.error().message.find("'/nonexistent/pg_dump' was not found") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("postgres: two hosts restoring into one database exclude each other until the lock is let go",
          "[postgres][backup][hardening]") {
  test::TempDatabase db;
  auto first = test::open_host(db.storage_table()), second = test::open_host(db.storage_table());
  auto storage = migrated(*first);
  REQUIRE(storage->hold_restore_lock(true));
  REQUIRE(storage->hold_restore_lock(true));  // taking it again while holding it is a no-op
  auto refused = second->storage()->hold_restore_lock(true);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == sdk::ErrorCode::conflict);
  CHECK(refused.error().message.find("another restore into ") != std::string::npos);
  CHECK(refused.error().message.find("(backend pid ") != std::string::npos);  // who holds it
  // The lock is a session's of its own: the pool's connections go on working.
  CHECK(second->storage()->create_user(make_user("during", sdk::testing::now_ms())));
  REQUIRE(storage->hold_restore_lock(false));
  REQUIRE(second->storage()->hold_restore_lock(true));
  // A host that goes away (its session closes) lets it go too.
  second.reset();
  CHECK(storage->hold_restore_lock(true));
  CHECK(storage->hold_restore_lock(false));
}
