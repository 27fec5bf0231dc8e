// Sessions on a real Redis restarted from an RDB snapshot taken before a
// revoke: the snapshot brings the revoked token back; the storage's record
// (SDK 1.9) must still refuse it.

#include <filesystem>

#include "backends.hpp"
#include "own_redis.hpp"
#include "run_command.hpp"
#include "strata/services.hpp"
#include "test_host.hpp"

using namespace strata;
using namespace std::chrono_literals;

TEST_CASE("redis: a revoked session stays revoked when Redis restarts from a snapshot taken before the revoke",
          "[redis][sessions][hardening]") {
  auto dir = std::filesystem::temp_directory_path() / ("strata-session-snapshot-" + sdk::Uuid::generate().str());
  std::filesystem::create_directories(dir);
  struct Cleanup {
    std::filesystem::path dir;
    ~Cleanup() { std::filesystem::remove_all(dir); }
  } cleanup{dir};
  // An RDB file only when asked (SAVE), loaded at every start.
  test::OwnRedis redis({"--dir", dir.string(), "--dbfilename", "snapshot.rdb"});
  auto host = test::open_host("[storage]\nplugin = \"sqlite\"\npath = \"" + (dir / "strata.db").string() +
                              "\"\n[cache.session]\nplugin = \"redis\"\nport = " + std::to_string(redis.port()) +
                              "\n[users]\nscrypt_log2_n = 11\n");
  auto services = Services::open(*host, ServicesOptions{false});
  REQUIRE(services);
  auto& users = (*services)->users();
  auto& sessions = (*services)->sessions();
  auto alice = users.register_user("alice", "alice@example.org", "alice-password", Origin{}).value();
  auto bob = users.register_user("bob", "bob@example.org", "bob-password", Origin{}).value();
  auto carol = users.register_user("carol", "carol@example.org", "carol-password", Origin{}).value();
  auto one = sessions.create(alice.id, Origin{}).value();
  auto all = sessions.create(bob.id, Origin{}).value();
  auto kept = sessions.create(carol.id, Origin{}).value();
  auto cache = host->cache("session");
  REQUIRE(cache->set("snapshot-probe", sdk::as_bytes("taken"), std::nullopt));
  test::run_command("redis-cli -p " + std::to_string(redis.port()) + " SAVE");

  REQUIRE(cache->remove("snapshot-probe"));
  REQUIRE(sessions.revoke(one.token, Origin{}));
  REQUIRE(sessions.revoke_all(bob.id, Origin{}));
  CHECK_FALSE(sessions.get(one.token));
  CHECK_FALSE(sessions.get(all.token));

  redis.stop();  // SIGTERM without save points: the RDB file stays as SAVE wrote it
  redis.start();
  // The plugin reconnects; what the server holds is the snapshot's.
  bool reconnected = false;
  for (int i = 0; i < 50 && !reconnected; ++i) {
    auto probe = cache->exists("snapshot-probe");
    reconnected = probe && *probe;
    if (!reconnected) std::this_thread::sleep_for(100ms);
  }
  REQUIRE(reconnected);
  CHECK(sessions.get(one.token).error().code == sdk::ErrorCode::auth_failed);
  CHECK(sessions.touch(all.token).error().code == sdk::ErrorCode::auth_failed);
  CHECK(sessions.get(kept.token));
  std::this_thread::sleep_for(5ms);
  auto again = sessions.create(bob.id, Origin{}).value();
  CHECK(sessions.get(again.token));
}
