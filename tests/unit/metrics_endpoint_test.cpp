// The /metrics endpoint ([metrics] listen): scraped by a real HTTP client
// (curl) while plugin calls run, checked against a table of the series the
// host must expose, and again after a plugin error.

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "strata/services.hpp"
#include "test_host.hpp"

namespace strata::test {
namespace {

// What curl fetched from http://<address>/metrics (empty when it failed).
std::string scrape(const std::string& address) {
  std::string command = "curl -sS --fail --max-time 10 http://" + address + "/metrics 2>&1";
  std::string out;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
    if (::pclose(pipe) != 0) FAIL("curl failed: " << out);
  }
  return out;
}

// "# TYPE name type" lines of an exposition.
std::map<std::string, std::string> types_of(const std::string& text) {
  std::map<std::string, std::string> types;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("# TYPE ")) {
      auto rest = line.substr(7);
      auto space = rest.find(' ');
      types[rest.substr(0, space)] = rest.substr(space + 1);
    }
  return types;
}

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
