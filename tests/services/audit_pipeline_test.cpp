// The services' audit pipeline against a MongoDB sink that goes away:
// a FerretDB server of the test's own, stopped and started mid-test.

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "json_codec.hpp"
#include "mongo_db.hpp"
#include "own_ferretdb.hpp"
#include "strata/services.hpp"
#include "test_host.hpp"

using namespace std::chrono_literals;
using namespace strata;

namespace {

struct Pipeline {
  // `outbox`: events through the storage's transactional outbox (memory
  // storage here); otherwise the in-memory queue and the spool file.
  Pipeline(test::OwnFerretDb& server, const std::string& policy, bool outbox = false)
      : dir(std::filesystem::temp_directory_path() / ("strata-pipeline-" + sdk::Uuid::generate().str())),
        db(server.port()) {
    std::filesystem::create_directories(dir);
    std::string config = "[storage]\nplugin = \"memory\"\n[cache.default]\nplugin = \"memory\"\n"
                         "[cipher]\nplugin = \"aes_gcm\"\nkey = \"" + test::test_key_hex + "\"\n" +
                         db.table("[audit]", "server_selection_timeout_ms = 500\non_failure = \"" + policy +
                                                 "\"\noutbox = " + (outbox ? "true" : "false") + "\nbatch_size = 8\nflush_interval_ms = 20\nspool_path = \"" +
                                                 (dir / "spool.jsonl").string() + "\"\n") +
                         "[users]\nscrypt_log2_n = 10\n";
    host = test::open_host(config);
    services = std::move(Services::open(*host, ServicesOptions{false}).value());
    alice = services->users().register_user("alice", "alice@example.org", "alice-password", Origin{}).value();
    bob = services->users().register_user("bob", "bob@example.org", "bob-password", Origin{}).value();
    services->audit().flush();
  }
  ~Pipeline() {
    services.reset();
    host.reset();
    std::filesystem::remove_all(dir);
  }
  sdk::Result<sdk::Message> send(int i) {
    return services->messages().send({alice.id, bob.id, "message " + std::to_string(i), std::nullopt}, Origin{});
  }
  std::vector<sdk::AuditEvent> sends() {
    sdk::AuditQuery q;
    q.action = "message.send";
    q.limit = 10000;
    return host->audit()->query(q).value();
  }
  // The sink holds `n` message.send events, one per message, newest first.
  void check_sends_once_in_order(std::size_t n) {
    auto events = sends();
    std::set<sdk::Uuid> ids;
    std::set<std::string> resources;
    for (const auto& e : events) {
      ids.insert(e.id);
      resources.insert(e.resource);
    }
    CHECK(events.size() == n);  // every send exactly once
    CHECK(ids.size() == n);
    CHECK(resources.size() == n);
    for (std::size_t i = 1; i < events.size(); ++i) CHECK(events[i - 1].timestamp >= events[i].timestamp);
  }

  std::filesystem::path dir;
  test::TempMongoDatabase db;
  std::unique_ptr<Host> host;
  std::unique_ptr<Services> services;
  sdk::User alice, bob;
};

}  // namespace

TEST_CASE("audit pipeline: spool while the sink is down, replay in order exactly once when it returns", "[audit][fault]") {
  test::OwnFerretDb server;
  Pipeline p(server, "spool");
  REQUIRE(p.send(0));
  p.services->audit().flush();

  server.stop();
  for (int i = 1; i <= 30; ++i) REQUIRE(p.send(i));  // nothing fails: the events wait in the spool
  p.services->audit().flush();
  CHECK(p.services->audit().spooled() > 0);
  CHECK(std::filesystem::file_size(p.dir / "spool.jsonl") > 0);

  server.start();
  REQUIRE(test::wait_until([&] { return p.services->audit().spooled() == 0; }, 30s));
  REQUIRE(p.send(31));
  p.services->audit().flush();
  p.check_sends_once_in_order(32);
  CHECK_FALSE(std::filesystem::exists(p.dir / "spool.jsonl"));  // it exists only while it holds events
}

TEST_CASE("audit pipeline: with the outbox, events wait in the storage while the sink is down, relayed in order exactly "
          "once when it returns", "[audit][fault][outbox]") {
  test::OwnFerretDb server;
  Pipeline p(server, "spool", true);
  REQUIRE(p.services->audit().uses_outbox());
  REQUIRE(p.send(0));
  p.services->audit().flush();
  CHECK(p.host->storage()->outbox_size().value() == 0);

  server.stop();
  for (int i = 1; i <= 30; ++i) REQUIRE(p.send(i));  // nothing fails: each event is committed to the outbox
  p.services->audit().flush();
  CHECK(p.host->storage()->outbox_size().value() == 30);
  CHECK_FALSE(std::filesystem::exists(p.dir / "spool.jsonl"));

  server.start();
  REQUIRE(test::wait_until([&] { return p.host->storage()->outbox_size().value() == 0; }, 30s));
  REQUIRE(p.send(31));
  p.services->audit().flush();
  p.check_sends_once_in_order(32);
}

TEST_CASE("audit pipeline: block fails the operation closed while the sink is down", "[audit][fault]") {
  test::OwnFerretDb server;
  Pipeline p(server, "block");
  REQUIRE(p.send(0));
  server.stop();
  auto refused = p.send(1);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == sdk::ErrorCode::unavailable);
  CHECK(refused.error().message.find("on_failure = \"block\"") != std::string::npos);
  auto inbox = p.services->messages().inbox(p.bob.id, sdk::PageRequest{}, Origin{});
  CHECK_FALSE(inbox);  // the inbox read is audited too, so it is refused as well
  server.start();
  REQUIRE(test::wait_until([&] { return p.host->audit()->health().has_value(); }, 30s));
  auto visible = p.services->messages().inbox(p.bob.id, sdk::PageRequest{}, Origin{});
  REQUIRE(visible);
  CHECK(visible->items.size() == 1);  // the unaudited message did not stay visible
  CHECK(p.sends().size() == 1);
}

TEST_CASE("audit pipeline: drop loses events while the sink is down and counts them", "[audit][fault]") {
  test::OwnFerretDb server;
  Pipeline p(server, "drop");
  server.stop();
  for (int i = 0; i < 5; ++i) REQUIRE(p.send(i));
  p.services->audit().flush();
  CHECK(p.host->metrics()->prometheus().find("strata_audit_events_total{outcome=\"dropped\"} 5") != std::string::npos);
  bool spooled = std::filesystem::exists(p.dir / "spool.jsonl") && std::filesystem::file_size(p.dir / "spool.jsonl") > 0;
  CHECK_FALSE(spooled);
}

TEST_CASE("audit pipeline: a spool left by a crashed process is replayed once, events already sent not doubled", "[audit][fault]") {
  test::OwnFerretDb server;
  auto dir = std::filesystem::temp_directory_path() / ("strata-spool-" + sdk::Uuid::generate().str());
  std::filesystem::create_directories(dir);
  test::TempMongoDatabase db(server.port());
  auto host = test::open_host(db.table("[audit]", "spool_path = \"" + (dir / "spool.jsonl").string() + "\"\n"));
  // 10 events in the spool; the crash came after the first 4 reached the sink; the last line is torn.
  std::vector<sdk::AuditEvent> events;
  for (int i = 0; i < 10; ++i) {
    sdk::AuditEvent e;
    e.id = sdk::Uuid::generate();
    e.timestamp = sdk::Timestamp::now() + std::chrono::milliseconds(i);
    e.ip = "local";
    e.action = "test.event";
    e.resource = "n:" + std::to_string(i);
    events.push_back(e);
  }
  REQUIRE(host->audit()->append(std::span(events).first(4)));
  {
    std::ofstream spool(dir / "spool.jsonl");
    for (const auto& e : events) spool << detail::event_to_json(e).dump() << "\n";
    spool << "{\"id\":\"torn";
  }
  AuditLog log(host->audit(), read_service_settings(*host).value().audit, host->clock(), host->metrics(),
               host->log());
  CHECK(log.spooled() == 10);
  REQUIRE(test::wait_until([&] { return log.spooled() == 0; }, 30s));
  sdk::AuditQuery q;
  q.action = "test.event";
  CHECK(host->audit()->count(q).value() == 10);
  std::filesystem::remove_all(dir);
}

TEST_CASE("audit pipeline: while the sink is down, processes after the first do not wait for it", "[audit][fault][hardening]") {
  auto dir = std::filesystem::temp_directory_path() / ("strata-pipeline-" + sdk::Uuid::generate().str());
  std::filesystem::create_directories(dir);
  std::string config = "[storage]\nplugin = \"memory\"\n[cipher]\nplugin = \"aes_gcm\"\nkey = \"" + test::test_key_hex +
                       "\"\n[users]\nscrypt_log2_n = 10\n[audit]\nplugin = \"faulty\"\nwraps = \"memory\"\noutbox = false\n"
                       "flush_interval_ms = 20\nspool_path = \"" + (dir / "spool.jsonl").string() +
                       "\"\n[[audit.faults]]\nmethod = \"append\"\nerror = \"unavailable\"\n";
  // How often a process asked the sink (every outcome of audit.append and append_metrics).
  auto sink_calls = [](Host& host) {
    std::istringstream text(host.metrics()->prometheus());
    double calls = 0;
    for (std::string line; std::getline(text, line);)
      if (line.starts_with("strata_plugin_calls_total{") && line.find("role=\"audit\"") != std::string::npos &&
          line.find("operation=\"append") != std::string::npos)
        calls += std::stod(line.substr(line.rfind(' ') + 1));
    return calls;
  };
  // One short-lived process after another, as CLI commands are.
  HostOptions options;
  auto process = [&](const std::string& name) {
    auto host = test::open_host(config, options);
    {
      auto services = std::move(Services::open(*host, ServicesOptions{false}).value());
      REQUIRE(services->users().register_user(name, name + "@example.org", name + "-password", Origin{}));
    }
    return sink_calls(*host);
  };
  CHECK(process("alice") == 1);  // finds the sink down: once, not again for the replay at exit
  CHECK(process("bob") == 0);    // knows: spools at once
  std::ifstream spool(dir / "spool.jsonl");
  CHECK(std::count(std::istreambuf_iterator<char>(spool), {}, '\n') == 2);  // nothing lost
  std::filesystem::remove_all(dir);
}

TEST_CASE(
    "audit pipeline: a sink paused while the storage reads an outbox batch leaves the batch in the outbox",
    "[audit][fault][outbox][hardening]") {
  // The relay checks that the sink may answer, then the storage reads a batch
  // and hands it over. Another thread's failed append can pause the sink in
  // between; the events were then counted as dropped and their rows deleted,
  // whatever the policy (found by chaos rounds with network faults and
  // SIGKILLs). A barrier in the storage's drain_outbox makes that happen here
  // every time.
  auto dir = std::filesystem::temp_directory_path() / ("strata-pipeline-" + sdk::Uuid::generate().str());
  std::filesystem::create_directories(dir);
  // [group_commit] retry_ms = 0: the other thread's outbox write fails at once, not after retries.
  std::string config =
      "[storage]\nplugin = \"faulty\"\nwraps = \"memory\"\n[group_commit]\nretry_ms = 0\n"
      "[cipher]\nplugin = \"aes_gcm\"\nkey = \"" +
      test::test_key_hex +
      "\"\n[users]\nscrypt_log2_n = 10\n[audit]\nplugin = \"faulty\"\nwraps = \"memory\"\n"
      "outbox = true\non_failure = \"spool\"\nbatch_size = 100\nflush_interval_ms = 3600000\n"
      "spool_path = \"" +
      (dir / "spool.jsonl").string() + "\"\n";
  auto host = test::open_host(config);
  auto services = std::move(Services::open(*host, ServicesOptions{false}).value());
  auto& audit = services->audit();
  auto alice =
      services->users().register_user("alice", "alice@example.org", "alice-password", Origin{}).value();
  auto bob = services->users().register_user("bob", "bob@example.org", "bob-password", Origin{}).value();
  audit.flush();
  REQUIRE(audit.uses_outbox());
  std::set<std::string> sent;
  for (int i = 0; i < 3; ++i)
    sent.insert("message:" +
                services->messages().send({alice.id, bob.id, "m", std::nullopt}, Origin{}).value().id.str());
  REQUIRE(host->storage()->outbox_size().value() == 3);

  auto storage_faults = host->faults(sdk::Role::storage);
  auto sink_faults = host->faults(sdk::Role::audit);
  FaultRule failing;
  failing.error = sdk::ErrorCode::unavailable;
  std::thread other;
  bool paused = false;
  std::chrono::steady_clock::time_point pause_began;
  FaultRule barrier;
  barrier.method = "drain_outbox";
  barrier.on_hit = [&](std::string_view) {
    // The relay found the sink answering and holds the relay lock. Another
    // thread's event takes the in-memory way (the storage fails its outbox
    // write), its delivery fails, and the sink is paused.
    pause_began = std::chrono::steady_clock::now();
    storage_faults->set({failing});
    sink_faults->set({failing});
    (void)audit.record(AuditRecord{alice.id, "test.event", "test:other-thread"}, Origin{});
    other = std::thread([&] { audit.flush(); });
    paused = test::wait_until([&] { return audit.sink_paused(); }, 30s);
    storage_faults->clear();
    sink_faults->clear();  // answering again: only the pause stands between the batch and the sink
  };
  storage_faults->set({barrier});
  audit.flush();
  auto relayed_after = std::chrono::steady_clock::now() - pause_began;
  other.join();
  REQUIRE(paused);
  CHECK(sink_faults->injected() == 1);  // the other thread's append, nothing else
  // The pause lasts a second; the relay's callback ran within it only if the flush came back sooner.
  if (relayed_after >= 900ms) FAIL("the relay came back after the pause ended, so it did not meet it: rerun");

  // The batch waits for the sink and reaches it once, with the other thread's spooled event.
  REQUIRE(test::wait_until([&] { return !audit.sink_paused(); }, 30s));
  audit.flush();
  REQUIRE(audit.replay_spool());
  CHECK(audit.spooled() == 0);
  CHECK(host->storage()->outbox_size().value() == 0);
  sdk::AuditQuery q;
  q.limit = 1000;
  std::multiset<std::string> reached;
  auto trail = host->audit()->query(q).value();
  for (const auto& e : trail)
    if (e.action == "message.send" || e.action == "test.event") reached.insert(e.resource);
  for (const auto& resource : sent) CHECK(reached.count(resource) == 1);
  CHECK(reached.count("test:other-thread") == 1);
  CHECK(reached.size() == 4);
  services.reset();
  host.reset();
  std::filesystem::remove_all(dir);
}
