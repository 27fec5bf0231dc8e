// The /metrics endpoint ([metrics] listen): scraped by a real HTTP client
// (curl) while plugin calls run, checked against a table of the series the
// host must expose, and again after a plugin error.

#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "scrape.hpp"
#include "strata/services.hpp"
#include "test_host.hpp"

namespace strata::test {
namespace {

const std::string memory_host = "[storage]\nplugin = \"memory\"\n[cache.default]\nplugin = \"memory\"\n"
                                "[audit]\nplugin = \"memory\"\n[metrics]\nlisten = \"127.0.0.1:0\"\n";

}  // namespace

TEST_CASE("metrics endpoint: off unless asked for", "[metrics][endpoint]") {
  auto host = open_host("[storage]\nplugin = \"memory\"\n");
  CHECK_FALSE(host->metrics_address());
}

TEST_CASE("metrics endpoint: scraped during a load, names, types, buckets and labels as the table says",
          "[metrics][endpoint]") {
  auto host = open_host(memory_host);
  auto address = host->metrics_address();
  REQUIRE(address);
  REQUIRE(address->starts_with("127.0.0.1:"));
  CHECK(std::stoi(address->substr(10)) > 0);

  std::atomic<bool> stop{false};
  std::thread load([&] {
    auto cache = host->cache("default");
    for (int i = 0; !stop; ++i) {
      (void)cache->set("key" + std::to_string(i % 100), sdk::as_bytes(std::string("value")), std::nullopt);
      (void)cache->get("key" + std::to_string(i % 100));
    }
  });
  std::string text;
  for (int i = 0; i < 5; ++i) text = scrape(*address);  // scrapes while calls run
  stop = true;
  load.join();

  // The table: family, type, and labels every series carries.
  const std::map<std::string, std::pair<std::string, std::set<std::string>>> expected{
      {"strata_plugin_calls_total", {"counter", {"role", "instance", "operation", "outcome"}}},
      {"strata_plugin_call_duration_seconds", {"histogram", {"role", "instance", "operation"}}},
  };
  auto types = types_of(text);
  for (const auto& [name, want] : expected) {
    INFO(name);
    CHECK(types[name] == want.first);
    std::istringstream in(text);
    int found = 0;
    for (std::string line; std::getline(in, line);) {
      // name[_bucket|_sum|_count]{labels} value
      auto brace = line.find('{');
      if (line.starts_with("#") || brace == std::string::npos || !line.starts_with(name)) continue;
      auto suffix = line.substr(name.size(), brace - name.size());
      if (!suffix.empty() && suffix != "_bucket" && suffix != "_sum" && suffix != "_count") continue;
      ++found;
      auto labels = line.substr(brace, line.find('}') - brace);
      for (const auto& label : want.second) CHECK(labels.find(label + "=\"") != std::string::npos);
    }
    CHECK(found > 0);
  }
  CHECK(text.find("strata_plugin_calls_total{instance=\"default\",operation=\"set\",outcome=\"ok\",role=\"cache\"}") !=
        std::string::npos);
  // Every bucket the histogram declares, +Inf last, for one series.
  for (const char* le : {"5e-05", "0.0001", "0.001", "0.01", "0.1", "1", "+Inf"})
    CHECK(text.find("strata_plugin_call_duration_seconds_bucket{instance=\"default\",operation=\"get\",role=\"cache\","
                    "le=\"" + std::string(le) + "\"}") != std::string::npos);

  // After a plugin error, its outcome is a series of its own.
  REQUIRE_FALSE(host->storage()->get_user(sdk::Uuid::generate()));
  auto after = scrape(*address);
  CHECK(after.find("operation=\"get_user\",outcome=\"not_found\",role=\"storage\"} 1") != std::string::npos);
}

// The OpenTelemetry database convention's families, as Prometheus renders them.
TEST_CASE("metrics endpoint: db_client_operation_duration_seconds for a plugin that names its database",
          "[metrics][endpoint]") {
  auto dir = std::filesystem::temp_directory_path() / ("strata-metrics-" + sdk::Uuid::generate().str());
  std::filesystem::create_directories(dir);
  const std::string db = (dir / "strata.db").string();
  {
    auto host = open_host("[storage]\nplugin = \"sqlite\"\npath = \"" + db +
                          "\"\n[cache.default]\nplugin = \"memory\"\n[metrics]\nlisten = \"127.0.0.1:0\"\n");
    auto address = host->metrics_address();
    REQUIRE(address);
    auto storage = host->storage();
    for (int i = 0; i < 20; ++i) REQUIRE(storage->schema_status());
    REQUIRE_FALSE(storage->get_user(sdk::Uuid::generate()));  // not_found: an error.type of its own
    REQUIRE(host->cache("default")->set("k", sdk::as_bytes(std::string("v")), std::nullopt));

    auto text = scrape(*address);
    CHECK(types_of(text)["db_client_operation_duration_seconds"] == "histogram");
    std::map<std::string, std::string> ok_labels, error_labels;
    std::vector<std::string> bounds;
    for (const auto& s : samples_of(text)) {
      if (!s.name.starts_with("db_client_operation_duration_seconds")) continue;
      CHECK(s.labels.at("db_system_name") == "sqlite");  // the memory cache names no database: none of its calls
      CHECK(s.labels.at("db_namespace") == db);
      CHECK(s.labels.at("strata_role") == "storage");
      CHECK(s.labels.count("server_address") == 0);  // a file, no server
      auto op = s.labels.at("db_operation_name");
      if (op == "schema_status" && s.name.ends_with("_count")) {
        ok_labels = s.labels;
        CHECK(s.value == "20");
      }
      if (op == "schema_status" && s.name.ends_with("_bucket")) bounds.push_back(s.labels.at("le"));
      if (op == "get_user" && s.name.ends_with("_count")) {
        error_labels = s.labels;
        CHECK(s.value == "1");
      }
    }
    // The convention's bucket boundaries, exactly.
    CHECK(bounds == std::vector<std::string>{"0.001", "0.005", "0.01", "0.05", "0.1", "0.5", "1", "5", "10", "+Inf"});
    CHECK(ok_labels.count("error_type") == 0);  // error.type only on failures
    CHECK(error_labels["error_type"] == "not_found");
    // Strata's own names keep their buckets beside the convention's.
    CHECK(text.find("strata_plugin_call_duration_seconds_bucket{instance=\"default\",operation=\"schema_status\","
                    "role=\"storage\",le=\"5e-05\"}") != std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("metrics endpoint: an address it cannot listen on is refused at open, named", "[metrics][endpoint]") {
  auto first = open_host(memory_host);
  auto taken = first->metrics_address();
  REQUIRE(taken);
  auto error = open_error("[storage]\nplugin = \"memory\"\n[metrics]\nlisten = \"" + *taken + "\"\n");
  CHECK(error.code == sdk::ErrorCode::unavailable);
  CHECK(error.message.find("cannot listen on " + *taken) != std::string::npos);
  auto malformed = open_error("[storage]\nplugin = \"memory\"\n[metrics]\nlisten = \"9464\"\n");
  CHECK(malformed.code == sdk::ErrorCode::invalid_argument);
  CHECK(malformed.message.find("host:port") != std::string::npos);
}

}  // namespace strata::test
