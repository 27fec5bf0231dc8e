// PostgreSQL HA: Strata on a pg_auto_failover formation (a primary and a
// synchronous secondary, tools/pg-formation.sh) through the formation's
// multi-host URI, while 16 threads send. A planned failover and the
// primary's machine dying (SIGKILL of its keeper and postmaster) must lose
// and duplicate no acknowledged message; calls in the switch fail with
// `unavailable`/`timeout` or succeed late; the pool reconnects on its own.
// A subscriber following the recipient's inbox through the switch sees every
// message once, in order, without a gap.

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <cstdio>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "pg_formation.hpp"
#include <strata/sdk/testing/fixtures.hpp>

#include "inbox_ids.hpp"
#include "inbox_stream.hpp"
#include "strata/services.hpp"
#include "test_host.hpp"

using namespace std::chrono_literals;
using namespace strata;
using Clock = std::chrono::steady_clock;

namespace {

// The storage on the formation, the audit events in memory (relayed from the
// outbox that commits with each message), sessions and cache in memory.
std::string formation_config() {
  return "[storage]\nplugin = \"postgres\"\nconninfo = \"" + test::pg_formation("uri") +
         "\"\n"
         "[cache.default]\nplugin = \"memory\"\n[cache.session]\nplugin = \"memory\"\n"
         "[audit]\nplugin = \"memory\"\n"
         "[cipher]\nplugin = \"aes_gcm\"\nkey = \"" +
         test::test_key_hex +
         "\"\n"
         "[users]\nscrypt_log2_n = 10\n"
         // Long enough to outlast an unplanned failover (the monitor notices
         // in about 3 s, then waits primary_demote_timeout, 3 s here).
         "[group_commit]\nretry_ms = 15000\n"
         // Reads a subscriber's delivery retries after a failed one.
         "[delivery]\npoll_interval_ms = 200\n";
}

struct FormationServices {
  std::unique_ptr<Host> host;
  std::unique_ptr<Services> services;
  FormationServices() {
    test::require_formation();
    ::setenv("PGGSSENCMODE", "disable", 0);
    host = test::open_host(formation_config());
    REQUIRE(host->storage()->migrate(host->storage()->schema_status()->latest));
    auto opened = Services::open(*host, ServicesOptions{false});
    REQUIRE(opened);
    services = std::move(*opened);
  }
  sdk::User user(const std::string& prefix) {
    auto name = prefix + sdk::Uuid::generate().str().substr(0, 8);
    auto u = services->users().register_user(name, name + "@example.org", name + "-password", Origin{});
    INFO((u ? std::string() : u.error().describe()));
    REQUIRE(u);
    return *u;
  }
};

struct LoadOutcome {
  std::set<sdk::Uuid> acknowledged;
  std::size_t acknowledgements = 0;
  int unknown = 0;                       // unavailable/timeout: may or may not be stored
  int refused = 0;                       // conflict from a read-only server: certainly not stored
  std::vector<std::string> other_errors;  // anything else is a defect
  double unavailable_s = 0;               // the longest time without an acknowledgement
};

// 16 threads send from alice to bob until told to stop; `disrupt` runs on
// this thread after a second of steady load and returns once the formation
// has a new primary; the load goes on until sends have succeeded again for 2 s.
LoadOutcome send_through(FormationServices& s, const sdk::User& alice, const sdk::User& bob,
                         const std::function<void()>& disrupt) {
  LoadOutcome out;
  std::mutex mutex;
  std::vector<Clock::time_point> acked_at;
  std::atomic<bool> stop{false};
  {
    std::vector<std::jthread> senders;
    for (int t = 0; t < 16; ++t)
      senders.emplace_back([&, t] {
        for (int i = 0; !stop; ++i) {
          auto m = s.services->messages().send(alice, bob, "ha " + std::to_string(t) + "/" + std::to_string(i),
                                               std::nullopt, Origin{});
          std::lock_guard lock(mutex);
          if (m) {
            out.acknowledged.insert(m->id);
            ++out.acknowledgements;
            acked_at.push_back(Clock::now());
          } else if (m.error().code == sdk::ErrorCode::unavailable || m.error().code == sdk::ErrorCode::timeout) {
            ++out.unknown;
            std::this_thread::sleep_for(50ms);  // an application backing off
          } else if (m.error().code == sdk::ErrorCode::conflict &&
                     m.error().message.find("nothing was stored") != std::string::npos) {
            ++out.refused;  // the demoted primary refused it for the whole retry window
            std::this_thread::sleep_for(50ms);
          } else {
            out.other_errors.push_back(m.error().describe());
          }
        }
      });
    std::this_thread::sleep_for(1s);
    disrupt();
    // Until sends have gone through again for 2 s (at most a minute).
    auto give_up = Clock::now() + 60s;
    for (;;) {
      std::this_thread::sleep_for(250ms);
      std::lock_guard lock(mutex);
      if (!acked_at.empty() && Clock::now() - acked_at.back() < 250ms) {
        auto resumed = std::adjacent_find(acked_at.rbegin(), acked_at.rend(),
                                          [](auto later, auto earlier) { return later - earlier > 500ms; });
        if (resumed == acked_at.rend() || Clock::now() - *resumed > 2s) break;
      }
      if (Clock::now() > give_up) break;
    }
    stop = true;
  }
  std::sort(acked_at.begin(), acked_at.end());
  for (std::size_t i = 1; i < acked_at.size(); ++i)
    out.unavailable_s = std::max(out.unavailable_s, std::chrono::duration<double>(acked_at[i] - acked_at[i - 1]).count());
  return out;
}

// After the switch: every acknowledged message is on the new primary once,
// nothing else is but sends reported unknown, and each has one audit event.
// Returns how many messages the new primary holds.
std::size_t check_nothing_lost(FormationServices& s, const sdk::User& bob, const LoadOutcome& load) {
  INFO((load.other_errors.empty() ? std::string() : load.other_errors.front()));
  CHECK(load.other_errors.empty());
  CHECK(load.acknowledged.size() == load.acknowledgements);  // no id acknowledged twice
  auto stored = test::inbox_ids(*s.host->storage(), bob.id);
  std::set<sdk::Uuid> stored_set(stored.begin(), stored.end());
  CHECK(stored_set.size() == stored.size());
  std::size_t missing = 0;
  for (const auto& id : load.acknowledged) missing += stored_set.contains(id) ? 0 : 1;
  CHECK(missing == 0);
  CHECK(stored.size() >= load.acknowledged.size());
  CHECK(stored.size() - load.acknowledged.size() <= static_cast<std::size_t>(load.unknown));
  // The outbox committed with each row: one message.send event per stored message.
  s.services->audit().flush();
  for (auto deadline = Clock::now() + 60s; Clock::now() < deadline;) {
    auto left = s.host->storage()->outbox_size();
    REQUIRE(left);
    if (*left == 0) break;
    std::this_thread::sleep_for(100ms);
    s.services->audit().flush();
  }
  sdk::AuditQuery q;
  q.action = "message.send";
  q.limit = 100000;
  auto events = s.host->audit()->query(q);
  REQUIRE(events);
  std::map<std::string, int> per_message;  // resource "message:<id>" -> events
  for (const auto& e : *events) ++per_message[e.resource.substr(e.resource.find(':') + 1)];
  std::size_t without_one = 0;
  for (const auto& id : stored_set) without_one += per_message[id.str()] == 1 ? 0 : 1;
  CHECK(without_one == 0);
  return stored.size();
}

void report(const char* kind, FormationServices& s, const LoadOutcome& load, std::size_t found) {
  auto count = [&](const char* name) { return s.host->metrics()->counter(name, "").value(); };
  std::printf("%s failover under 16 sending threads: %zu acknowledged, %zu found after, %d unknown outcome, "
              "longest time without an acknowledgement %.2f s; %llu retries of cut-off writes, "
              "%llu found already committed\n",
              kind, load.acknowledgements, found, load.unknown, load.unavailable_s,
              static_cast<unsigned long long>(count("strata_group_commit_unknown_outcome_retries_total")),
              static_cast<unsigned long long>(count("strata_group_commit_found_committed_total")));
  std::fflush(stdout);
}

void wait_for_new_primary(const std::string& old_primary) {
  auto give_up = Clock::now() + 90s;
  for (;;) {
    auto now = test::pg_formation("primary");
    if (!now.empty() && now != old_primary) return;
    REQUIRE(Clock::now() < give_up);
    std::this_thread::sleep_for(250ms);
  }
}

// What a subscriber to the recipient's inbox saw through the switch.
struct Followed {
  std::mutex mutex;
  std::vector<sdk::Uuid> seen;
  int gaps = 0;
};

// Afterwards the subscriber has seen the recipient's whole stream, as read
// from the start on the new primary: every message once, in sequence
// order, and never a gap (the formation's synchronous standby keeps every
// commit, so the numbers go on where they were).
void check_followed(FormationServices& s, const sdk::User& bob, Followed& followed) {
  const auto stream = test::whole_stream(s.services->messages(), bob.id);
  auto seen_count = [&] {
    std::lock_guard lock(followed.mutex);
    return followed.seen.size();
  };
  for (auto deadline = Clock::now() + 60s; seen_count() < stream.size() && Clock::now() < deadline;)
    std::this_thread::sleep_for(50ms);
  std::lock_guard lock(followed.mutex);
  std::printf("subscriber: %zu of %zu messages seen, %d gaps\n", followed.seen.size(), stream.size(), followed.gaps);
  CHECK(followed.gaps == 0);
  CHECK(followed.seen == stream);
}

// 16 threads send while `disrupt` (a tools/pg-formation.sh command) moves the
// primary, and a subscriber follows the recipient's inbox; afterwards nothing
// acknowledged is missing or doubled, and the subscriber saw each message once.
void failover_under_load(const char* kind, const std::string& disrupt) {
  FormationServices s;
  auto alice = s.user("alice");
  auto bob = s.user("bob");
  Followed followed;
  auto subscription = s.services->messages().subscribe(
      bob.id, InboxCursor{},
      [&followed](const InboxUpdate& update) {
        std::lock_guard lock(followed.mutex);
        if (update.gap) ++followed.gaps;
        for (const auto& entry : update.entries) followed.seen.push_back(entry.envelope.id);
      },
      Origin{});
  REQUIRE(subscription);
  auto load = send_through(s, alice, bob, [&] {
    auto old_primary = test::pg_formation("primary");
    test::pg_formation(disrupt);
    wait_for_new_primary(old_primary);
  });
  auto found = check_nothing_lost(s, bob, load);
  report(kind, s, load, found);
  check_followed(s, bob, followed);
  subscription->reset();  // before `followed` goes
  CHECK(load.acknowledgements > 100);
}

}  // namespace

TEST_CASE("postgres HA: a planned failover under 16 sending threads loses and duplicates no acknowledged message",
          "[postgres][ha][failover]") {
  failover_under_load("planned", "failover");
}

TEST_CASE("postgres HA: the primary's machine dies (SIGKILL) under 16 sending threads, no acknowledged message is lost",
          "[postgres][ha][failover]") {
  failover_under_load("unplanned", "kill-primary");
  // The dead node comes back as the secondary (pg_rewind), for the tests after this one.
  test::pg_formation("heal");
}

namespace {

// A host on the formation whose reads may go to `replicas` (conninfos).
std::unique_ptr<Host> host_with_replicas(const std::vector<std::string>& replicas) {
  test::require_formation();
  ::setenv("PGGSSENCMODE", "disable", 0);
  std::string list;
  for (const auto& r : replicas) list += (list.empty() ? "\"" : ", \"") + r + "\"";
  auto host = test::open_host("[storage]\nplugin = \"postgres\"\nconninfo = \"" + test::pg_formation("uri") +
                              "\"\nreplicas = [" + list + "]\nreplica_retry_ms = 200\n");
  REQUIRE(host->storage()->migrate(host->storage()->schema_status()->latest));
  return host;
}

std::string standby_conninfo(const std::string& port) {
  return "host=127.0.0.1 port=" + port + " dbname=strata user=postgres";
}

// The gauge `name` for `replica` (or without labels when empty); -1 when absent.
double gauge(sdk::Storage& storage, const std::string& name, const std::string& replica = "") {
  auto gauges = storage.gauges();
  REQUIRE(gauges);
  for (const auto& g : *gauges)
    if (g.name == name && (replica.empty() ? g.labels.empty() : g.labels.count("replica") && g.labels.at("replica") == replica))
      return g.value;
  return -1;
}

bool inbox_has(sdk::Storage& storage, const sdk::Uuid& user, const sdk::Uuid& id) {
  auto ids = test::inbox_ids(storage, user);
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

TEST_CASE("postgres HA: with replay paused on the replica, a writer never reads stale data, "
          "readers that wrote nothing still use the replica",
          "[postgres][ha][replicas]") {
  const auto standby_port = test::pg_formation("secondary");
  REQUIRE_FALSE(standby_port.empty());
  const std::string replica_name = "127.0.0.1:" + standby_port + "/strata";
  auto writer_host = host_with_replicas({standby_conninfo(standby_port)});
  auto reader_host = host_with_replicas({standby_conninfo(standby_port)});
  auto& writer = *writer_host->storage();
  auto& reader = *reader_host->storage();
  auto alice = sdk::testing::make_user("alice" + sdk::Uuid::generate().str().substr(0, 8));
  auto bob = sdk::testing::make_user("bob" + sdk::Uuid::generate().str().substr(0, 8));
  REQUIRE(writer.create_user(alice));
  REQUIRE(writer.create_user(bob));
  // Read-your-writes: the writer sees its users at once, wherever it reads.
  REQUIRE(writer.get_user(bob.id));

  auto pause = [&](bool paused) {
    test::pg_formation_sql(standby_port, paused ? "SELECT pg_wal_replay_pause()" : "SELECT pg_wal_replay_resume()");
  };
  pause(true);
  struct Resume {
    std::function<void()> f;
    ~Resume() { f(); }
  } resume_at_exit{[&] { test::pg_formation_sql(standby_port, "SELECT pg_wal_replay_resume()"); }};

  const double reader_replica_reads = gauge(reader, "strata_postgres_replica_reads_total", replica_name);
  const double writer_fallbacks = gauge(writer, "strata_postgres_primary_fallback_reads_total");
  std::vector<sdk::Uuid> sent;
  for (int i = 0; i < 20; ++i) {
    auto m = sdk::testing::make_message(alice.id, bob.id, sdk::Timestamp::now());
    REQUIRE(writer.insert_message(m));
    sent.push_back(m.id);
    // Never stale: every read right after the write sees it.
    REQUIRE(writer.get_message(m.id));
    REQUIRE(inbox_has(writer, bob.id, m.id));
  }
  // The writer's reads went to the primary: the replica had not replayed its writes.
  CHECK(gauge(writer, "strata_postgres_primary_fallback_reads_total") >= writer_fallbacks + 40);
  CHECK(gauge(writer, "strata_postgres_replica_lag_bytes", replica_name) > 0);

  // The reader wrote nothing: the paused replica still serves it (and shows it the old inbox).
  CHECK_FALSE(inbox_has(reader, bob.id, sent.back()));
  CHECK(gauge(reader, "strata_postgres_replica_reads_total", replica_name) > reader_replica_reads);

  pause(false);
  // Once it has replayed the writer's position, the writer's reads return to the replica.
  const double writer_replica_reads = gauge(writer, "strata_postgres_replica_reads_total", replica_name);
  bool returned = false;
  for (auto give_up = Clock::now() + 30s; !returned && Clock::now() < give_up;) {
    REQUIRE(inbox_has(writer, bob.id, sent.back()));
    returned = gauge(writer, "strata_postgres_replica_reads_total", replica_name) > writer_replica_reads;
    if (!returned) std::this_thread::sleep_for(20ms);
  }
  CHECK(returned);
  CHECK(inbox_has(reader, bob.id, sent.back()));  // and the reader's view caught up
}

TEST_CASE("postgres HA: a replica that does not answer is skipped, reads go on, and it is probed again",
          "[postgres][ha][replicas]") {
  const auto standby_port = test::pg_formation("secondary");
  const int dead_port = test::free_port();
  auto host = host_with_replicas({"host=127.0.0.1 port=" + std::to_string(dead_port) + " dbname=strata user=postgres connect_timeout=1",
                                  standby_conninfo(standby_port)});
  auto& storage = *host->storage();
  auto carol = sdk::testing::make_user("carol" + sdk::Uuid::generate().str().substr(0, 8));
  REQUIRE(storage.create_user(carol));
  for (int i = 0; i < 20; ++i) REQUIRE(storage.get_user(carol.id));
  const std::string dead = "127.0.0.1:" + std::to_string(dead_port) + "/strata";
  CHECK(gauge(storage, "strata_postgres_replica_up", dead) == 0);
  CHECK(gauge(storage, "strata_postgres_replica_up", "127.0.0.1:" + standby_port + "/strata") == 1);
  // After replica_retry_ms the dead one is probed again (and skipped again): reads never fail.
  std::this_thread::sleep_for(300ms);
  for (int i = 0; i < 5; ++i) REQUIRE(storage.get_user(carol.id));
}
