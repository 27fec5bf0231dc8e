// How the services use the roles: no second lookup of users the caller
// resolved, and backups that fail loudly when they cannot be audited.

#include <filesystem>

#include "strata/faults.hpp"
#include "strata/services.hpp"
#include "test_host.hpp"

namespace strata::test {
namespace {

// Calls of one operation so far, summed over roles, instances and outcomes.
std::uint64_t calls(const Host& host, const std::string& operation) {
  std::uint64_t total = 0;
  std::istringstream text(host.metrics()->prometheus());
  for (std::string line; std::getline(text, line);)
    if (line.starts_with("strata_plugin_calls_total{") && line.find("operation=\"" + operation + "\"") != std::string::npos)
      total += std::stoull(line.substr(line.rfind(' ') + 1));
  return total;
}

const std::string memory_services = "[storage]\nplugin = \"memory\"\n[cache.default]\nplugin = \"memory\"\n"
                                    "[audit]\nplugin = \"memory\"\n[cipher]\nplugin = \"aes_gcm\"\nkey = \"" +
                                    std::string(test_key_hex) + "\"\n[users]\nscrypt_log2_n = 10\n";

}  // namespace

TEST_CASE("messages: a send between users the caller resolved looks neither up again", "[services][messages]") {
  auto host = open_host(memory_services);
  auto services = std::move(Services::open(*host).value());
  auto alice = services->users().register_user("alice", "alice@example.org", "alice-password", Origin{}).value();
  auto bob = services->users().register_user("bob", "bob@example.org", "bob-password", Origin{}).value();
  auto lookups = [&] { return calls(*host, "get_user") + calls(*host, "get"); };

  auto before = lookups();
  auto inserts_before = calls(*host, "insert_sends");
  REQUIRE(services->messages().send(alice, bob, "resolved already", std::nullopt, Origin{}));
  CHECK(lookups() == before);
  // By id neither: the storage checks both users inside the commit (insert_sends).
  REQUIRE(services->messages().send(Outgoing{alice.id, bob.id, "by id", std::nullopt}, Origin{}));
  CHECK(lookups() == before);
  CHECK(calls(*host, "insert_sends") == inserts_before + 2);  // one storage call per send, nothing else

  auto gone = alice;
  gone.is_active = false;
  auto refused = services->messages().send(gone, bob, "no", std::nullopt, Origin{});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("deactivated") != std::string::npos);
}

TEST_CASE("users: deactivating and erasing need no session cache when there is none", "[services][erasure]") {
  // Without any cache there are no sessions: deactivating once failed, asking for a [cache.session].
  auto host = open_host("[storage]\nplugin = \"memory\"\n[audit]\nplugin = \"memory\"\n[cipher]\nplugin = \"aes_gcm\"\n"
                        "key = \"" + std::string(test_key_hex) + "\"\n[users]\nscrypt_log2_n = 10\n"
                        "[erasure]\nper_user_keys = true\n");
  auto services = std::move(Services::open(*host, ServicesOptions{false}).value());
  auto alice = services->users().register_user("alice", "alice@example.org", "alice-password", Origin{}).value();
  auto bob = services->users().register_user("bob", "bob@example.org", "bob-password", Origin{}).value();
  REQUIRE(services->messages().send(Outgoing{bob.id, alice.id, "hello", std::nullopt}, Origin{}));
  auto receipt = services->erasure().erase(alice.id, Origin{});
  INFO((receipt ? std::string() : receipt.error().describe()));
  REQUIRE(receipt);
  CHECK(receipt->data_keys_destroyed.size() == 1);
  CHECK_FALSE(receipt->sessions_revoked);
  REQUIRE(services->users().deactivate(bob.id, Origin{}));
  CHECK_FALSE(services->users().get(bob.id).value().is_active);
}

TEST_CASE("backup: with no data directory a restore refuses, writing nothing into the working directory",
          "[services][backup][hardening]") {
  // No [audit] and no STRATA_DATA_DIR, XDG_DATA_HOME or HOME: the restore lock once went to ./restore.lock.
  HostOptions nothing_set;
  nothing_set.env = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  auto host = open_host("[storage]\nplugin = \"memory\"\n", nothing_set);
  auto services = std::move(Services::open(*host, ServicesOptions{false}).value());
  auto refused = services->restore(std::filesystem::temp_directory_path() / "strata-backup-none", false);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == sdk::ErrorCode::invalid_argument);
  CHECK(refused.error().message.find("STRATA_DATA_DIR") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists("restore.lock"));
  CHECK_FALSE(unfinished_restore(*host));
}

TEST_CASE("backup: a backup or restore whose audit event cannot be recorded fails, naming what it did",
          "[services][backup]") {
  // The memory sink behind a fault rule: every append refused, as if it were down.
  auto host = open_host("[storage]\nplugin = \"memory\"\n[audit]\nplugin = \"faulty\"\nwraps = \"memory\"\n"
                        "on_failure = \"block\"\n[[audit.faults]]\nmethod = \"append\"\nerror = \"unavailable\"\n");
  auto services = std::move(Services::open(*host, ServicesOptions{false}).value());
  auto dir = std::filesystem::temp_directory_path() / ("strata-unaudited-" + sdk::Uuid::generate().str());
  std::filesystem::create_directories(dir);
  auto made = services->backup(BackupOptions{dir, false});
  REQUIRE_FALSE(made);
  INFO(made.error().describe());
  CHECK(made.error().message.find("was written, but its audit event could not be recorded") != std::string::npos);
  std::vector<std::filesystem::path> written;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) written.push_back(entry.path());
  REQUIRE(written.size() == 1);
  CHECK(made.error().message.find(written[0].string()) != std::string::npos);

  auto restored = services->restore(written[0], true);
  REQUIRE_FALSE(restored);
  CHECK(restored.error().message.find("was restored, but its audit event could not be recorded") != std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace strata::test

namespace strata::test {

TEST_CASE("audit: a spool belongs to its sink and is never replayed into another", "[services][audit][hardening]") {
  auto dir = std::filesystem::temp_directory_path() / ("strata-spools-" + sdk::Uuid::generate().str());
  HostOptions options;
  options.env = fake_env({{"STRATA_DATA_DIR", dir.string()}});
  {
    // A sink that is down (the memory sink, every append refused by a fault
    // rule): the events go to its spool (the file spool, not the storage's
    // outbox, which would keep them itself).
    auto host = open_host("[storage]\nplugin = \"memory\"\n[users]\nscrypt_log2_n = 10\n[audit]\nplugin = \"faulty\"\n"
                          "wraps = \"memory\"\non_failure = \"spool\"\noutbox = false\nflush_interval_ms = 10\n"
                          "[[audit.faults]]\nmethod = \"append\"\nerror = \"unavailable\"\n",
                          options);
    auto services = std::move(Services::open(*host, ServicesOptions{false}).value());
    REQUIRE(services->users().register_user("alice", "alice@example.org", "alice-password", Origin{}));
    services->audit().flush();
    CHECK(services->audit().spooled() > 0);
  }
  std::vector<std::filesystem::path> spools;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().extension() == ".jsonl") spools.push_back(entry.path());  // not the .paused marker
  REQUIRE(spools.size() == 1);
  CHECK(spools[0].filename().string().starts_with("audit-spool-memory-"));  // the wrapped sink's
  {
    // Another sink on the same data directory neither replays nor touches that spool.
    auto host = open_host("[storage]\nplugin = \"memory\"\n[audit]\nplugin = \"file_audit\"\npath = \"" +
                              (dir / "audit.jsonl").string() + "\"\n[users]\nscrypt_log2_n = 10\n",
                          options);
    auto services = std::move(Services::open(*host, ServicesOptions{false}).value());
    REQUIRE(services->users().register_user("bob", "bob@example.org", "bob-password", Origin{}));
    services->audit().flush();
    auto events = host->audit()->query(sdk::AuditQuery{}).value();
    REQUIRE_FALSE(events.empty());
    for (const auto& e : events) CHECK(e.metadata.find("alice") == std::string::npos);
    CHECK(host->effective_config().find("audit-spool-file_audit-") != std::string::npos);
  }
  CHECK(std::filesystem::file_size(spools[0]) > 0);  // still there for its own sink
  // A sink that never failed leaves no spool file: it exists only while it holds events.
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    CHECK_FALSE(entry.path().filename().string().starts_with("audit-spool-file_audit-"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("keys: a cipher key that opens nothing the storage holds under its id is refused at start",
          "[services][keys][hardening]") {
  auto dir = std::filesystem::temp_directory_path() / ("strata-keycheck-" + sdk::Uuid::generate().str());
  auto config = [&](const std::string& key) {
    return "[storage]\nplugin = \"sqlite\"\npath = \"" + (dir / "strata.db").string() +
           "\"\n[cache.default]\nplugin = \"memory\"\n[audit]\nplugin = \"memory\"\n"
           "[cipher]\nplugin = \"aes_gcm\"\nkey = \"" + key + "\"\n[users]\nscrypt_log2_n = 10\n";
  };
  const std::string original = test_key_hex;
  const std::string replaced(64, 'b');  // same key id ("default"), other material: a regenerated key file
  {
    auto host = open_host(config(original));
    auto services = std::move(Services::open(*host).value());
    auto alice = services->users().register_user("alice", "alice@example.org", "alice-password", Origin{}).value();
    auto bob = services->users().register_user("bob", "bob@example.org", "bob-password", Origin{}).value();
    REQUIRE(services->keys().rotate(alice.id, Origin{}));
    REQUIRE(services->messages().send(alice, bob, "sealed under the original key", std::nullopt, Origin{}));
    REQUIRE(services->messages().send(bob, alice, "and another", std::nullopt, Origin{}));
  }
  {
    auto host = open_host(config(replaced));
    auto refused = Services::open(*host);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == sdk::ErrorCode::auth_failed);
    CHECK(refused.error().message.find("the cipher's key 'default' opens none of the 3 newest items") !=
          std::string::npos);
    CHECK(refused.error().message.find("Nothing was written") != std::string::npos);
  }
  {  // the original key still opens everything; nothing was sealed under the other one
    auto host = open_host(config(original));
    REQUIRE(Services::open(*host));
    CHECK(host->storage()->count_messages_not_under_key("default").value() == 0);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("sessions: a revoked token stays revoked after the clock was stepped back", "[services][sessions][hardening]") {
  // An NTP step or a VM restored from a snapshot: the session was made at a
  // time the clock later returns from. Its revoke's durable record carried
  // the revoking time, older than the session, so once the session cache came
  // back from a snapshot the token was valid again.
  auto clock = std::make_shared<sdk::ManualClock>();
  HostOptions options;
  options.clock = clock;
  auto host = open_host(memory_services, options);
  auto services = std::move(Services::open(*host, ServicesOptions{false}).value());
  auto alice = services->users().register_user("alice", "alice@example.org", "alice-password", Origin{}).value();
  clock->advance(std::chrono::hours(1));
  auto session = services->sessions().create(alice.id, Origin{}).value();
  auto snapshot = std::filesystem::temp_directory_path() / ("strata-clock-step-" + sdk::Uuid::generate().str());
  std::filesystem::create_directories(snapshot);
  auto cache = host->cache("default");
  REQUIRE(cache->backup(snapshot));
  clock->advance(-std::chrono::hours(1));
  REQUIRE(services->sessions().revoke(session.token, Origin{}));
  REQUIRE(cache->restore(snapshot));  // the token is back in the cache
  std::filesystem::remove_all(snapshot);
  auto after = services->sessions().get(session.token);
  REQUIRE_FALSE(after);
  CHECK(after.error().code == sdk::ErrorCode::auth_failed);
  // A session made after the revoke, at the stepped-back time, is untouched.
  auto later = services->sessions().create(alice.id, Origin{}).value();
  CHECK(services->sessions().get(later.token));
}

TEST_CASE(
    "sessions: the expiry a call reports is never before the cache's, when the clock steps forward during it",
    "[services][sessions][hardening]") {
  // The memory cache counts a TTL from its own reading of the host's clock.
  // create() read the clock before the cache did; a step forward in between
  // (found by chaos rounds with clock jumps) made the reported expiry an
  // hour early, and the session stayed valid past it. touch() is checked the
  // same way.
  auto clock = std::make_shared<sdk::ManualClock>();
  HostOptions options;
  options.clock = clock;
  auto host = open_host(
      "[storage]\nplugin = \"memory\"\n[cache.default]\nplugin = \"faulty\"\nwraps = \"memory\"\n"
      "[audit]\nplugin = \"memory\"\n[cipher]\nplugin = \"aes_gcm\"\nkey = \"" +
          std::string(test_key_hex) + "\"\n[users]\nscrypt_log2_n = 10\n",
      options);
  auto services = std::move(Services::open(*host, ServicesOptions{false}).value());
  auto alice =
      services->users().register_user("alice", "alice@example.org", "alice-password", Origin{}).value();
  auto faults = host->faults(sdk::Role::cache);
  REQUIRE(faults);
  auto step_forward_in = [&](const char* method) {
    FaultRule step;
    step.method = method;
    step.on_hit = [&](std::string_view) { clock->advance(std::chrono::hours(1)); };
    faults->set({step});
  };
  // Moves the clock to just past `expiry`.
  auto just_past = [&](sdk::Timestamp expiry) {
    clock->advance(std::chrono::microseconds(expiry.micros() - clock->now().micros()) +
                   std::chrono::seconds(1));
  };

  step_forward_in("set");
  auto created = services->sessions().create(alice.id, Origin{}).value();
  faults->clear();
  just_past(created.expires_at);
  CHECK_FALSE(services->sessions().get(created.token));

  auto touched = services->sessions().create(alice.id, Origin{}).value();
  step_forward_in("expire");
  auto extended = services->sessions().touch(touched.token).value();
  faults->clear();
  just_past(extended.expires_at);
  CHECK_FALSE(services->sessions().get(touched.token));
}

TEST_CASE("audit: a storage that cannot answer at open fails the open instead of going on without the outbox",
          "[services][audit][outbox][hardening]") {
  // The outbox is asked for at open. A failure to answer (a PostgreSQL
  // failover) made the process go on without it: every send's event then
  // travelled outside the send's transaction, and a process killed between
  // the two lost it (found by chaos rounds with failovers and SIGKILLs).
  auto config = [](const char* error) {
    return "[storage]\nplugin = \"faulty\"\nwraps = \"memory\"\n[[storage.faults]]\nmethod = "
           "\"outbox_size\"\n"
           "error = \"" +
           std::string(error) +
           "\"\n[audit]\nplugin = \"memory\"\n[cipher]\nplugin = \"aes_gcm\"\n"
           "key = \"" +
           std::string(test_key_hex) + "\"\n[users]\nscrypt_log2_n = 10\n";
  };
  auto down = open_host(config("unavailable"));
  auto refused = Services::open(*down, ServicesOptions{false});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == sdk::ErrorCode::unavailable);
  CHECK(refused.error().message.find("cannot tell whether the storage keeps the audit outbox") !=
        std::string::npos);
  down->faults(sdk::Role::storage)->clear();  // it answers again: the next try opens, with the outbox
  auto opened = Services::open(*down, ServicesOptions{false});
  REQUIRE(opened);
  CHECK((*opened)->audit().uses_outbox());

  // A storage that keeps no outbox says so, and the services open without it.
  auto without = open_host(config("unsupported"));
  auto plain = Services::open(*without, ServicesOptions{false});
  REQUIRE(plain);
  CHECK_FALSE((*plain)->audit().uses_outbox());
}

}  // namespace strata::test
