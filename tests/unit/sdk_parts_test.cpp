// The parts the SDK gives plugins besides the role interfaces: the retry
// policy, the connection pool and the migration set (the bundled PostgreSQL,
// Redis and SQLite plugins use them; their own tests cover them on servers).

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "strata/sdk/connection_pool.hpp"
#include "strata/sdk/migrations.hpp"
#include "strata/sdk/random_bytes.hpp"
#include "strata/sdk/retry.hpp"

using namespace strata::sdk;
using namespace std::chrono_literals;

TEST_CASE("RetryPolicy: the seed's back-off, bounded by attempts and the deadline", "[sdk][retry]") {
  RetryPolicy policy;  // min(n * 50, 2000) ms, 3 tries
  CHECK(policy.delay(1) == 50ms);
  CHECK(policy.delay(39) == 1950ms);
  CHECK(policy.delay(41) == 2000ms);
  const auto now = std::chrono::steady_clock::now();
  CHECK(policy.may_retry(1, now, now + 1s));
  CHECK(policy.may_retry(2, now, now + 1s));
  CHECK_FALSE(policy.may_retry(3, now, now + 1s));   // the third try was the last
  CHECK_FALSE(policy.may_retry(1, now, now + 50ms));  // waiting would reach the deadline
}

namespace {

// A connection the test breaks on demand.
struct FakeConnection {
  int id = 0;
  bool broken = false;
  bool closed_while_idle = false;
  bool healthy() const { return !broken; }
  bool idle_and_alive() { return !closed_while_idle; }
};

struct Opener {
  std::atomic<int> opened{0};
  bool refuse = false;
  ConnectionPool<FakeConnection>::Open open() {
    return [this]() -> Result<std::unique_ptr<FakeConnection>> {
      if (refuse) return fail(ErrorCode::unavailable, "server down");
      auto c = std::make_unique<FakeConnection>();
      c->id = ++opened;
      return c;
    };
  }
};

}  // namespace

TEST_CASE("ConnectionPool: reuses, bounds, replaces broken connections", "[sdk][pool]") {
  Opener opener;
  PoolLimits limits;
  limits.max = 2;
  limits.acquire_timeout = 100ms;
  ConnectionPool<FakeConnection> pool(limits, "FakeDB", opener.open());
  auto id = [](FakeConnection& c) -> Result<int> { return c.id; };

  SECTION("an idle connection is reused, newest first") {
    CHECK(pool.run<int>(Repeatable::yes, id).value() == 1);
    CHECK(pool.run<int>(Repeatable::yes, id).value() == 1);
    CHECK(opener.opened == 1);
    CHECK(pool.open_connections() == 1);
  }
  SECTION("a repeatable call whose connection broke runs once more on a new one") {
    int calls = 0;
    auto breaks_first = [&](FakeConnection& c) -> Result<int> {
      if (++calls == 1) {
        c.broken = true;
        return fail(ErrorCode::unavailable, "connection lost");
      }
      return c.id;
    };
    CHECK(pool.run<int>(Repeatable::yes, breaks_first).value() == 2);
    CHECK(pool.open_connections() == 1);  // the broken one was discarded
  }
  SECTION("a write whose connection broke is not run again: its outcome is unknown") {
    int calls = 0;
    auto breaks = [&](FakeConnection& c) -> Result<int> {
      ++calls;
      c.broken = true;
      return fail(ErrorCode::unavailable, "connection lost");
    };
    auto r = pool.run<int>(Repeatable::no, breaks);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::unavailable);
    CHECK(calls == 1);
    CHECK(pool.open_connections() == 0);
  }
  SECTION("an idle connection the server closed is dropped before reuse") {
    FakeConnection* first = nullptr;
    REQUIRE(pool.run<int>(Repeatable::yes, [&](FakeConnection& c) -> Result<int> {
      first = &c;
      return c.id;
    }));
    first->closed_while_idle = true;
    CHECK(pool.run<int>(Repeatable::no, id).value() == 2);
    CHECK(pool.open_connections() == 1);
  }
  SECTION("all connections busy past acquire_timeout: timeout naming pool.max") {
    std::atomic<bool> release{false};
    std::atomic<int> holding{0};
    std::vector<std::thread> holders;
    for (int i = 0; i < 2; ++i)
      holders.emplace_back([&] {
        (void)pool.run<int>(Repeatable::no, [&](FakeConnection& c) -> Result<int> {
          ++holding;
          while (!release) std::this_thread::sleep_for(1ms);
          return c.id;
        });
      });
    while (holding < 2) std::this_thread::sleep_for(1ms);
    auto r = pool.run<int>(Repeatable::yes, id);
    release = true;
    for (auto& t : holders) t.join();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::timeout);
    CHECK_THAT(r.error().message, Catch::Contains("FakeDB") && Catch::Contains("pool.max"));
    CHECK(pool.run<int>(Repeatable::yes, id));  // and free again afterwards
  }
  SECTION("a failed connect frees its place") {
    opener.refuse = true;
    for (int i = 0; i < 3; ++i) CHECK(pool.run<int>(Repeatable::yes, id).error().message == "server down");
    opener.refuse = false;
    CHECK(pool.run<int>(Repeatable::yes, id));
  }
  SECTION("an exception from the call discards the connection and propagates") {
    CHECK_THROWS(pool.run<int>(Repeatable::yes, [](FakeConnection&) -> Result<int> { throw std::runtime_error("x"); }));
    CHECK(pool.open_connections() == 0);
  }
}

TEST_CASE("MigrationSet: steps up in order, down newest first, bounds named", "[sdk][migrations]") {
  MigrationSet set({{1, "users", "CREATE u", "DROP u"}, {2, "messages", "CREATE m", "DROP m"},
                    {3, "keys", "CREATE k", "DROP k"}});
  CHECK(set.latest() == 3);
  CHECK(MigrationSet::label(*set.find(2)) == "2_messages");
  CHECK(set.find(0) == nullptr);
  CHECK(set.find(4) == nullptr);

  auto up = set.steps(1, 3).value();
  REQUIRE(up.size() == 2);
  CHECK((up[0].migration->version == 2 && up[0].up));
  CHECK((up[1].migration->version == 3 && up[1].up));
  auto down = set.steps(3, 1).value();
  REQUIRE(down.size() == 2);
  CHECK((down[0].migration->version == 3 && !down[0].up));
  CHECK((down[1].migration->version == 2 && !down[1].up));
  CHECK(set.steps(2, 2).value().empty());

  CHECK(set.steps(0, 4).error().code == ErrorCode::invalid_argument);
  CHECK_THAT(set.steps(0, -1).error().message, Catch::Contains("versions run from 0 to 3"));
  CHECK(set.steps(5, 3).error().code == ErrorCode::conflict);  // a database newer than the build

  try {
    MigrationSet gap({{1, "a", "", ""}, {3, "c", "", ""}});
    FAIL("a gap in the versions was accepted");
  } catch (const Error& e) {
    CHECK_THAT(e.message, Catch::Contains("without gaps") && Catch::Contains("3_c"));
  }
}

TEST_CASE("random_bytes: no draw repeats, across threads and a fork", "[sdk][random]") {
  using Draw = std::array<std::uint8_t, 12>;
  auto draw = [] {
    Draw d{};
    random_bytes(d.data(), d.size());
    return d;
  };
  // Threads, each through its own buffer and its refills.
  std::vector<std::vector<Draw>> drawn(4);
  std::vector<std::thread> threads;
  for (auto& mine : drawn)
    threads.emplace_back([&mine, &draw] {
      for (int i = 0; i < 2000; ++i) mine.push_back(draw());
    });
  for (auto& t : threads) t.join();
  std::set<Draw> all;
  for (const auto& mine : drawn) all.insert(mine.begin(), mine.end());
  CHECK(all.size() == 4 * 2000);
  // A large draw bypasses the buffer.
  std::vector<std::uint8_t> large(10000, 0);
  random_bytes(large.data(), large.size());
  CHECK(std::count(large.begin(), large.end(), 0) < 200);

  // A forked child's next bytes are not its parent's next bytes, though it
  // inherited the parent's buffer.
  (void)draw();  // the buffer holds unread bytes now
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    Draw d = draw();
    ssize_t written = ::write(pipe_fds[1], d.data(), d.size());
    ::_exit(written == static_cast<ssize_t>(d.size()) ? 0 : 1);
  }
  Draw parent = draw(), from_child{};
  REQUIRE(::read(pipe_fds[0], from_child.data(), from_child.size()) == static_cast<ssize_t>(from_child.size()));
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  CHECK(WIFEXITED(status));
  CHECK(parent != from_child);
}
