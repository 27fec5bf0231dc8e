// Strata and the seed's own Node.js clients on one PostgreSQL database, one
// MongoDB database and one Redis, both ways: Strata writes and the seed's
// node-postgres, mongoose and ioredis code reads (reads_strata.cjs); the seed's
// code writes and Strata reads, through the `strata` CLI (writes_seed.cjs).
// The servers are the suite's test servers, in the seed's Redis layout (cache
// store db 2, no key prefix), with config/production.toml as shipped.

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "backends.hpp"
#include "mongo_db.hpp"
#include "postgres_db.hpp"
#include "process.hpp"
#include "service_env.hpp"
#include "strata/services.hpp"
#include "test_host.hpp"
#include "test_paths.hpp"

using namespace strata;
using namespace std::chrono_literals;

namespace {

const std::filesystem::path scripts = strata::test::paths::source_dir() + "/tests/interop";

// Runs one of the Node.js scripts with the seed's clients installed by the
// interop_npm fixture; its stdout lands in `out`.
int node(const std::string& script, const nlohmann::json& input, const std::filesystem::path& out) {
  ::setenv("NODE_PATH", strata::test::paths::interop_node_modules().c_str(), 1);
  ::setenv("STRATA_INTEROP", input.dump().c_str(), 1);
  return test::run({"node", (scripts / script).string()}, out);
}

}  // namespace

TEST_CASE("interop: the seed's node-postgres, mongoose and ioredis clients and Strata share data both ways",
          "[interop][seed]") {
  test::require_postgres();
  test::require_redis();
  test::require_mongodb();
  test::TempDatabase pg;
  test::TempMongoDatabase mongo;
  const std::string tag = sdk::Uuid::generate().str().substr(0, 8);
  auto dir = std::filesystem::temp_directory_path() / ("strata-interop-" + tag);
  std::filesystem::create_directories(dir);

  // The seed's environment variables, read by Strata's production config, its CLI and the Node.js side alike.
  const std::map<std::string, std::string> env{
      {"DB_HOST", "127.0.0.1"},   {"DB_PORT", std::to_string(test::postgres_port())},
      {"DB_USER", "postgres"},    {"DB_NAME", pg.name()},
      {"REDIS_HOST", "127.0.0.1"}, {"REDIS_PORT", std::to_string(test::redis_port())},
      {"REDIS_KEY_PREFIX", ""},   {"MONGODB_URI", mongo.uri()},
      {"DB_ENCRYPTION_KEY", test::test_key_hex}, {"STRATA_DATA_DIR", dir.string()},
      {"PGGSSENCMODE", "disable"}};
  for (const auto& [name, value] : env) ::setenv(name.c_str(), value.c_str(), 1);
  // config/production.toml as shipped, plus a MongoDB cache so the seed's Cache model meets Strata's documents.
  std::string config = test::read_text(strata::test::paths::source_dir() + "/config/production.toml") +
                       "\n[cache.mongo]\nplugin = \"mongodb\"\nuri = \"${MONGODB_URI}\"\n";
  const auto config_path = dir / "interop.toml";
  std::ofstream(config_path) << config;

  const std::string alice = "alice-" + tag, bob = "bob-" + tag, text = "Hello from Strata, Zoë! 👋";
  const std::string cache_key = "interop:greeting:" + tag;
  const nlohmann::json cache_value = {{"hello", "from strata"}, {"n", 1}};
  nlohmann::json shared;
  {
    // ---- Strata writes ------------------------------------------------------
    HostOptions options;
    options.env = test::fake_env(env);
    auto host = Host::open_file(config_path, options);
    INFO((host ? std::string() : host.error().message));
    REQUIRE(host);
    REQUIRE((*host)->storage()->migrate((*host)->storage()->schema_status()->latest));
    {
      auto services = std::move(Services::open(**host).value());
      auto a = services->users().register_user(alice, alice + "@example.org", "alice-password", Origin{"10.1.1.1"});
      auto b = services->users().register_user(bob, bob + "@example.org", "bob-password", Origin{"10.1.1.2"});
      REQUIRE(a);
      REQUIRE(b);
      REQUIRE(services->keys().rotate(a->id, Origin{}));
      REQUIRE(services->keys().rotate(b->id, Origin{}));
      auto sent = services->messages().send({a->id, b->id, text, std::nullopt}, Origin{"10.1.1.1"});
      REQUIRE(sent);
      REQUIRE(services->users().by_username(bob));  // cached in the seed's cache store
      for (const char* cache : {"default", "mongo"})
        REQUIRE((*host)->cache(cache)->set(cache_key, sdk::as_bytes(cache_value.dump()), 600s));
      REQUIRE((*host)->audit()->append_metrics(
          std::vector{sdk::Metric{sdk::Timestamp::now(), "strata_interop_test", 1, {{"tag", tag}}}}));
      shared = {{"alice", alice},          {"bob", bob},         {"alice_id", a->id.str()},
                {"bob_id", b->id.str()},   {"message_id", sent->id.str()}, {"text", text},
                {"cache_key", cache_key},  {"cache_value", cache_value}, {"tag", tag}};
    }  // the services flush the audit trail into MongoDB here
  }

  // ---- the seed's clients read it ----------------------------------------------
  auto reads = dir / "reads.out";
  int read_status = node("reads_strata.cjs", shared, reads);
  INFO("reads_strata.cjs:\n" << test::read_file(reads));
  CHECK(read_status == 0);

  // ---- the seed's clients write; Strata reads ---------------------------------
  auto writes = dir / "writes.out";
  REQUIRE(node("writes_seed.cjs", shared, writes) == 0);
  auto written = nlohmann::json::parse(test::read_file(writes));
  INFO("writes_seed.cjs: " << written.dump());

  const std::string strata = strata::test::paths::strata_cli();
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {strata, "--config", config_path.string()});
    auto out = dir / "cli.out";
    int status = test::run(args, out);
    std::string output = test::read_file(out);
    UNSCOPED_INFO("strata " << args[3] << " -> " << status << "\n" << output);
    return std::pair{status, output};
  };
  auto [shown, user] = cli({"user", "show", written["carol"]});
  CHECK(shown == 0);
  CHECK(user.find(written["carol"].get<std::string>() + "@example.org") != std::string::npos);
  CHECK(user.find("public key  none") != std::string::npos);

  auto [tailed, trail] = cli({"audit", "tail", "--limit", "100"});
  CHECK(tailed == 0);
  CHECK(trail.find("seed.login") != std::string::npos);
  CHECK(trail.find("203.0.113.9") != std::string::npos);
  CHECK(trail.find("seed.logout") != std::string::npos);  // no userId, no metadata: read as it is
  CHECK(trail.find("203.0.113.10") != std::string::npos);
  auto [measured, metrics] = cli({"metrics"});
  CHECK(measured == 0);
  CHECK(metrics.find("seed_requests_" + tag) != std::string::npos);  // a Metric without labels

  // The seed's message has no tag and no associated data: refused, with the reason; Strata's own still opens.
  auto [listed, inbox] = cli({"inbox", bob});
  CHECK(listed == 0);
  CHECK(inbox.find("inbox of " + bob + ": 2 messages") != std::string::npos);
  CHECK(inbox.find(written["message_id"].get<std::string>()) != std::string::npos);
  CHECK(inbox.find("[refused: message " + written["message_id"].get<std::string>() + " failed authentication") !=
        std::string::npos);
  CHECK(inbox.find("DatabaseEncryption.encrypt") != std::string::npos);
  CHECK(inbox.find("Hello from Strata") != std::string::npos);

  {
    HostOptions options;
    options.env = test::fake_env(env);
    auto host = Host::open_file(config_path, options);
    REQUIRE(host);
    auto cached = (*host)->cache("default")->get(written["cache_key"].get<std::string>());
    REQUIRE(cached);
    REQUIRE(cached->has_value());
    CHECK(nlohmann::json::parse(sdk::to_string(**cached)) == nlohmann::json{{"name", "Zoë"}, {"age", 41}});
    CHECK((*host)->cache("default")->ttl(written["cache_key"].get<std::string>())->remaining.value_or(0s) > 3000s);
    // A value the seed set without a TTL reads as it is, and never expires.
    auto forever = (*host)->cache("default")->get(written["forever_key"].get<std::string>());
    REQUIRE(forever);
    REQUIRE(forever->has_value());
    CHECK(nlohmann::json::parse(sdk::to_string(**forever)) == nlohmann::json{"no", "ttl"});
    auto forever_ttl = (*host)->cache("default")->ttl(written["forever_key"].get<std::string>());
    REQUIRE(forever_ttl);
    CHECK(forever_ttl->exists);
    CHECK_FALSE(forever_ttl->remaining.has_value());
    // A document of the seed's Cache model, read by the mongodb cache.
    auto document = (*host)->cache("mongo")->get(written["mongo_cache_key"].get<std::string>());
    REQUIRE(document);
    REQUIRE(document->has_value());
    CHECK(nlohmann::json::parse(sdk::to_string(**document)) == nlohmann::json{{"plan", "pro"}, {"seats", 5}});
    (void)(*host)->cache("default")->remove(written["forever_key"].get<std::string>());
    for (const auto& key : {cache_key, written["cache_key"].get<std::string>()})
      (void)(*host)->cache("default")->remove(key);
  }
  std::filesystem::remove_all(dir);
}
