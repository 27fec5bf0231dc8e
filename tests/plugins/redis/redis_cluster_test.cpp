// The redis plugin in cluster mode against a real Redis Cluster
// (tools/redis-cluster.sh: three primaries with a replica each, started and
// stopped by ctest fixtures): the unchanged cache conformance kit (keys spread
// over the shards, and all on one slot with a hash-tagged prefix), routing
// without redirects, MOVED and ASK during a slot migration, a primary killed
// under 8 threads with no acknowledged revoke lost, and a hung primary whose
// circuit opens while the other shards go on serving.

#include <strata/sdk/testing/cache_kit.hpp>

#include <cstdio>
#include <map>

#include "backends.hpp"
#include "run_command.hpp"
#include "session_churn.hpp"
#include "test_host.hpp"
#include "test_paths.hpp"

using namespace strata;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

std::string cluster_group(const std::string& command) {
  return test::run_command("bash '" + strata::test::paths::source_dir() + "/tools/redis-cluster.sh' " + command);
}

std::string cli(int port, const std::string& args) {
  return test::run_command("redis-cli -h 127.0.0.1 -p " + std::to_string(port) + " " + args);
}

void require_cluster() { test::require_backend("the Redis Cluster (tools/redis-cluster.sh start)", test::cluster_port()); }

std::string cluster_table(const std::string& instance, const std::string& prefix, const std::string& extra = "") {
  return "[cache." + instance + "]\nplugin = \"redis\"\ncluster = " + cluster_group("seeds") + "\nkey_prefix = \"" +
         prefix + "\"\n" + extra;
}

// `tagged`: the instance's prefix is a hash tag, so all its keys share one slot.
sdk::testing::CacheTarget cluster_target(bool tagged, const std::string& extra = "") {
  require_cluster();
  auto host = std::make_shared<std::shared_ptr<Host>>();
  sdk::testing::CacheTarget target;
  target.fresh = [host, tagged, extra] {
    std::string run = "strata-test:" + sdk::Uuid::generate().str();
    if (tagged) run = "{" + run + "}";
    *host = test::open_host(cluster_table("default", run + ":main:", extra) +
                            cluster_table("other", run + ":sibling:", extra));
    return (*host)->cache("default");
  };
  target.sibling = [host] { return (*host)->cache("other"); };
  target.default_ttl = std::chrono::seconds(3600);
  return target;
}

std::vector<int> node_ports() {
  std::vector<int> out;
  for (int i = 0; i < 6; ++i) out.push_back(test::cluster_port() + i);
  return out;
}

// MOVED replies the nodes have sent since the last reset (Redis 7's errorstats).
long moved_replies() {
  long total = 0;
  for (int port : node_ports()) {
    auto stats = cli(port, "INFO errorstats");
    if (auto at = stats.find("errorstat_MOVED:count="); at != std::string::npos)
      total += std::stol(stats.substr(at + 22));
  }
  return total;
}

void reset_stats() {
  for (int port : node_ports()) cli(port, "CONFIG RESETSTAT");
}

// A cache value holding `text`, for comparisons.
std::optional<sdk::Bytes> held(const std::string& text) { return sdk::Bytes(text.begin(), text.end()); }

// A session instance: each write waits for its shard's replica (WAIT 1), so
// the replica that takes over holds every acknowledged revoke.
std::unique_ptr<Host> session_host(const std::string& extra = "") {
  return test::open_host(cluster_table("session", "strata-test:" + sdk::Uuid::generate().str() + ":",
                                       "min_replicas_acked = 1\ncommand_timeout_ms = 3000\nretry.max_attempts = 10\n" +
                                           extra));
}

int slot_of(const std::string& key) { return std::stoi(cli(test::cluster_port(), "CLUSTER KEYSLOT '" + key + "'")); }

}  // namespace

STRATA_CACHE_CONFORMANCE("redis cluster mode", cluster_target(false))
STRATA_CACHE_CONFORMANCE("redis cluster mode, hash-tagged prefix", cluster_target(true))
STRATA_CACHE_CONFORMANCE("redis cluster mode, auto-pipelined", cluster_target(false, "auto_pipeline = true\n"))

TEST_CASE("redis cluster: every key goes straight to its slot's primary (CRC16, hash tags), backup takes every primary",
          "[redis][cluster]") {
  require_cluster();
  const std::string mode = GENERATE(as<std::string>{}, "", "auto_pipeline = true\n");
  INFO("extra settings: " << mode);
  auto host = test::open_host(cluster_table("default", "strata-test:" + sdk::Uuid::generate().str() + ":", mode));
  auto cache = host->cache();
  REQUIRE(cache->get("warm-up"));  // reads the slot map
  reset_stats();
  std::vector<std::string> keys;
  for (int i = 0; i < 300; ++i) keys.push_back(i % 3 == 0 ? "{user" + std::to_string(i) + "}:inbox" : "k" + std::to_string(i));
  for (const auto& key : keys) REQUIRE(cache->set(key, sdk::as_bytes(key), std::nullopt));
  std::vector<std::pair<std::string, sdk::Bytes>> entries;
  for (const auto& key : keys) entries.emplace_back(key + ":m", *held(key));
  REQUIRE(cache->set_many(entries, std::chrono::minutes(1)));
  auto values = cache->get_many(keys);
  REQUIRE(values);
  for (std::size_t i = 0; i < keys.size(); ++i) CHECK((*values)[i] == held(keys[i]));
  CHECK(moved_replies() == 0);
  // The keys are spread over all three primaries.
  std::map<std::string, int> owners;
  for (int i = 0; i < 30; ++i) ++owners[cluster_group("primary-of " + std::to_string(slot_of("k" + std::to_string(i))))];
  CHECK(owners.size() == 3);

  // Backup takes every primary's share; restore sends each key to its slot's primary.
  sdk::testing::ScratchDir dir;
  auto report = cache->backup(dir.path());
  REQUIRE(report);
  CHECK(report->counts.at("keys") == 2 * keys.size());
  auto other = test::open_host(cluster_table("default", "strata-test:" + sdk::Uuid::generate().str() + ":"));
  REQUIRE(other->cache()->restore(dir.path()));
  auto restored = other->cache()->get_many(keys);
  REQUIRE(restored);
  for (std::size_t i = 0; i < keys.size(); ++i) CHECK((*restored)[i] == held(keys[i]));
  CHECK(other->cache()->clear().value() == 2 * keys.size());
  CHECK(cache->clear().value() == 2 * keys.size());
  CHECK_FALSE(cache->has_data().value());
}

TEST_CASE("redis cluster: a slot migrating (ASK) and moved (MOVED) under the plugin, values stay readable",
          "[redis][cluster]") {
  require_cluster();
  const std::string mode = GENERATE(as<std::string>{}, "", "auto_pipeline = true\n");
  INFO("extra settings: " << mode);
  std::string prefix = "strata-test:" + sdk::Uuid::generate().str() + ":";
  auto host = test::open_host(cluster_table("default", prefix, mode));
  auto cache = host->cache();
  // Two keys on one slot (a hash tag): one migrates first, the other stays behind for a while.
  const std::string tag = "{" + sdk::Uuid::generate().str() + "}";
  REQUIRE(cache->set(tag + "moved", sdk::as_bytes(std::string("one")), std::nullopt));
  REQUIRE(cache->set(tag + "stays", sdk::as_bytes(std::string("two")), std::nullopt));
  const std::string moved = prefix + tag + "moved", stays = prefix + tag + "stays";
  const int slot = slot_of(moved);
  const int source = std::stoi(cluster_group("primary-of " + std::to_string(slot)));
  int target = 0;
  for (int s : {0, 5461, 10923}) {
    int p = std::stoi(cluster_group("primary-of " + std::to_string(s)));
    if (p != source) target = p;
  }
  REQUIRE(target != 0);
  const std::string source_id = cli(source, "CLUSTER MYID"), target_id = cli(target, "CLUSTER MYID");
  const std::string s = std::to_string(slot);
  cli(target, "CLUSTER SETSLOT " + s + " IMPORTING " + source_id);
  cli(source, "CLUSTER SETSLOT " + s + " MIGRATING " + target_id);
  cli(source, "MIGRATE 127.0.0.1 " + std::to_string(target) + " '' 0 5000 KEYS '" + moved + "'");

  // Mid-migration: the source answers ASK for the key it no longer has.
  CHECK(cache->get(tag + "moved").value() == held(std::string("one")));
  CHECK(cache->get(tag + "stays").value() == held(std::string("two")));

  cli(source, "MIGRATE 127.0.0.1 " + std::to_string(target) + " '' 0 5000 KEYS '" + stays + "'");
  for (int port : node_ports())
    if (cli(port, "ROLE").rfind("master", 0) == 0) cli(port, "CLUSTER SETSLOT " + s + " NODE " + target_id);
  // Done: the source answers MOVED once; the plugin reads the map again and then goes straight there.
  CHECK(cache->get(tag + "moved").value() == held(std::string("one")));
  reset_stats();
  auto both = cache->get_many(std::vector<std::string>{tag + "moved", tag + "stays"});
  REQUIRE(both);
  CHECK((*both)[1] == held(std::string("two")));
  CHECK(moved_replies() == 0);
  REQUIRE(cache->clear());
}

TEST_CASE("redis cluster: a primary killed under 8 threads, calls recover and no acknowledged revoke is lost",
          "[redis][cluster][failover]") {
  require_cluster();
  auto host = session_host();
  auto cache = host->cache("session");
  std::string killed;
  auto outcome = test::sessions_through(*cache, [&] {
    killed = cluster_group("kill-primary 0");
    for (auto give_up = Clock::now() + 60s; cluster_group("primary-of 0") == killed || cluster_group("primary-of 0").empty();) {
      REQUIRE(Clock::now() < give_up);
      std::this_thread::sleep_for(100ms);
    }
    // The killed node comes back as the new primary's replica: until then
    // that shard's writes cannot be confirmed on a replica, and fail closed.
    cluster_group("heal");
  });
  // The other shards go on serving: the window that matters is the killed shard's (the failures').
  test::check_no_revoke_lost(*cache, outcome, "Cluster primary killed");

  // strata check's topology: three primaries serving every slot, the killed node now a replica.
  auto gauges = cache->gauges();
  REQUIRE(gauges);
  int primaries = 0;
  for (const auto& g : *gauges) {
    if (g.name == "strata_redis_cluster_slots_covered") CHECK(g.value == 16384);
    if (g.name != "strata_redis_cluster_primary") continue;
    ++primaries;
    CHECK(g.labels.at("address") != "127.0.0.1:" + killed);
    CHECK(g.labels.at("replicas") != "none");
  }
  CHECK(primaries == 3);
}

TEST_CASE("redis cluster: CLUSTER FAILOVER under 8 threads, the old primary's MOVED is followed and no revoke is lost",
          "[redis][cluster][failover]") {
  require_cluster();
  // Auto-pipelined here (the kill above is not): each session is looked up
  // after it is created, and the lookups share round trips through the
  // switch (writes, followed by WAIT, go alone either way).
  auto host = session_host("auto_pipeline = true\n");
  auto cache = host->cache("session");
  std::string promoted;
  // Planned: the replica takes over in step with its primary, which stays up
  // as the new replica and answers MOVED for its old slots.
  auto outcome = test::sessions_through(*cache, [&] { promoted = cluster_group("failover 0"); }, true);
  test::check_no_revoke_lost(*cache, outcome, "CLUSTER FAILOVER");
  CHECK(cluster_group("primary-of 0") == promoted);
}

TEST_CASE("redis cluster: a hung primary's circuit opens, its calls fail fast and the other shards go on",
          "[redis][cluster][failover]") {
  require_cluster();
  std::string prefix = "strata-test:" + sdk::Uuid::generate().str() + ":";
  auto host = test::open_host(cluster_table("default", prefix,
                                            "command_timeout_ms = 300\nbreaker.failures = 3\nbreaker.open_ms = 500\n"));
  auto cache = host->cache();
  // A key on the shard that hangs, and keys on the two others.
  std::string hung_key, hung_slot;
  std::vector<std::string> healthy_keys;
  const std::string victim = cluster_group("primary-of 0");
  for (int i = 0; hung_key.empty() || healthy_keys.size() < 20; ++i) {
    std::string key = "k" + std::to_string(i);
    std::string owner = cluster_group("primary-of " + std::to_string(slot_of(prefix + key)));
    if (owner == victim && hung_key.empty()) hung_key = key;
    if (owner != victim && healthy_keys.size() < 20) healthy_keys.push_back(key);
  }
  for (const auto& key : healthy_keys) REQUIRE(cache->set(key, sdk::as_bytes(key), std::nullopt));

  cluster_group("stall-primary 0");
  // The first calls to the hung shard wait for the command timeout; after
  // breaker.failures of them its circuit is open and calls fail at once.
  std::vector<std::string> hung_errors;
  for (int i = 0; i < 6; ++i) {
    auto t0 = Clock::now();
    auto r = cache->get(hung_key);
    auto ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    REQUIRE_FALSE(r);
    CHECK((r.error().code == sdk::ErrorCode::unavailable || r.error().code == sdk::ErrorCode::timeout));
    hung_errors.push_back(r.error().message);
    std::printf("call %d to the hung shard: %.1f ms, %s\n", i + 1, ms, r.error().message.c_str());
  }
  CHECK(hung_errors.back().find("circuit is open") != std::string::npos);
  // Meanwhile every call to the other shards succeeds, multi-key ones too;
  // one that needs the hung shard fails as a whole, at once.
  for (const auto& key : healthy_keys) CHECK(cache->get(key).value() == held(key));
  auto healthy = cache->get_many(healthy_keys);
  REQUIRE(healthy);
  for (std::size_t i = 0; i < healthy_keys.size(); ++i) CHECK((*healthy)[i] == held(healthy_keys[i]));
  std::vector<std::string> with_hung = healthy_keys;
  with_hung.push_back(hung_key);
  auto partial = cache->get_many(with_hung);
  REQUIRE_FALSE(partial);
  CHECK(partial.error().message.find("circuit is open") != std::string::npos);
  auto gauges = cache->gauges();
  REQUIRE(gauges);
  bool reported = false;
  for (const auto& g : *gauges)
    if (g.name == "strata_redis_cluster_primary" && g.labels.at("address") == "127.0.0.1:" + victim)
      reported = g.labels.at("circuit") != "closed";
  CHECK(reported);

  // Resumed (by then perhaps replaced by its replica): the shard serves again.
  cluster_group("heal");
  bool back = false;
  for (auto give_up = Clock::now() + 20s; !back && Clock::now() < give_up; std::this_thread::sleep_for(100ms))
    back = cache->set(hung_key, sdk::as_bytes(std::string("v")), std::nullopt).has_value();
  CHECK(back);
  REQUIRE(cache->clear());
}

TEST_CASE("redis cluster: settings it cannot work with, and no node answering, are clear errors", "[redis][cluster]") {
  auto db = test::open_error("[cache.default]\nplugin = \"redis\"\ncluster = [\"127.0.0.1:7000\"]\ndb = 1\n");
  CHECK(db.message.find("only db 0") != std::string::npos);
  auto both = test::open_error(
      "[cache.default]\nplugin = \"redis\"\ncluster = [\"127.0.0.1:7000\"]\nsentinels = [\"127.0.0.1:26379\"]\n"
      "master_name = \"m\"\n");
  CHECK(both.message.find("two different modes") != std::string::npos);
  auto empty = test::open_error("[cache.default]\nplugin = \"redis\"\ncluster = []\n");
  CHECK(empty.message.find("cluster is empty") != std::string::npos);
  auto malformed = test::open_error("[cache.default]\nplugin = \"redis\"\ncluster = [\"127.0.0.1\"]\n");
  CHECK(malformed.message.find("cluster node '127.0.0.1' is not host:port") != std::string::npos);
  auto dead = test::open_host("[cache.default]\nplugin = \"redis\"\ncluster = [\"127.0.0.1:" +
                              std::to_string(test::free_port()) + "\"]\ncommand_timeout_ms = 300\n");
  auto down = dead->cache()->get("k");
  REQUIRE_FALSE(down);
  CHECK(down.error().code == sdk::ErrorCode::unavailable);
  CHECK(down.error().message.find("no node of the Redis cluster") != std::string::npos);
}
