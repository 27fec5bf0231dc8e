// Following an inbox (Messages::since, wait, subscribe) on every shipped
// config: every message exactly once, in commit order, whatever happens to
// the hints; a gap answer whenever messages after a cursor are gone.

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "inbox_stream.hpp"
#include "own_redis.hpp"
#include "service_env.hpp"

namespace strata::test {
namespace {

using namespace std::chrono_literals;

// Short, so a test whose hints are all lost still finishes quickly.
const std::string fast_poll = "[delivery]\npoll_interval_ms = 50\n";

// A hostile transport in front of the in-process one: each hint is dropped,
// repeated or held back and released later out of order, at random (seeded).
class HostileHints final : public HintTransport {
 public:
  explicit HostileHints(std::uint32_t seed) : random_(seed), releaser_([this] { release_loop(); }) {}
  ~HostileHints() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    releaser_.join();
  }
  void publish(const sdk::Uuid& recipient) override {
    std::lock_guard lock(mutex_);
    std::uniform_int_distribution<int> roll(0, 99);
    int r = roll(random_);
    if (r < 40) return;  // lost
    int copies = r < 60 ? 2 : 1;  // repeated
    for (int i = 0; i < copies; ++i) {
      if (roll(random_) < 50) held_.push_back(recipient);  // delayed, released in a shuffled order
      else deliver_locked(recipient);
    }
  }
  void listen(Receiver receiver) override {
    std::lock_guard lock(mutex_);
    receiver_ = std::move(receiver);
  }

 private:
  void deliver_locked(const sdk::Uuid& recipient) {
    if (receiver_) receiver_(recipient);
  }
  void release_loop() {
    for (;;) {
      std::this_thread::sleep_for(20ms);
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      std::shuffle(held_.begin(), held_.end(), random_);
      for (const auto& recipient : held_) deliver_locked(recipient);
      held_.clear();
    }
  }
  std::mutex mutex_;
  std::mt19937 random_;
  Receiver receiver_;
  std::vector<sdk::Uuid> held_;
  bool stopping_ = false;
  std::thread releaser_;
};

// What one subscriber saw, for the checker.
struct Seen {
  std::mutex mutex;
  std::vector<sdk::Uuid> ids;
  int gaps = 0;
  std::atomic<bool> in_callback{false};
  std::atomic<int> overlaps{0};  // callbacks of one subscription running at once (must stay 0)
};

// A counter's value in the host's Prometheus text; 0 before it counted anything.
double counter(Host& host, const std::string& name) {
  const std::string text = host.metrics()->prometheus();
  for (std::size_t at = text.find(name + " "); at != std::string::npos; at = text.find(name + " ", at + 1)) {
    if (at == 0 || text[at - 1] == '\n') return std::stod(text.substr(at + name.size() + 1));
  }
  return 0;
}

// Another process on `env`'s config with the environment `vars`: its own
// host, services and connections (services first to go).
struct OtherProcess {
  std::unique_ptr<Host> host;
  std::unique_ptr<Services> services;
};

OtherProcess other_process(ServiceEnv& env, const std::map<std::string, std::string>& vars) {
  HostOptions options;
  options.env = fake_env(vars);
  auto host = Host::open_string(env.config_text(), options, "production.toml");
  INFO((host ? std::string() : host.error().describe()));
  REQUIRE(host);
  auto services = Services::open(**host, ServicesOptions{false});
  REQUIRE(services);
  return OtherProcess{std::move(*host), std::move(*services)};
}

std::unique_ptr<InboxSubscription> follow(Messages& messages, const sdk::Uuid& recipient, InboxCursor from,
                                          Seen& seen) {
  auto subscription = messages.subscribe(
      recipient, std::move(from),
      [&seen](const InboxUpdate& update) {
        if (seen.in_callback.exchange(true)) ++seen.overlaps;
        std::this_thread::sleep_for(std::chrono::microseconds(200));  // room for an overlap to show
        seen.in_callback = false;
        std::lock_guard lock(seen.mutex);
        if (update.gap) ++seen.gaps;
        for (const auto& entry : update.entries) {
          CHECK(entry.text.has_value());
          seen.ids.push_back(entry.envelope.id);
        }
      },
      Origin{});
  INFO((subscription ? std::string() : subscription.error().describe()));
  REQUIRE(subscription);
  return std::move(*subscription);
}

}  // namespace

TEST_CASE("inbox: since reads from a cursor in commit order and says when messages after it are gone",
          "[services][inbox_stream]") {
  ServiceEnv env(fast_poll);
  auto alice = env.user("alice"), bob = env.user("bob");
  std::vector<sdk::Uuid> sent;
  for (int i = 0; i < 5; ++i) {
    auto m = env.messages().send(Outgoing{alice.id, bob.id, "hello " + std::to_string(i), std::nullopt}, Origin{});
    REQUIRE(m);
    sent.push_back(m->id);
  }
  auto first = env.messages().since(bob.id, InboxCursor{}, 2, Origin{});
  REQUIRE(first);
  CHECK_FALSE(first->gap);
  REQUIRE(first->entries.size() == 2);
  CHECK(first->entries[0].envelope.id == sent[0]);
  CHECK(*first->entries[1].text == "hello 1");
  CHECK(first->next.seq == 2);
  CHECK_FALSE(first->next.epoch.empty());
  auto rest = env.messages().since(bob.id, first->next, 100, Origin{});
  REQUIRE(rest);
  REQUIRE(rest->entries.size() == 3);
  CHECK(rest->entries[2].envelope.id == sent[4]);
  // Caught up: nothing, and the same cursor back.
  auto none = env.messages().since(bob.id, rest->next, 100, Origin{});
  REQUIRE(none);
  CHECK(none->entries.empty());
  CHECK(none->next == rest->next);
  CHECK(whole_stream(env.messages(), alice.id).empty());  // alice received nothing

  SECTION("a deleted message is passed over, the cursor moves past it") {
    auto m = env.messages().send(Outgoing{alice.id, bob.id, "oops", std::nullopt}, Origin{});
    REQUIRE(m);
    REQUIRE(env.messages().remove(m->id, alice.id, Origin{}));
    auto update = env.messages().since(bob.id, rest->next, 100, Origin{});
    REQUIRE(update);
    CHECK_FALSE(update->gap);
    CHECK(update->entries.empty());
    CHECK(update->next.seq == rest->next.seq + 1);
  }
  SECTION("a cursor from another epoch is a gap, with where to go on from") {
    InboxCursor stranger{"another-epoch", 3};
    auto update = env.messages().since(bob.id, stranger, 100, Origin{});
    REQUIRE(update);
    CHECK(update->gap);
    CHECK(update->entries.empty());
    CHECK(update->next == rest->next);
  }
  SECTION("a cursor past the head (numbers went back: a restore, a lost failover) is a gap") {
    InboxCursor ahead{rest->next.epoch, rest->next.seq + 10};
    auto update = env.messages().since(bob.id, ahead, 100, Origin{});
    REQUIRE(update);
    CHECK(update->gap);
    CHECK(update->next == rest->next);
  }
  SECTION("purged messages a cursor had not reached are a gap, never a silent skip") {
    auto expiring = env.messages().send(Outgoing{alice.id, bob.id, "brief", 1s}, Origin{});
    REQUIRE(expiring);
    auto later = env.messages().send(Outgoing{alice.id, bob.id, "stays", std::nullopt}, Origin{});
    REQUIRE(later);
    std::this_thread::sleep_for(1100ms);
    REQUIRE(env.host().storage()->purge_expired(sdk::Timestamp::now()));
    auto update = env.messages().since(bob.id, rest->next, 100, Origin{});
    REQUIRE(update);
    CHECK(update->gap);
    CHECK(update->next.seq == rest->next.seq + 2);
    // A reader past the purged one goes on without a gap.
    auto past = env.messages().since(bob.id, InboxCursor{rest->next.epoch, rest->next.seq + 1}, 100, Origin{});
    REQUIRE(past);
    CHECK_FALSE(past->gap);
    REQUIRE(past->entries.size() == 1);
    CHECK(past->entries[0].envelope.id == later->id);
  }
  SECTION("cursors print and parse; a malformed one is refused by name") {
    auto parsed = InboxCursor::parse(rest->next.str());
    REQUIRE(parsed);
    CHECK(*parsed == rest->next);
    for (std::string bad : {"", "no-colon", "epoch:", "epoch:12x", "epoch:-1", "ep och:3"}) {
      auto refused = InboxCursor::parse(bad);
      REQUIRE_FALSE(refused);
      CHECK(refused.error().code == sdk::ErrorCode::invalid_argument);
      CHECK(refused.error().message.find("inbox cursor") != std::string::npos);
    }
  }
}

TEST_CASE("inbox: wait returns as soon as a message commits, or empty at its timeout", "[services][inbox_stream]") {
  ServiceEnv env(fast_poll);
  auto alice = env.user("alice"), bob = env.user("bob");
  auto start = env.messages().since(bob.id, InboxCursor{}, 10, Origin{});
  REQUIRE(start);
  auto quiet = env.messages().wait(bob.id, start->next, 100ms, Origin{});
  REQUIRE(quiet);
  CHECK(quiet->entries.empty());
  CHECK(quiet->next == start->next);
  std::thread sender([&] {
    std::this_thread::sleep_for(100ms);
    REQUIRE(env.messages().send(Outgoing{alice.id, bob.id, "ping", std::nullopt}, Origin{}));
  });
  auto woke = env.messages().wait(bob.id, start->next, 30s, Origin{});
  sender.join();
  REQUIRE(woke);
  REQUIRE(woke->entries.size() == 1);
  CHECK(*woke->entries[0].text == "ping");
}

TEST_CASE("inbox: subscribers get every message once and in order, with hints lost, repeated, late and reordered",
          "[services][inbox_stream]") {
  ServiceEnv env(fast_poll);
  const std::uint32_t seed = std::random_device{}();
  INFO("seed " << seed);
  env.messages().use_hint_transport(std::make_shared<HostileHints>(seed));
  constexpr int recipients = 4, senders = 3, per_sender = 60;
  std::vector<sdk::User> to, from;
  for (int i = 0; i < recipients; ++i) to.push_back(env.user("to" + std::to_string(i)));
  for (int i = 0; i < senders; ++i) from.push_back(env.user("from" + std::to_string(i)));
  std::vector<Seen> seen(recipients);
  std::vector<std::unique_ptr<InboxSubscription>> subscriptions;
  for (int r = 0; r < recipients; ++r) subscriptions.push_back(follow(env.messages(), to[r].id, InboxCursor{}, seen[r]));

  std::atomic<int> sent{0};
  std::vector<std::thread> threads;
  for (int s = 0; s < senders; ++s)
    threads.emplace_back([&, s] {
      std::mt19937 pick(seed + static_cast<std::uint32_t>(s));
      for (int i = 0; i < per_sender; ++i) {
        const auto& recipient = to[pick() % recipients];
        if (env.messages().send(Outgoing{from[s].id, recipient.id, "m" + std::to_string(i), std::nullopt}, Origin{}))
          ++sent;
      }
    });
  // Meanwhile subscriber 0 is stopped and resumed from its cursor, twice.
  for (int restart = 0; restart < 2; ++restart) {
    std::this_thread::sleep_for(150ms);
    subscriptions[0]->cancel();  // then the cursor is final: nothing delivered past it
    InboxCursor resume_at = subscriptions[0]->cursor();
    subscriptions[0].reset();
    subscriptions[0] = follow(env.messages(), to[0].id, resume_at, seen[0]);
  }
  for (auto& t : threads) t.join();
  REQUIRE(sent.load() == senders * per_sender);

  // The checker: each subscriber saw exactly its inbox's stream, in order.
  for (int r = 0; r < recipients; ++r) {
    auto expected = whole_stream(env.messages(), to[r].id);
    auto deadline = std::chrono::steady_clock::now() + 30s;
    for (;;) {
      {
        std::lock_guard lock(seen[r].mutex);
        if (seen[r].ids.size() >= expected.size() || std::chrono::steady_clock::now() > deadline) break;
      }
      std::this_thread::sleep_for(20ms);
    }
    subscriptions[r].reset();
    INFO("recipient " << r);
    CHECK(seen[r].ids == expected);  // 0 lost, 0 twice, sequence order
    CHECK(seen[r].gaps == 0);
    CHECK(seen[r].overlaps.load() == 0);
  }
  std::size_t total = 0;
  for (int r = 0; r < recipients; ++r) total += seen[r].ids.size();
  CHECK(total == static_cast<std::size_t>(senders * per_sender));
}

TEST_CASE("inbox: with every hint lost, the poll still delivers everything", "[services][inbox_stream]") {
  ServiceEnv env(fast_poll);
  class NoHints final : public HintTransport {
   public:
    void publish(const sdk::Uuid&) override {}
    void listen(Receiver) override {}
  };
  env.messages().use_hint_transport(std::make_shared<NoHints>());
  auto alice = env.user("alice"), bob = env.user("bob");
  Seen seen;
  auto subscription = follow(env.messages(), bob.id, InboxCursor{}, seen);
  // Once the catch-up read of the empty inbox is done, the subscription is
  // idle: from then on only the poll can find a message (a delivery that
  // was still reading would chase the sends without it).
  const auto caught_up = std::chrono::steady_clock::now() + 30s;
  while (counter(env.host(), "strata_inbox_reads_total") < 1 && std::chrono::steady_clock::now() < caught_up)
    std::this_thread::sleep_for(5ms);
  REQUIRE(counter(env.host(), "strata_inbox_reads_total") >= 1);
  std::vector<sdk::Uuid> sent;
  for (int i = 0; i < 20; ++i) {
    auto m = env.messages().send(Outgoing{alice.id, bob.id, "quiet " + std::to_string(i), std::nullopt}, Origin{});
    REQUIRE(m);
    sent.push_back(m->id);
  }
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock(seen.mutex);
      if (seen.ids.size() >= sent.size()) break;
    }
    std::this_thread::sleep_for(20ms);
  }
  subscription.reset();
  CHECK(seen.ids == sent);
  // The poll found them: none of it was a hint.
  CHECK(counter(env.host(), "strata_inbox_poll_found_total") > 0);
  CHECK(counter(env.host(), "strata_inbox_hints_received_total") == 0);
}

TEST_CASE("inbox: a cancelled subscription is never called again, even from its own callback",
          "[services][inbox_stream]") {
  ServiceEnv env(fast_poll);
  auto alice = env.user("alice"), bob = env.user("bob");
  std::atomic<int> calls{0};
  std::unique_ptr<InboxSubscription> subscription;
  std::mutex handle;
  auto made = env.messages().subscribe(
      bob.id, InboxCursor{},
      [&](const InboxUpdate&) {
        ++calls;
        std::lock_guard lock(handle);
        subscription->cancel();  // from the callback itself
      },
      Origin{});
  REQUIRE(made);
  {
    std::lock_guard lock(handle);
    subscription = std::move(*made);
  }
  for (int i = 0; i < 3; ++i) {
    REQUIRE(env.messages().send(Outgoing{alice.id, bob.id, "x", std::nullopt}, Origin{}));
    std::this_thread::sleep_for(100ms);
  }
  CHECK(calls.load() == 1);
  std::lock_guard lock(handle);
  subscription.reset();
}

TEST_CASE("inbox: another process's send reaches a subscriber by a hint through the cache, not the poll",
          "[services][inbox_stream]") {
  // Hints carried by the poll alone would take a minute here.
  ServiceEnv env("[delivery]\npoll_interval_ms = 60000\n");
  if (!env.production()) {
    SUCCEED("the memory and embedded configs' caches carry hints within one process only");
    return;
  }
  auto alice = env.user("alice"), bob = env.user("bob");
  // A second process on the same config and Redis.
  auto other = other_process(env, env.env_vars());
  Seen seen;
  auto subscription = follow(env.messages(), bob.id, InboxCursor{}, seen);
  std::this_thread::sleep_for(300ms);  // the cache's listener subscribes in the background
  auto sent = other.services->messages().send(Outgoing{alice.id, bob.id, "from the other process", std::nullopt}, Origin{});
  REQUIRE(sent);
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < 10s) {
    {
      std::lock_guard lock(seen.mutex);
      if (!seen.ids.empty()) break;
    }
    std::this_thread::sleep_for(2ms);
  }
  subscription.reset();
  // Within 10 s, with the first poll a minute away: only a hint can have brought it.
  REQUIRE(seen.ids.size() == 1);
  CHECK(seen.ids[0] == sent->id);
}

TEST_CASE("inbox: a subscriber loses nothing while the cache's Redis is down, and hints resume after",
          "[services][inbox_stream]") {
  ServiceEnv env("[delivery]\npoll_interval_ms = 300\n");
  if (!env.production()) {
    SUCCEED("only the production config carries hints through Redis");
    return;
  }
  auto alice = env.user("alice"), bob = env.user("bob");
  // A process whose cache is a Redis of this test's own, stopped and started
  // again under it; storage and audit are the suite's servers.
  OwnRedis redis;
  auto vars = env.env_vars();
  vars["REDIS_PORT"] = std::to_string(redis.port());
  auto process = other_process(env, vars);
  Host& host = *process.host;
  Messages& messages = process.services->messages();

  Seen seen;
  auto subscription = follow(messages, bob.id, InboxCursor{}, seen);
  std::vector<sdk::Uuid> sent;
  auto send = [&](const std::string& text) {
    auto m = messages.send(Outgoing{alice.id, bob.id, text, std::nullopt}, Origin{});
    INFO((m ? std::string() : m.error().describe()));
    REQUIRE(m);
    sent.push_back(m->id);
  };
  auto seen_count = [&] {
    std::lock_guard lock(seen.mutex);
    return seen.ids.size();
  };
  auto wait_until_seen = [&](std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (seen_count() < n && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
    REQUIRE(seen_count() >= n);
  };

  send("before");
  wait_until_seen(1);
  redis.stop();
  for (int i = 0; i < 3; ++i) send("while Redis is down " + std::to_string(i));
  wait_until_seen(sent.size());  // their hints had nowhere to go: the poll (or a read under way) found them
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (counter(host, "strata_inbox_hints_unsent_total") == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  CHECK(counter(host, "strata_inbox_hints_unsent_total") > 0);

  // Redis back on its port: the publisher's connections and the listener's
  // subscription come back by themselves, and hints go out again.
  redis.start();
  const double sent_before = counter(host, "strata_inbox_hints_sent_total");
  const auto until = std::chrono::steady_clock::now() + 30s;
  while (counter(host, "strata_inbox_hints_sent_total") == sent_before && std::chrono::steady_clock::now() < until) {
    send("after Redis came back " + std::to_string(sent.size()));
    std::this_thread::sleep_for(200ms);
  }
  CHECK(counter(host, "strata_inbox_hints_sent_total") > sent_before);
  wait_until_seen(sent.size());
  subscription.reset();
  std::lock_guard lock(seen.mutex);
  CHECK(seen.ids == sent);  // each exactly once, in the order sent
  CHECK(seen.gaps == 0);
  CHECK(seen.overlaps == 0);
}

}  // namespace strata::test
