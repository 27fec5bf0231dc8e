// auto_pipeline = true against a redis-server of the test's own: concurrent
// callers' commands share round trips (the server sees fewer reads than
// commands), each caller gets its own reply or its own error, and a
// connection killed under a batch costs retries, never a reply handed to the
// wrong caller. (The cache kit runs auto-pipelined too: redis_conformance_test.cpp,
// redis_cluster_test.cpp.)

#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>

#include "own_redis.hpp"
#include "run_command.hpp"
#include "test_host.hpp"

using namespace strata;
using namespace std::chrono_literals;
using strata::test::OwnRedis;

namespace {

std::string pipelined_table(int port, const std::string& extra = "") {
  return "[cache.default]\nplugin = \"redis\"\nport = " + std::to_string(port) +
         "\nauto_pipeline = true\npool.size = 16\n" + extra;
}

std::string cli(int port, const std::string& args) {
  return test::run_command("redis-cli -h 127.0.0.1 -p " + std::to_string(port) + " " + args);
}

// INFO stats' counters ("total_commands_processed", ...), read in one call.
struct ServerStats {
  long commands, reads, connections;
};
ServerStats server_stats(int port) {
  auto info = cli(port, "INFO stats");
  auto counter = [&](const std::string& name) {
    auto at = info.find(name + ":");
    REQUIRE(at != std::string::npos);
    return std::stol(info.substr(at + name.size() + 1));
  };
  return {counter("total_commands_processed"), counter("total_reads_processed"), counter("total_connections_received")};
}

// What a thread saw, summed after the threads end (Catch's assertions are
// made on the main thread only).
struct Tally {
  std::atomic<long> ok{0}, failed{0}, foreign{0}, wrongtype{0};
  std::mutex mutex;
  std::string first_problem;
  void problem(const std::string& what) {
    std::lock_guard lock(mutex);
    if (first_problem.empty()) first_problem = what;
  }
};

}  // namespace

TEST_CASE("redis auto_pipeline: 16 threads share round trips, and each caller gets its own reply or its own error",
          "[redis][auto_pipeline][tsan]") {
  OwnRedis server;
  auto host = test::open_host(pipelined_table(server.port()));
  auto cache = host->cache();
  REQUIRE(cache->set("warm-up", sdk::as_bytes("x"), std::nullopt));
  cli(server.port(), "HSET a-hash field value");  // GET on it answers WRONGTYPE
  const ServerStats before = server_stats(server.port());

  Tally tally;
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 400; ++i) {
        const std::string key = "k" + std::to_string(t) + ":" + std::to_string(i % 40);
        const std::string value = "v" + std::to_string(t) + ":" + std::to_string(i);
        if (!cache->set(key, sdk::as_bytes(value), 60s)) {
          ++tally.failed;
          continue;
        }
        auto read = cache->get(key);
        if (!read || !*read) {
          ++tally.failed;
        } else if (sdk::to_string(**read) != value) {
          ++tally.foreign;
          tally.problem("thread " + std::to_string(t) + " read " + sdk::to_string(**read) + " for " + value);
        } else {
          ++tally.ok;
        }
        if (i % 25 == 0) {
          // A Redis error reply in the middle of a batch reaches its own caller only.
          auto wrong = cache->get("a-hash");
          if (!wrong && wrong.error().code == sdk::ErrorCode::invalid_argument &&
              wrong.error().message.find("WRONGTYPE") != std::string::npos)
            ++tally.wrongtype;
          else
            tally.problem("GET a-hash did not answer WRONGTYPE");
        }
      }
    });
  for (auto& thread : threads) thread.join();

  INFO(tally.first_problem);
  CHECK(tally.foreign == 0);
  CHECK(tally.failed == 0);
  CHECK(tally.ok == 16 * 400);
  CHECK(tally.wrongtype == 16 * 16);
  const ServerStats after = server_stats(server.port());
  const long commands = after.commands - before.commands, reads = after.reads - before.reads;
  INFO("commands " << commands << ", reads " << reads);
  CHECK(commands >= 16 * (2 * 400 + 16));
  // Batched: the server read several commands at a time (without batching,
  // one read per command).
  CHECK(reads < commands / 2);
  // One batch in flight at a time: the warm-up's connection carried them all
  // (the one new connection counted is the second INFO's own, of redis-cli).
  CHECK(after.connections - before.connections == 1);

  // The other calls keep their meaning.
  CHECK(cache->set_if_absent("lock", sdk::as_bytes("a"), 10s).value());
  CHECK_FALSE(cache->set_if_absent("lock", sdk::as_bytes("b"), 10s).value());
  CHECK(cache->exists("lock").value());
  CHECK(cache->ttl("lock")->remaining.value() <= 10'000ms);
  CHECK(cache->expire("lock", 20s).value());
  CHECK(cache->remove("lock").value());
  CHECK_FALSE(cache->exists("lock").value());
}

TEST_CASE("redis auto_pipeline: connections killed under 8 threads cost retries, never a reply to the wrong caller",
          "[redis][auto_pipeline][fault][tsan]") {
  OwnRedis server;
  auto host = test::open_host(pipelined_table(server.port(), "command_timeout_ms = 3000\nretry.max_attempts = 20\n"));
  auto cache = host->cache();
  REQUIRE(cache->set("warm-up", sdk::as_bytes("x"), std::nullopt));

  std::atomic<bool> stop{false};
  std::atomic<long> killed{0};
  // CLIENT KILL closes every plugin connection (redis-cli's own is skipped),
  // batches in flight included.
  std::thread killer([&] {
    const std::string line = "redis-cli -h 127.0.0.1 -p " + std::to_string(server.port()) + " CLIENT KILL TYPE normal";
    while (!stop) {
      if (FILE* pipe = ::popen(line.c_str(), "r")) {
        char out[64] = {};
        if (std::fgets(out, sizeof out, pipe)) killed += std::atol(out);
        ::pclose(pipe);
      }
      std::this_thread::sleep_for(5ms);
    }
  });
  Tally tally;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 600; ++i) {
        // A key per call: what a get may see is only this call's value, or
        // nothing if the set failed before reaching the server.
        const std::string key = "k" + std::to_string(t) + ":" + std::to_string(i);
        const std::string value = "v" + std::to_string(t) + ":" + std::to_string(i);
        const bool stored = cache->set(key, sdk::as_bytes(value), 60s).has_value();
        auto read = cache->get(key);
        if (!read) {
          ++tally.failed;
        } else if (*read && sdk::to_string(**read) != value) {
          ++tally.foreign;
          tally.problem("thread " + std::to_string(t) + " read " + sdk::to_string(**read) + " for " + value);
        } else if (stored && !*read) {
          ++tally.foreign;
          tally.problem("an acknowledged set of " + key + " is not there");
        } else {
          ++tally.ok;
        }
      }
    });
  for (auto& thread : threads) thread.join();
  stop = true;
  killer.join();

  INFO(tally.first_problem);
  INFO("connections killed " << killed << ", calls ok " << tally.ok << ", failed " << tally.failed);
  CHECK(killed > 0);
  CHECK(tally.foreign == 0);
  CHECK(tally.ok > 0);
  // Once the killing stops, every call goes through again.
  for (int i = 0; i < 50; ++i) REQUIRE(cache->get("warm-up").value() == sdk::to_bytes("x"));
}
