// The redis plugin against real servers: seed compatibility, faults, bad credentials.

#include <chrono>
#include <fstream>
#include <functional>

#include "backends.hpp"
#include "own_redis.hpp"
#include "process.hpp"
#include "strata/json_value.hpp"
#include "test_host.hpp"
#include "test_paths.hpp"

using namespace strata;
using namespace std::chrono_literals;
using strata::test::OwnRedis;

namespace {

struct Profile {
  std::string name;
  int age = 0;
  NLOHMANN_DEFINE_TYPE_INTRUSIVE(Profile, name, age)
};

std::string table(int port, const std::string& extra = "") {
  return "[cache.default]\nplugin = \"redis\"\nport = " + std::to_string(port) + "\ncommand_timeout_ms = 1000\n" + extra;
}

}  // namespace

TEST_CASE("redis: values written by the seed (redis-cli SETEX, JSON) read back through get_json<T>, and back",
          "[redis][seed]") {
  test::require_redis();
  std::string key = "strata-test:seed:" + sdk::Uuid::generate().str();
  const std::string port = std::to_string(test::redis_port());
  REQUIRE(test::run({"redis-cli", "-h", "127.0.0.1", "-p", port, "-n", "2", "SETEX", key, "60",
                     R"({"name":"Zoë","age":41})"}) == 0);
  auto host = test::open_host("[cache.default]\nplugin = \"redis\"\nport = " + port + "\ndb = 2\n");
  auto profile = get_json<Profile>(*host->cache(), key);
  REQUIRE(profile);
  REQUIRE(profile->has_value());
  CHECK((*profile)->name == "Zoë");
  CHECK((*profile)->age == 41);

  REQUIRE(set_json(*host->cache(), key, Profile{"Bob \"the\" builder", 7}, 60s));
  auto raw = host->cache()->get(key);
  REQUIRE(raw);
  CHECK(sdk::to_string(**raw) == R"({"age":7,"name":"Bob \"the\" builder"})");  // compact, as JSON.stringify
  CHECK(host->cache()->ttl(key)->remaining <= std::chrono::milliseconds(60'000));

  REQUIRE(host->cache()->set(key, sdk::as_bytes("not json"), 60s));
  auto bad = get_json<Profile>(*host->cache(), key);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == sdk::ErrorCode::invalid_argument);
  (void)host->cache()->remove(key);
}

TEST_CASE("redis: the seed's environment variables configure the instance", "[redis][config]") {
  test::require_redis();
  HostOptions options;
  options.env = test::fake_env({{"REDIS_HOST", "127.0.0.1"}, {"REDIS_PORT", std::to_string(test::redis_port())}, {"REDIS_CACHE_DB", "2"}});
  auto host = test::open_host("[cache.default]\nplugin = \"redis\"\ndb = \"${REDIS_CACHE_DB:-2}\"\n", options);
  CHECK(host->cache()->health());
  CHECK(host->effective_config().find("db = 2") != std::string::npos);
}

TEST_CASE("redis: stopped server fails fast with unavailable, then recovers on restart", "[redis][fault]") {
  OwnRedis server;
  auto host = test::open_host(table(server.port()));
  auto cache = host->cache();
  REQUIRE(cache->set("k", sdk::as_bytes("before"), std::nullopt));

  server.stop();
  // One error per kind of call: a read, a non-repeatable write, a repeatable write.
  auto error_of = [](const auto& result) { return result ? std::optional<sdk::Error>() : result.error(); };
  std::vector<std::function<std::optional<sdk::Error>()>> calls = {
      [&] { return error_of(cache->get("k")); },
      [&] { return error_of(cache->increment("n", 1, std::nullopt)); },
      [&] { return error_of(cache->set("k", sdk::as_bytes("x"), std::nullopt)); },
  };
  for (const auto& call : calls) {
    auto start = std::chrono::steady_clock::now();
    auto error = call();
    auto took = std::chrono::steady_clock::now() - start;
    REQUIRE(error);
    INFO(error->describe());
    CHECK(error->code == sdk::ErrorCode::unavailable);
    CHECK(error->retryable);
    CHECK(error->plugin == "redis");
    CHECK(took < 5s);  // a hang guard, far above the 1 s command timeout
  }
  CHECK_FALSE(cache->health());

  server.start();  // same port, empty: the plugin reconnects on its own
  REQUIRE(cache->set("k", sdk::as_bytes("after"), std::nullopt));
  CHECK(cache->get("k").value() == sdk::to_bytes("after"));
  CHECK(cache->increment("n", 2, std::nullopt).value() == 2);
  CHECK(cache->health());
}

TEST_CASE("redis: a restart behind idle pooled connections is invisible to callers", "[redis][fault]") {
  OwnRedis server;
  auto host = test::open_host(table(server.port(), "pool.size = 4\n"));
  auto cache = host->cache();
  for (int i = 0; i < 4; ++i) REQUIRE(cache->set("k" + std::to_string(i), sdk::as_bytes("v"), std::nullopt));
  server.stop();
  server.start();
  // Non-repeatable calls too: a dead idle connection is noticed before anything is sent.
  CHECK(cache->increment("n", 1, std::nullopt).value() == 1);
  CHECK(cache->set_if_absent("lock", sdk::as_bytes("v"), 10s).value());
}

TEST_CASE("redis: wrong password and missing db are clear errors at check", "[redis][config]") {
  OwnRedis server({"--requirepass", "right horse battery"});
  auto wrong = test::open_host(table(server.port(), "password = \"wrong\"\n"));
  auto health = wrong->cache()->health();
  REQUIRE_FALSE(health);
  CHECK(health.error().code == sdk::ErrorCode::auth_failed);
  CHECK(health.error().message.find("WRONGPASS") != std::string::npos);
  CHECK(health.error().message.find("wrong") == std::string::npos);  // the password itself is never echoed

  auto none = test::open_host(table(server.port()));
  auto anonymous = none->cache()->health();
  REQUIRE_FALSE(anonymous);
  CHECK(anonymous.error().code == sdk::ErrorCode::auth_failed);

  auto right = test::open_host(table(server.port(), "password = \"right horse battery\"\n"));
  CHECK(right->cache()->health());
  CHECK(right->effective_config().find("right horse battery") == std::string::npos);

  auto missing_db = test::open_host(table(server.port(), "password = \"right horse battery\"\ndb = 4000\n"));
  auto db = missing_db->cache()->health();
  REQUIRE_FALSE(db);
  CHECK(db.error().code == sdk::ErrorCode::invalid_argument);
  CHECK(db.error().message.find("has no database 4000") != std::string::npos);
}

TEST_CASE("redis: config/production.toml's cache instances are healthy", "[redis][config]") {
  test::require_redis();
  HostOptions options;
  options.env = test::fake_env({{"DB_ENCRYPTION_KEY", test::test_key_hex}});
  auto host = Host::open_file(strata::test::paths::source_dir() + "/config/production.toml", options);
  REQUIRE(host);
  for (const char* instance : {"session", "default"}) {
    INFO(instance);
    REQUIRE((*host)->cache(instance));
    CHECK((*host)->cache(instance)->health());
  }
}

TEST_CASE("redis: out-of-range settings are refused when the host opens", "[redis][config]") {
  auto error = test::open_error("[cache.default]\nplugin = \"redis\"\nport = 70000\n");
  CHECK(error.message.find("port must be between 1 and 65535, got 70000") != std::string::npos);
}

TEST_CASE("redis: namespaces never overlap: a prefix ends with ':', and a whole db is cleared only by its owner",
          "[redis][config][hardening]") {
  auto error = test::open_error("[cache.default]\nplugin = \"redis\"\nkey_prefix = \"app\"\n");
  CHECK(error.message.find("key_prefix 'app' must end with ':'") != std::string::npos);

  OwnRedis redis;
  auto table = [&](const std::string& instance, const std::string& prefix, bool owns_db) {
    return "[cache." + instance + "]\nplugin = \"redis\"\nport = " + std::to_string(redis.port()) +
           "\nkey_prefix = \"" + prefix + "\"\nowns_db = " + (owns_db ? "true" : "false") + "\n";
  };
  // Two deployments on one db, "app:" and "app2:" (once "app" and "app2", which overlapped).
  auto host = test::open_host(table("default", "app:", false) + table("neighbour", "app2:", false) +
                              table("whole", "", false) + table("owner", "", true));
  auto app = host->cache("default"), app2 = host->cache("neighbour");
  REQUIRE(app->set("k", sdk::as_bytes("mine"), 60s));
  REQUIRE(app2->set("k", sdk::as_bytes("theirs"), 60s));
  auto dir = std::filesystem::temp_directory_path() / ("strata-redis-" + sdk::Uuid::generate().str());
  std::filesystem::create_directories(dir);
  auto backup = app->backup(dir);
  REQUIRE(backup);
  CHECK(backup->counts.at("keys") == 1);  // app2:'s key is not in app:'s backup
  REQUIRE(app->restore(dir));             // and restoring app: leaves app2:'s keys alone
  CHECK(sdk::to_string(app2->get("k").value().value()) == "theirs");
  CHECK(app->clear().value() == 1);
  CHECK(sdk::to_string(app2->get("k").value().value()) == "theirs");

  // No prefix: the namespace is the whole db, so clearing or restoring it needs owns_db.
  auto whole = host->cache("whole");
  auto refused = whole->clear();
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == sdk::ErrorCode::invalid_argument);
  CHECK(refused.error().message.find("Set owns_db = true") != std::string::npos);
  std::filesystem::create_directories(dir / "whole");
  REQUIRE(whole->backup(dir / "whole"));  // reading is harmless
  auto unready = whole->check_restore(dir / "whole");  // restore's preflight says so, before anything is written
  REQUIRE_FALSE(unready);
  CHECK(unready.error().message.find("Set owns_db = true") != std::string::npos);
  CHECK_FALSE(whole->restore(dir / "whole"));
  CHECK(host->cache("owner")->check_restore(dir / "whole"));
  std::ofstream(dir / "whole" / "keys.bin", std::ios::trunc) << "garbage";
  CHECK(host->cache("owner")->check_restore(dir / "whole").error().message.find("is not a Strata Redis backup") !=
        std::string::npos);
  CHECK(sdk::to_string(app2->get("k").value().value()) == "theirs");  // nothing was deleted
  CHECK(host->cache("owner")->clear().value() >= 1);
  CHECK_FALSE(app2->get("k").value());
  std::filesystem::remove_all(dir);
}

TEST_CASE("redis: full under noeviction, a write is a definite refusal and health says the store cannot write",
          "[redis][hardening]") {
  OwnRedis redis({"--maxmemory", "2mb", "--maxmemory-policy", "noeviction"});
  auto host = test::open_host("[cache.default]\nplugin = \"redis\"\nport = " + std::to_string(redis.port()) +
                              "\nkey_prefix = \"oom:\"\n");
  auto cache = host->cache("default");
  REQUIRE(cache->health());
  const std::string value(64 * 1024, 'x');
  sdk::Result<void> refused;
  for (int i = 0; i < 200 && refused; ++i) refused = cache->set("k" + std::to_string(i), sdk::as_bytes(value), std::nullopt);
  REQUIRE_FALSE(refused);  // not `unavailable`: Redis answered, and wrote nothing
  CHECK(refused.error().code == sdk::ErrorCode::conflict);
  CHECK(refused.error().message.find("refused the write, nothing was written: OOM") != std::string::npos);
  auto health = cache->health();
  REQUIRE_FALSE(health);
  CHECK(health.error().message.find("maxmemory-policy noeviction): it refuses writes") != std::string::npos);
}
