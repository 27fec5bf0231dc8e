// Group commit and the transactional audit outbox under concurrency, on the
// config STRATA_SERVICES_CONFIG names (service_env.hpp). Also built with
// ThreadSanitizer (the tsan preset) and run there by tools/test.sh.

#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "service_env.hpp"
#include "stored_messages.hpp"

using namespace std::chrono_literals;
using namespace strata;

TEST_CASE("group commit: 64 threads x 500 sends, each acknowledged message stored once with exactly one audit event",
          "[services][concurrency]") {
  test::ServiceEnv env;
  auto alice = env.user("alice");
  auto bob = env.user("bob");
  constexpr int threads = 64;
  constexpr int per_thread = 500;
  std::vector<std::vector<sdk::Uuid>> acknowledged(threads);
  std::atomic<int> unknown_outcome{0};
  std::mutex errors_mutex;
  std::vector<std::string> errors;
  {
    std::vector<std::jthread> senders;
    for (int t = 0; t < threads; ++t)
      senders.emplace_back([&, t] {
        for (int i = 0; i < per_thread; ++i) {
          auto m = env.messages().send(Outgoing{alice.id, bob.id, "message " + std::to_string(t) + "/" + std::to_string(i), std::nullopt},
                                       Origin{"192.0.2.64"});
          if (m) {
            acknowledged[t].push_back(m->id);
          } else if (m.error().code == sdk::ErrorCode::unavailable || m.error().code == sdk::ErrorCode::timeout) {
            ++unknown_outcome;  // the backend went away mid-commit: may or may not be stored
          } else {
            std::lock_guard lock(errors_mutex);
            errors.push_back(m.error().describe());
          }
        }
      });
  }
  INFO((errors.empty() ? std::string() : errors.front()));
  CHECK(errors.empty());

  std::set<sdk::Uuid> acked;
  for (const auto& ids : acknowledged) acked.insert(ids.begin(), ids.end());
  std::size_t acked_count = 0;
  for (const auto& ids : acknowledged) acked_count += ids.size();
  CHECK(acked.size() == acked_count);  // no id acknowledged twice
  CHECK(acked_count + static_cast<std::size_t>(unknown_outcome) == threads * per_thread);

  // Stored exactly once: every acknowledged id is in the inbox; nothing
  // else is, but for sends whose outcome was reported unknown.
  auto stored = test::inbox_ids(*env.host().storage(), bob.id);
  std::set<sdk::Uuid> stored_set(stored.begin(), stored.end());
  CHECK(stored_set.size() == stored.size());
  for (const auto& id : acked) {
    INFO("acknowledged " << id.str());
    REQUIRE(stored_set.contains(id));
  }
  CHECK(stored.size() - acked.size() <= static_cast<std::size_t>(unknown_outcome));

  // One audit event per stored message, none twice, once the relay drained.
  auto per_message = test::send_events_by_message(env, threads * per_thread + 100);
  for (const auto& id : stored_set) {
    INFO("stored " << id.str());
    REQUIRE(per_message[id] == 1);
  }
  CHECK(per_message.size() == stored_set.size());
}

TEST_CASE("group commit: one bad write in a batch fails alone, its neighbours are stored", "[services][concurrency]") {
  test::ServiceEnv env;
  auto alice = env.user("alice");
  auto bob = env.user("bob");
  auto carol = env.user("carol");
  // Carol's row goes away underneath the service; sends to the User she was
  // (no lookup) reach the storage and fail there, in batches with good ones.
  auto deleted = env.host().storage()->delete_user(carol.id);
  REQUIRE(deleted);
  std::atomic<int> good_ok{0}, bad_failed{0}, wrong{0};
  {
    std::vector<std::jthread> senders;
    for (int t = 0; t < 16; ++t)
      senders.emplace_back([&, t] {
        for (int i = 0; i < 50; ++i) {
          bool bad = t % 4 == 0;
          auto m = env.messages().send(alice, bad ? carol : bob, "hello", std::nullopt, Origin{"192.0.2.65"});
          if (!bad && m) ++good_ok;
          else if (bad && !m) ++bad_failed;
          else ++wrong;
        }
      });
  }
  CHECK(wrong == 0);
  CHECK(good_ok == 12 * 50);
  CHECK(bad_failed == 4 * 50);
  CHECK(test::inbox_ids(*env.host().storage(), bob.id).size() == 12 * 50);
  CHECK(test::send_events_by_message(env, 2000).size() == 12 * 50);
}

TEST_CASE("send_async: completes once durable, with a future or a callback", "[services][concurrency]") {
  test::ServiceEnv env;
  auto alice = env.user("alice");
  auto bob = env.user("bob");
  std::vector<std::future<sdk::Result<sdk::Message>>> futures;
  for (int i = 0; i < 200; ++i)
    futures.push_back(env.messages().send_async(Outgoing{alice.id, bob.id, "async " + std::to_string(i), std::nullopt}, Origin{}));
  std::atomic<int> called{0}, succeeded{0};
  std::promise<void> all_called;
  for (int i = 0; i < 100; ++i)
    env.messages().send_async(Outgoing{alice.id, bob.id, "callback", std::nullopt}, Origin{}, [&](sdk::Result<sdk::Message> m) {
      if (m) ++succeeded;  // counted, not asserted: Catch is not thread-safe
      if (++called == 100) all_called.set_value();
    });
  std::set<sdk::Uuid> ids;
  for (auto& f : futures) {
    auto m = f.get();
    REQUIRE(m);
    // Durable when completed: the row is there.
    REQUIRE(env.host().storage()->get_message(m->id));
    ids.insert(m->id);
  }
  REQUIRE(all_called.get_future().wait_for(30s) == std::future_status::ready);
  CHECK(ids.size() == 200);
  CHECK(succeeded == 100);
  CHECK(test::inbox_ids(*env.host().storage(), bob.id).size() == 300);
  // Errors found before the write come back through the future too.
  auto refused = env.messages().send_async(Outgoing{alice.id, sdk::Uuid::generate(), "to nobody", std::nullopt}, Origin{}).get();
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == sdk::ErrorCode::invalid_argument);
}

TEST_CASE("send_async between users already looked up: stored once durable, a deactivated one refused at once",
          "[services][concurrency]") {
  test::ServiceEnv env;
  auto alice = env.user("alice");
  auto bob = env.user("bob");
  std::atomic<int> called{0}, succeeded{0};
  std::promise<void> all_called;
  for (int i = 0; i < 100; ++i)
    env.messages().send_async(alice, bob, "resolved " + std::to_string(i), std::nullopt, Origin{},
                              [&](sdk::Result<sdk::Message> m) {
                                if (m && m->sender_id == alice.id && m->recipient_id == bob.id) ++succeeded;
                                if (++called == 100) all_called.set_value();
                              });
  REQUIRE(all_called.get_future().wait_for(30s) == std::future_status::ready);
  CHECK(succeeded == 100);
  CHECK(test::inbox_ids(*env.host().storage(), bob.id).size() == 100);
  // The copy the caller holds says deactivated: refused before sealing, on the calling thread.
  auto gone = bob;
  gone.is_active = false;
  std::optional<sdk::Result<sdk::Message>> refused;
  env.messages().send_async(alice, gone, "to a deactivated user", std::nullopt, Origin{},
                            [&](sdk::Result<sdk::Message> m) { refused = std::move(m); });
  REQUIRE(refused.has_value());
  REQUIRE_FALSE(*refused);
  CHECK(refused->error().code == sdk::ErrorCode::invalid_argument);
  CHECK(refused->error().message.find("bob") != std::string::npos);
  CHECK(test::inbox_ids(*env.host().storage(), bob.id).size() == 100);
}

TEST_CASE("group commit: with a linger, writers wait for more and every send still completes once",
          "[services][concurrency]") {
  test::ServiceEnv env("[group_commit]\nlinger_us = 2000\nmax_batch = 16\n");
  auto alice = env.user("alice");
  auto bob = env.user("bob");
  std::atomic<int> failed{0};
  {
    std::vector<std::jthread> senders;
    for (int t = 0; t < 8; ++t)
      senders.emplace_back([&] {
        for (int i = 0; i < 50; ++i)
          if (!env.messages().send(alice, bob, "lingered", std::nullopt, Origin{})) ++failed;
      });
  }
  CHECK(failed == 0);
  CHECK(test::inbox_ids(*env.host().storage(), bob.id).size() == 400);
  CHECK(test::send_events_by_message(env, 1000).size() == 400);
}
