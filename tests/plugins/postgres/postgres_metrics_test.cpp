// The /metrics endpoint of a host on the real servers: the OpenTelemetry
// database convention's labels as the PostgreSQL and Redis plugins name their
// databases, the connection pool's gauges, and the storage's outbox backlog,
// scraped by curl while calls run and after a plugin error.

#include <atomic>
#include <set>
#include <thread>

#include "postgres_db.hpp"
#include "scrape.hpp"
#include "strata/host.hpp"
#include "test_host.hpp"

using namespace strata;

TEST_CASE("postgres metrics: the convention's labels, pool gauges and outbox backlog on the endpoint",
          "[postgres][metrics]") {
  test::TempDatabase db;
  test::require_redis();
  const std::string prefix = "strata-metrics-" + sdk::Uuid::generate().str().substr(0, 8) + ":";
  auto host = test::open_host(db.storage_table("pool.max = 4\n") + "[cache.default]\nplugin = \"redis\"\nport = " +
                              std::to_string(test::redis_port()) + "\nkey_prefix = \"" + prefix +
                              "\"\n[metrics]\nlisten = \"127.0.0.1:0\"\n");
  auto storage = host->storage();
  REQUIRE(storage->migrate(storage->schema_status()->latest));
  auto address = host->metrics_address();
  REQUIRE(address);

  // Calls from four threads while the endpoint is scraped.
  std::atomic<bool> stop{false};
  std::vector<std::thread> load;
  for (int t = 0; t < 4; ++t)
    load.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        (void)storage->schema_status();
        (void)host->cache("default")->set("k" + std::to_string(t), sdk::as_bytes(std::string("v")), std::nullopt);
      }
    });
  std::string text;
  for (int i = 0; i < 3; ++i) text = test::scrape(*address);
  stop = true;
  for (auto& t : load) t.join();
  REQUIRE_FALSE(storage->get_user(sdk::Uuid::generate()));  // a plugin error: not_found
  REQUIRE(storage->outbox_size());
  text = test::scrape(*address);

  // The table: each family, its type, and the labels each of its series carries.
  const std::map<std::string, std::pair<std::string, std::set<std::string>>> expected{
      {"db_client_operation_duration_seconds",
       {"histogram",
        {"db_system_name", "db_namespace", "db_operation_name", "server_address", "server_port", "strata_role",
         "strata_instance"}}},
      {"db_client_connection_count",
       {"gauge", {"db_client_connection_pool_name", "db_client_connection_state", "role", "instance"}}},
      {"db_client_connection_max", {"gauge", {"db_client_connection_pool_name", "role", "instance"}}},
      {"db_client_connection_pending_requests", {"gauge", {"db_client_connection_pool_name"}}},
      {"db_client_connection_timeouts_total", {"counter", {"db_client_connection_pool_name"}}},
      {"strata_audit_outbox_events", {"gauge", {"role", "instance"}}},
      {"strata_plugin_calls_total", {"counter", {"role", "instance", "operation", "outcome"}}},
  };
  auto types = test::types_of(text);
  auto samples = test::samples_of(text);
  for (const auto& [name, want] : expected) {
    INFO(name);
    CHECK(types[name] == want.first);
    int found = 0;
    for (const auto& s : samples) {
      if (s.name != name && s.name != name + "_bucket" && s.name != name + "_count" && s.name != name + "_sum")
        continue;
      ++found;
      for (const auto& label : want.second) CHECK(s.labels.count(label) == 1);
    }
    CHECK(found > 0);
  }

  std::set<std::string> systems;
  bool error_seen = false;
  for (const auto& s : samples) {
    if (s.name == "db_client_operation_duration_seconds_count") {
      systems.insert(s.labels.at("db_system_name"));
      if (s.labels.at("db_system_name") == "postgresql") {
        CHECK(s.labels.at("db_namespace") == db.name());
        CHECK(s.labels.at("server_address") == "127.0.0.1");
        CHECK(s.labels.at("server_port") == std::to_string(test::postgres_port()));
      } else {
        CHECK(s.labels.at("db_namespace") == "0");  // the Redis database index
        CHECK(s.labels.at("server_port") == std::to_string(test::redis_port()));
      }
      if (s.labels.at("db_operation_name") == "get_user" && s.labels.count("error_type")) {
        CHECK(s.labels.at("error_type") == "not_found");
        CHECK(s.value == "1");
        error_seen = true;
      }
    }
    if (s.name == "db_client_connection_max" && s.labels.at("db_client_connection_pool_name") == "primary")
      CHECK(s.value == "4");
    if (s.name == "db_client_connection_count" && s.labels.at("db_client_connection_state") == "idle")
      CHECK(std::stoi(s.value) >= 1);  // the four threads' connections went back to the pool
  }
  CHECK(systems == std::set<std::string>{"postgresql", "redis"});
  CHECK(error_seen);
}
