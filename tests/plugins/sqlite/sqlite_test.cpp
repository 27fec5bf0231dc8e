// The sqlite plugin: several connections (as several CLI processes) on one
// file, migrations, and errors naming the file.

#include <atomic>
#include <thread>

#include <strata/sdk/testing/fixtures.hpp>

#include "test_host.hpp"

using namespace strata;
using sdk::testing::make_message;
using sdk::testing::make_user;

namespace {

struct TempDir {
  std::filesystem::path path = std::filesystem::temp_directory_path() / ("strata-sqlite-" + sdk::Uuid::generate().str());
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string table(const std::string& extra = "") const {
    return "[storage]\nplugin = \"sqlite\"\npath = \"" + (path / "data" / "strata.db").string() + "\"\n" + extra;
  }
};

}  // namespace

TEST_CASE("sqlite: two connections on one file write at once without failing", "[sqlite]") {
  TempDir dir;
  auto first = test::open_host(dir.table()), second = test::open_host(dir.table());
  auto a = make_user("a"), b = make_user("b");
  REQUIRE(first->storage()->create_user(a));
  REQUIRE(first->storage()->create_user(b));
  std::atomic<int> failures{0};
  auto writer = [&](Host& host) {
    for (int i = 0; i < 200; ++i) {
      std::vector<sdk::Message> batch{make_message(a.id, b.id, sdk::Timestamp::now()),
                                      make_message(b.id, a.id, sdk::Timestamp::now())};
      if (!host.storage()->insert_messages(batch)) ++failures;
    }
  };
  std::thread t1([&] { writer(*first); }), t2([&] { writer(*second); });
  t1.join();
  t2.join();
  CHECK(failures == 0);
  auto inbox = second->storage()->inbox(b.id, sdk::PageRequest{1000, std::nullopt});
  REQUIRE(inbox);
  CHECK(inbox->items.size() == 400);  // each connection sees the other's rows
}

TEST_CASE("sqlite: migrations down and up, and auto_migrate off leaves a new file empty", "[sqlite][migrate]") {
  TempDir dir;
  auto host = test::open_host(dir.table("auto_migrate = false\n"));
  auto storage = host->storage();
  CHECK(storage->schema_status()->current == 0);
  auto health = storage->health();
  REQUIRE_FALSE(health);
  CHECK(health.error().message.find("run `strata migrate up`") != std::string::npos);
  CHECK(storage->migrate(1)->current == 1);
  CHECK_FALSE(storage->health());  // 1 of 2: the audit outbox is missing
  CHECK(storage->migrate(2)->current == 2);
  CHECK(storage->health());
  REQUIRE(storage->create_user(make_user("x")));
  CHECK(storage->outbox_size().value() == 0);
  CHECK(storage->migrate(1)->current == 1);
  CHECK(storage->outbox_size().error().code != sdk::ErrorCode::unsupported);  // its table is gone
  CHECK(storage->migrate(0)->current == 0);
  CHECK(storage->migrate(2)->current == 2);
  CHECK(storage->find_user_by_username("x").error().code == sdk::ErrorCode::not_found);
  CHECK(storage->migrate(3).error().code == sdk::ErrorCode::invalid_argument);
}

TEST_CASE("sqlite: an unusable path is refused with the path named", "[sqlite]") {
  TempDir dir;
  std::filesystem::create_directories(dir.path);
  auto error = test::open_error("[storage]\nplugin = \"sqlite\"\npath = \"" + dir.path.string() + "\"\n");  // a directory
  CHECK(error.code == sdk::ErrorCode::unavailable);
  CHECK(error.message.find(dir.path.string()) != std::string::npos);
  auto bad = test::open_error(dir.table("synchronous = \"sometimes\"\n"));
  CHECK(bad.message.find("synchronous must be \"full\" or \"normal\"") != std::string::npos);
}

TEST_CASE("sqlite: the database and its WAL are owner-only even in an open directory", "[sqlite][hardening]") {
  TempDir dir;
  std::filesystem::create_directories(dir.path / "data");
  std::filesystem::permissions(dir.path / "data", std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                                                      std::filesystem::perms::group_exec |
                                                      std::filesystem::perms::others_read |
                                                      std::filesystem::perms::others_exec);  // 0755, as it once was
  auto host = test::open_host(dir.table());
  REQUIRE(host->storage()->create_user(make_user("a")));
  for (const char* file : {"strata.db", "strata.db-wal"}) {
    INFO(file);
    auto mode = std::filesystem::status(dir.path / "data" / file).permissions();
    CHECK((mode & (std::filesystem::perms::group_all | std::filesystem::perms::others_all)) ==
          std::filesystem::perms::none);
  }
}
