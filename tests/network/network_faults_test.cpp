// The real backends behind toxiproxy (issue 29, item 2): a connection cut,
// added latency, a peer that resets, a server that stops answering. Each
// call fails with a code a caller can act on, within the plugin's
// timeouts, and the instance recovers on its own once the fault is gone.

#include <catch2/catch.hpp>

#include <chrono>

#include <strata/sdk/testing/fixtures.hpp>

#include "postgres_db.hpp"
#include "test_host.hpp"
#include "toxiproxy.hpp"

namespace strata::test {
namespace {

using namespace std::chrono_literals;

template <class F>
std::chrono::milliseconds timed(F&& f) {
  auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
}

bool down(sdk::ErrorCode code) { return code == sdk::ErrorCode::unavailable || code == sdk::ErrorCode::timeout; }

std::string redis_table(int port) {
  return "[cache.default]\nplugin = \"redis\"\nport = " + std::to_string(port) + "\nkey_prefix = \"net-" +
         sdk::Uuid::generate().str().substr(0, 8) +
         ":\"\nconnect_timeout_ms = 500\ncommand_timeout_ms = 500\n";
}

// A migrated database of the test's own, reached through the proxy "postgres".
struct PostgresBehindProxy {
  TempDatabase db;
  Toxiproxy toxiproxy;
  std::unique_ptr<Host> host;
  std::shared_ptr<sdk::Storage> storage;
  explicit PostgresBehindProxy(const std::string& more_keys = "") {
    const int port = toxiproxy.proxy("postgres", postgres_port());
    host = open_host(
        "[storage]\nplugin = \"postgres\"\nhost = \"127.0.0.1\"\nport = " + std::to_string(port) +
        "\nuser = \"postgres\"\ndbname = \"" + db.name() + "\"\npool.connect_timeout_ms = 500\n" + more_keys);
    storage = host->storage();
    REQUIRE(storage->migrate(storage->schema_status()->latest));
  }
};

}  // namespace

TEST_CASE("network: PostgreSQL behind a cut connection fails retryably, named, and recovers", "[network]") {
  PostgresBehindProxy pg;
  auto& [db, toxiproxy, host, storage] = pg;

  toxiproxy.enable("postgres", false);  // every connection closed, new ones refused
  auto cut = storage->get_user(sdk::Uuid::generate());
  REQUIRE_FALSE(cut);
  INFO(cut.error().describe());
  CHECK(down(cut.error().code));
  CHECK(cut.error().retryable);

  toxiproxy.enable("postgres", true);
  CHECK(wait_until([&] { return storage->schema_status().has_value(); }, 10s));
  auto user = sdk::testing::make_user("after-the-cut");
  REQUIRE(storage->create_user(user));
  CHECK(storage->get_user(user.id));
}

TEST_CASE("network: PostgreSQL with 100 ms of added latency answers, later", "[network]") {
  PostgresBehindProxy pg;
  auto& [db, toxiproxy, host, storage] = pg;
  toxiproxy.toxic("postgres", "slow", "latency", R"({"latency":100,"jitter":0})");
  sdk::Result<sdk::SchemaStatus> status;
  CHECK(timed([&] { status = storage->schema_status(); }) >= 100ms);  // a lower bound, never a ceiling
  CHECK(status);
  toxiproxy.remove("postgres", "slow");
  CHECK(storage->schema_status());
}

TEST_CASE("network: Redis that resets the connection fails retryably and recovers", "[network]") {
  require_redis();
  Toxiproxy toxiproxy;
  const int port = toxiproxy.proxy("redis", redis_port());
  auto host = open_host(redis_table(port));
  auto cache = host->cache();
  REQUIRE(cache->set("k", sdk::as_bytes(std::string("v")), std::nullopt));

  toxiproxy.toxic("redis", "reset", "reset_peer", R"({"timeout":0})");
  auto reset = cache->get("k");
  REQUIRE_FALSE(reset);
  INFO(reset.error().describe());
  CHECK(down(reset.error().code));

  toxiproxy.remove("redis", "reset");
  CHECK(wait_until([&] { return cache->get("k").has_value(); }, 10s));
  CHECK(cache->get("k").value() == std::optional<sdk::Bytes>(sdk::Bytes{'v'}));
}

TEST_CASE("network: PostgreSQL that stops answering fails as timeout within command_timeout_ms and recovers",
          "[network]") {
  PostgresBehindProxy pg("command_timeout_ms = 500\n");
  auto& [db, toxiproxy, host, storage] = pg;
  REQUIRE(storage->schema_status());

  // The connection stays open; nothing comes back (a hung server, a black-holed
  // route). Without command_timeout_ms the call waited until TCP gave up.
  toxiproxy.toxic("postgres", "silent", "timeout", R"({"timeout":0})");
  sdk::Result<sdk::User> silent;
  auto took = timed([&] { silent = storage->get_user(sdk::Uuid::generate()); });
  REQUIRE_FALSE(silent);
  INFO(silent.error().describe());
  CHECK(silent.error().code == sdk::ErrorCode::timeout);
  CHECK(silent.error().retryable);
  // The given-up connection is replaced, and the read retried: the new connection's
  // connect then times out against the same silence.
  CHECK(silent.error().message.find("within") != std::string::npos);
  CHECK(took >= 500ms);  // it waited its command_timeout_ms, not less

  // A write meets the same silence: timeout, outcome unknown, nothing hangs.
  auto user = sdk::testing::make_user("in-the-silence");
  auto write = storage->create_user(user);
  REQUIRE_FALSE(write);
  CHECK(down(write.error().code));

  // The given-up connections are dropped; new ones answer once the route is back.
  toxiproxy.remove("postgres", "silent");
  CHECK(wait_until([&] { return storage->schema_status().has_value(); }, 10s));
  user = sdk::testing::make_user("after-the-silence");
  REQUIRE(storage->create_user(user));
}

TEST_CASE("network: Redis that stops answering fails as timeout within command_timeout_ms and recovers",
          "[network]") {
  require_redis();
  Toxiproxy toxiproxy;
  const int port = toxiproxy.proxy("redis", redis_port());
  auto host = open_host(redis_table(port));
  auto cache = host->cache();
  REQUIRE(cache->set("k", sdk::as_bytes(std::string("v")), std::nullopt));

  // The connection stays open; nothing comes back (a hung server, a black-holed route).
  toxiproxy.toxic("redis", "silent", "timeout", R"({"timeout":0})");
  sdk::Result<std::optional<sdk::Bytes>> silent;
  auto took = timed([&] { silent = cache->get("k"); });
  REQUIRE_FALSE(silent);
  INFO(silent.error().describe());
  CHECK(down(silent.error().code));
  CHECK(took >= 500ms);  // it waited its command_timeout_ms, not less

  toxiproxy.remove("redis", "silent");
  CHECK(wait_until([&] { return cache->get("k").has_value(); }, 10s));
}

}  // namespace strata::test

namespace strata::test {

TEST_CASE("network: a MongoDB sink behind a cut connection fails retryably within its selection timeout, and recovers",
          "[network]") {
  require_mongodb();
  Toxiproxy toxiproxy;
  const int port = toxiproxy.proxy("mongodb", mongodb_port());
  const std::string database = "strata_net_" + sdk::Uuid::generate().str().substr(0, 8);
  auto host = open_host("[audit]\nplugin = \"mongodb\"\nuri = \"mongodb://127.0.0.1:" + std::to_string(port) + "/" +
                        database + "\"\nserver_selection_timeout_ms = 500\n");
  auto audit = host->audit();
  auto event = sdk::testing::make_event(sdk::testing::now_ms(), "network.test", std::nullopt);
  auto first = audit->append(std::vector{event});
  INFO((first ? std::string("appended") : first.error().describe()));
  REQUIRE(first);

  toxiproxy.enable("mongodb", false);
  event.id = sdk::Uuid::generate();
  auto cut = audit->append(std::vector{event});
  REQUIRE_FALSE(cut);
  INFO(cut.error().describe());
  CHECK(down(cut.error().code));
  CHECK(cut.error().retryable);

  toxiproxy.enable("mongodb", true);
  CHECK(wait_until([&] { return audit->append(std::vector{event}).has_value(); }, 20s));
  sdk::AuditQuery query;
  query.action = "network.test";
  CHECK(audit->count(query).value_or(0) == 2);
}

}  // namespace strata::test
