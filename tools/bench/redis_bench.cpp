// The redis plugin against redis-benchmark in the same run, with the same
// number of connections, pipeline depth and value size, on a scratch db.
//
//   get/set at depth 1 with 1 and 50 connections      (goal >= 0.9x), and at
//   50 with auto_pipeline = true
//   get_many/set_many of 100 keys vs redis-benchmark -P 100   (goal >= 0.9x)
//
// Usage: bench_redis [--quick] [--sentinel | --cluster]
//   --quick:    fewer operations, for smoke runs
//   --sentinel: the plugin in Sentinel mode on the group tools/redis-sentinel.sh
//               starts (started here if needed); redis-benchmark and raw hiredis
//               talk to the primary the sentinels name (goal: >= 0.9x, as standalone)
//   --cluster:  the plugin in cluster mode on tools/redis-cluster.sh's three
//               primaries (started here if needed) against `redis-benchmark
//               --cluster` (goal >= 0.9x for GET/SET at 50 connections). As
//               there, each connection (thread) takes keys of one node; also
//               measured with every thread over all nodes. get_many also against the
//               standalone plugin on the suite's Redis, and with a hash-tagged
//               prefix (one slot: one MGET). No raw hiredis column (hiredis
//               has no cluster support).

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>
#include <thread>

#include <hiredis/hiredis.h>

#include "bench_host.hpp"
#include "test_servers.hpp"
#include "run_tool.hpp"

namespace {

using namespace strata;
using Clock = std::chrono::steady_clock;

constexpr int value_size = 32;
constexpr int scratch_db = 9;
int server_port = 0;  // the server measured: the suite's Redis, or the Sentinel group's primary, or a cluster seed
bool cluster = false;

// Requests per second redis-benchmark reports for one test (its --csv output).
double reference_rps(const std::string& test, int clients, int pipeline, int requests) {
  std::vector<std::string> args{"redis-benchmark", "-h", "127.0.0.1", "-p", std::to_string(server_port), "-t", test,
                                "-n", std::to_string(requests), "-c", std::to_string(clients), "-P",
                                std::to_string(pipeline), "-d", std::to_string(value_size), "--csv"};
  if (cluster) {
    args.push_back("--cluster");  // db 0, each client on its node's keys
  } else {
    args.push_back("--dbnum");
    args.push_back(std::to_string(scratch_db));
  }
  std::string out = bench::capture(args);
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("\"" + std::string(test == "get" ? "GET" : "SET"), 0) != 0) continue;
    auto first = line.find("\",\"") + 3;
    return std::stod(line.substr(first, line.find('"', first) - first));
  }
  throw std::runtime_error("no " + test + " line in redis-benchmark output:\n" + out);
}

// Operations per second of `op` run `total` times across `threads` threads.
template <class Op>
double plugin_ops(int threads, long total, long ops_per_call, Op op) {
  std::atomic<long> failures{0};
  auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      for (long i = 0; i < total / threads / ops_per_call; ++i)
        if (!op()) ++failures;
    });
  for (auto& w : workers) w.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (failures) std::fprintf(stderr, "warning: %ld calls failed\n", failures.load());
  return static_cast<double>(total) / seconds;
}

// The raw driver: a bare hiredis loop on one blocking connection, `depth`
// commands appended before their replies are read.
double raw_hiredis_ops(const char* command, long total, int depth) {
  redisContext* c = redisConnect("127.0.0.1", server_port);
  if (!c || c->err) throw std::runtime_error("raw hiredis cannot connect");
  freeReplyObject(redisCommand(c, "SELECT %d", scratch_db));
  std::string value(value_size, 'x');
  auto start = Clock::now();
  for (long i = 0; i < total / depth; ++i) {
    for (int d = 0; d < depth; ++d) {
      if (command[0] == 'S') redisAppendCommand(c, "SET bench:key:0 %b", value.data(), value.size());
      else redisAppendCommand(c, "GET bench:key:0");
    }
    for (int d = 0; d < depth; ++d) {
      void* reply = nullptr;
      if (redisGetReply(c, &reply) != REDIS_OK) throw std::runtime_error("raw hiredis lost the connection");
      freeReplyObject(reply);
    }
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  redisFree(c);
  return static_cast<double>(total) / seconds;
}

// Cluster mode: `keys` grouped by the node serving each one's slot (under
// `prefix`), as the cluster itself says (CLUSTER KEYSLOT, CLUSTER SLOTS).
std::vector<std::vector<std::string>> keys_by_node(const std::vector<std::string>& keys, const std::string& prefix) {
  redisContext* c = redisConnect("127.0.0.1", server_port);
  if (!c || c->err) throw std::runtime_error("cannot connect to the cluster");
  auto* slots = static_cast<redisReply*>(redisCommand(c, "CLUSTER SLOTS"));
  std::vector<std::pair<std::pair<long long, long long>, long long>> ranges;  // (first, last) -> port
  for (std::size_t i = 0; i < slots->elements; ++i) {
    const redisReply* r = slots->element[i];
    ranges.push_back({{r->element[0]->integer, r->element[1]->integer}, r->element[2]->element[1]->integer});
  }
  freeReplyObject(slots);
  std::map<long long, std::vector<std::string>> by_port;
  for (const auto& key : keys) {
    std::string full = prefix + key;
    auto* slot = static_cast<redisReply*>(redisCommand(c, "CLUSTER KEYSLOT %b", full.data(), full.size()));
    for (const auto& [range, port] : ranges)
      if (slot->integer >= range.first && slot->integer <= range.second) by_port[port].push_back(key);
    freeReplyObject(slot);
  }
  redisFree(c);
  std::vector<std::vector<std::string>> out;
  for (auto& [port, names] : by_port) out.push_back(std::move(names));
  return out;
}

struct Row {
  std::string what;
  double strata, reference, raw;  // raw < 0: not measured
};

}  // namespace

int main(int argc, char** argv) {
  bool quick = false, sentinel = false;
  for (int i = 1; i < argc; ++i) {
    quick = quick || std::strcmp(argv[i], "--quick") == 0;
    sentinel = sentinel || std::strcmp(argv[i], "--sentinel") == 0;
    cluster = cluster || std::strcmp(argv[i], "--cluster") == 0;
  }
  std::string where = "port = " + std::to_string(test::redis_port());
  server_port = test::redis_port();
  if (sentinel) {
    const std::string script = STRATA_SOURCE_DIR "/tools/redis-sentinel.sh";
    bench::capture({"bash", script, "start"});
    server_port = std::stoi(bench::capture({"bash", script, "primary"}));
    std::string sentinels = bench::capture({"bash", script, "sentinels"});
    where = "sentinels = " + sentinels.substr(0, sentinels.find('\n')) + "\nmaster_name = \"strata-test\"";
    std::printf("Sentinel mode: the primary the sentinels name is 127.0.0.1:%d\n", server_port);
  }
  std::string seeds;
  if (cluster) {
    const std::string script = STRATA_SOURCE_DIR "/tools/redis-cluster.sh";
    bench::capture({"bash", script, "start"});
    server_port = test::cluster_port();
    seeds = bench::capture({"bash", script, "seeds"});
    seeds = seeds.substr(0, seeds.find('\n'));
    where = "cluster = " + seeds;
    std::printf("Cluster mode: three primaries from 127.0.0.1:%d\n", server_port);
  }
  const std::string db = cluster ? "" : "\ndb = " + std::to_string(scratch_db);
  const long single = quick ? 5'000 : 50'000, many = quick ? 20'000 : 200'000, piped = quick ? 200'000 : 2'000'000;

  // No TTL: the same plain SET redis-benchmark sends.
  auto instance = [&](const std::string& name, const std::string& at, const std::string& prefix) {
    return "[cache." + name + "]\nplugin = \"redis\"\n" + at + "\npool.size = 50\nkey_prefix = \"" + prefix +
           "\"\ndefault_ttl_s = 0\n";
  };
  std::string config = instance("default", where + db, "bench:") +
                       instance("pipelined", where + db + "\nauto_pipeline = true", "bench:");
  if (cluster)  // one slot for all keys, and the standalone plugin, for get_many
    config += instance("tagged", where, "{bench}:") +
              instance("standalone", "port = " + std::to_string(test::redis_port()) + "\ndb = " + std::to_string(scratch_db),
                       "bench:");
  auto host = bench::open_or_die(config);
  auto cache = host->cache();
  const sdk::Bytes value(value_size, 'x');
  std::vector<std::string> keys;
  std::vector<std::pair<std::string, sdk::Bytes>> entries;
  for (int i = 0; i < 100; ++i) {
    keys.push_back("key:" + std::to_string(i));
    entries.emplace_back(keys.back(), value);
  }
  if (!cache->set_many(entries, std::nullopt)) {
    std::fprintf(stderr, "cannot reach Redis on 127.0.0.1:%d (tools/services.sh starts it)\n", server_port);
    return 1;
  }
  // Cluster mode: redis-benchmark --cluster binds each connection to one node
  // and sends it keys of that node's slots. The like here: thread t takes the
  // keys of node t % 3 in turn ("per node"). Also measured: every thread over
  // all the keys, so over every node ("spread"). Otherwise the one key redis-benchmark uses.
  std::vector<std::vector<std::string>> keys_of_node;
  if (cluster) keys_of_node = keys_by_node(keys, "bench:");
  std::atomic<unsigned> next{0}, next_thread{0};
  bool spread = false;
  auto key = [&]() -> const std::string& {
    if (!cluster) return keys[0];
    if (spread) return keys[next++ % keys.size()];
    thread_local unsigned me = 0, turn = 0;  // each measurement's threads are new: numbered afresh
    if (me == 0) me = ++next_thread;
    const auto& mine = keys_of_node[me % keys_of_node.size()];
    return mine[turn++ % mine.size()];
  };
  auto set = [&] { return cache->set(key(), value, std::nullopt).has_value(); };
  auto get = [&] { return cache->get(key()).has_value(); };
  auto pipelined = host->cache("pipelined");
  auto pipelined_set = [&] { return pipelined->set(key(), value, std::nullopt).has_value(); };
  auto pipelined_get = [&] { return pipelined->get(key()).has_value(); };

  std::vector<Row> rows;
  for (int clients : {1, 50}) {
    long n = clients == 1 ? single : many;
    std::string label = std::to_string(clients) + (clients == 1 ? " connection" : " connections");
    bool one = clients == 1 && !cluster;
    rows.push_back({"SET, depth 1, " + label, plugin_ops(clients, n, 1, set), reference_rps("set", clients, 1, n),
                    one ? raw_hiredis_ops("SET", n, 1) : -1});
    rows.push_back({"GET, depth 1, " + label, plugin_ops(clients, n, 1, get), reference_rps("get", clients, 1, n),
                    one ? raw_hiredis_ops("GET", n, 1) : -1});
  }
  if (cluster) {
    spread = true;
    rows.push_back({"SET, depth 1, 50 connections, spread", plugin_ops(50, many, 1, set), rows[2].reference, -1});
    rows.push_back({"GET, depth 1, 50 connections, spread", plugin_ops(50, many, 1, get), rows[3].reference, -1});
    rows[2].what += ", per node";
    rows[3].what += ", per node";
    spread = false;
  }
  // auto_pipeline = true: the 50 threads' commands share round trips (per node, as above, in cluster mode).
  rows.push_back({"SET, depth 1, 50 connections, auto_pipeline", plugin_ops(50, many, 1, pipelined_set), rows[2].reference, -1});
  rows.push_back({"GET, depth 1, 50 connections, auto_pipeline", plugin_ops(50, many, 1, pipelined_get), rows[3].reference, -1});
  const bool raw = !cluster;
  rows.push_back({"set_many 100 keys vs SET -P 100, 1 connection",
                  plugin_ops(1, piped, 100, [&] { return cache->set_many(entries, std::nullopt).has_value(); }),
                  reference_rps("set", 1, 100, piped), raw ? raw_hiredis_ops("SET", piped, 100) : -1});
  rows.push_back({"set_many 100 keys with TTL (SET PX pipeline)",
                  plugin_ops(1, piped, 100, [&] { return cache->set_many(entries, std::chrono::minutes(5)).has_value(); }),
                  reference_rps("set", 1, 100, piped), -1});
  rows.push_back({"get_many 100 keys vs GET -P 100, 1 connection",
                  plugin_ops(1, piped, 100, [&] { return cache->get_many(keys).has_value(); }),
                  reference_rps("get", 1, 100, piped), raw ? raw_hiredis_ops("GET", piped, 100) : -1});
  if (cluster) {
    auto get_many_of = [&](const char* name) {
      auto instance = host->cache(name);
      if (!instance->set_many(entries, std::nullopt)) throw std::runtime_error(std::string("set_many on ") + name);
      double ops = plugin_ops(1, piped, 100, [&] { return instance->get_many(keys).has_value(); });
      (void)instance->clear();
      return ops;
    };
    double spread = rows.back().strata, standalone = get_many_of("standalone"), tagged = get_many_of("tagged");
    rows.push_back({"get_many 100 keys: cluster vs standalone plugin", spread, standalone, -1});
    rows.push_back({"get_many 100 keys: {tagged} prefix vs standalone", tagged, standalone, -1});
  }
  (void)cache->clear();

  std::printf("%-48s %13s %13s %8s %13s %9s\n", cluster ? "operation (value 32 B, cluster)" : "operation (value 32 B, db 9)",
              "strata ops/s", cluster ? "reference" : "redis-bench",
              "ratio", "raw hiredis", "raw/ref");
  for (const auto& r : rows) {
    std::printf("%-48s %13.0f %13.0f %7.2fx", r.what.c_str(), r.strata, r.reference, r.strata / r.reference);
    if (r.raw > 0) std::printf(" %13.0f %8.2fx", r.raw, r.raw / r.reference);
    std::printf("\n");
  }
  return 0;
}
