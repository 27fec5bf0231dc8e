// Why the per-recipient sequence exists, on a real PostgreSQL: a reader that
// follows an inbox by its keyset cursor skips a message whose transaction
// began first and committed last (created_at is taken at BEGIN); with the
// sequence (migration 8) the later sender waits for the earlier one, and a
// reader following the numbers never passes a message not yet committed.

#include <libpq-fe.h>

#include <future>
#include <thread>

#include <strata/sdk/testing/fixtures.hpp>

#include "postgres_db.hpp"
#include "test_host.hpp"

using namespace strata;
using namespace std::chrono_literals;
using sdk::testing::make_message;
using sdk::testing::make_user;

namespace {

// A raw session, as a seed client holds one: its transaction stays open
// until the test commits it.
class RawSession {
 public:
  explicit RawSession(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
    REQUIRE(PQstatus(conn_) == CONNECTION_OK);
  }
  ~RawSession() { PQfinish(conn_); }
  void run(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    INFO(sql << ": " << PQresultErrorMessage(r));
    auto status = PQresultStatus(r);
    PQclear(r);
    REQUIRE((status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK));
  }

 private:
  PGconn* conn_;
};

// The seed's own INSERT (created_at from its default, now(): the transaction's start).
std::string seed_insert(const sdk::Uuid& id, const sdk::User& from, const sdk::User& to) {
  return "INSERT INTO messages (id, sender_id, recipient_id, encrypted_content, iv) VALUES ('" + id.str() + "', '" +
         from.id.str() + "', '" + to.id.str() + "', '\\x00', '\\x00')";
}

struct Cast {
  test::TempDatabase db;
  std::unique_ptr<Host> host = test::open_host(db.storage_table());
  std::shared_ptr<sdk::Storage> storage = host->storage();
  sdk::User first = make_user("first"), second = make_user("second"), reader = make_user("reader");

  explicit Cast(int version) {
    REQUIRE(storage->migrate(version));
    for (const auto& u : {first, second, reader}) REQUIRE(storage->create_user(u));
  }
};

}  // namespace

TEST_CASE("postgres: the inbox's keyset cursor skips a message that began first and committed last (schema 7)",
          "[postgres][inbox_sequence]") {
  Cast cast(7);
  RawSession slow(cast.db.conninfo());
  const auto slow_id = sdk::Uuid::generate();
  slow.run("BEGIN");
  slow.run(seed_insert(slow_id, cast.first, cast.reader));  // created_at = this transaction's start
  std::this_thread::sleep_for(20ms);
  auto fast = make_message(cast.second.id, cast.reader.id, sdk::Timestamp::now());
  REQUIRE(cast.storage->insert_message(fast));  // began later, commits first
  // A reader polling the inbox sees the fast one and keeps it as its position.
  auto page = cast.storage->inbox(cast.reader.id, sdk::PageRequest{10, std::nullopt});
  REQUIRE(page);
  REQUIRE(page->items.size() == 1);
  CHECK(page->items[0].id == fast.id);
  slow.run("COMMIT");
  // The slow one is stored, but older than the position: a reader asking for
  // what is newer than what it saw never gets it.
  auto all = cast.storage->inbox(cast.reader.id, sdk::PageRequest{10, std::nullopt});
  REQUIRE(all);
  REQUIRE(all->items.size() == 2);
  CHECK(all->items[0].id == fast.id);
  CHECK(all->items[1].id == slow_id);
  CHECK(all->items[1].created_at < fast.created_at);
}

TEST_CASE("postgres: with the sequence, a later sender waits and the reader never passes an uncommitted message",
          "[postgres][inbox_sequence]") {
  Cast cast(8);
  RawSession slow(cast.db.conninfo());
  const auto slow_id = sdk::Uuid::generate();
  slow.run("BEGIN");
  slow.run(seed_insert(slow_id, cast.first, cast.reader));  // takes number 1, holds the reader's head row
  auto fast = make_message(cast.second.id, cast.reader.id, sdk::Timestamp::now());
  auto fast_stored = std::async(std::launch::async, [&] { return cast.storage->insert_message(fast); });
  CHECK(fast_stored.wait_for(300ms) == std::future_status::timeout);  // waits for the first to end
  auto meanwhile = cast.storage->inbox_since(cast.reader.id, 0, 10);
  REQUIRE(meanwhile);
  CHECK(meanwhile->items.empty());
  CHECK(meanwhile->head == 0);
  slow.run("COMMIT");
  REQUIRE(fast_stored.get());
  auto stream = cast.storage->inbox_since(cast.reader.id, 0, 10);
  REQUIRE(stream);
  REQUIRE(stream->items.size() == 2);
  CHECK(stream->items[0].seq == 1);
  CHECK(stream->items[0].message.id == slow_id);  // a seed client's insert is numbered too
  CHECK(stream->items[1].seq == 2);
  CHECK(stream->items[1].message.id == fast.id);

  SECTION("a transaction that rolls back gives its number back") {
    slow.run("BEGIN");
    slow.run(seed_insert(sdk::Uuid::generate(), cast.first, cast.reader));
    slow.run("ROLLBACK");
    auto next = make_message(cast.second.id, cast.reader.id, sdk::Timestamp::now());
    REQUIRE(cast.storage->insert_message(next));
    auto after = cast.storage->inbox_since(cast.reader.id, 2, 10);
    REQUIRE(after);
    REQUIRE(after->items.size() == 1);
    CHECK(after->items[0].seq == 3);
  }
  SECTION("migrating down and up again keeps the rows; numbering restarts in a new epoch") {
    REQUIRE(cast.storage->migrate(7));
    REQUIRE(cast.storage->migrate(8));
    REQUIRE(cast.storage->insert_message(make_message(cast.second.id, cast.reader.id, sdk::Timestamp::now())));
    auto again = cast.storage->inbox_since(cast.reader.id, 0, 10);
    REQUIRE(again);
    CHECK(again->epoch != stream->epoch);
    REQUIRE(again->items.size() == 1);  // the two older rows have no number any more
    CHECK(again->items[0].seq == 1);
    auto page = cast.storage->inbox(cast.reader.id, sdk::PageRequest{10, std::nullopt});
    REQUIRE(page);
    CHECK(page->items.size() == 3);
  }
}
