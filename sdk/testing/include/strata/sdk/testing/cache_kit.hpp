#pragma once
// Cache conformance kit. Instantiate once per plugin and instance:
//
//   STRATA_CACHE_CONFORMANCE("redis session", my_cache_target())

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "strata/sdk/sdk.hpp"
#include "strata/sdk/testing/catch.hpp"
#include "strata/sdk/testing/fixtures.hpp"
#include "strata/sdk/testing/expect.hpp"

namespace strata::sdk::testing {

/// What the cache kit needs from a plugin.
struct CacheTarget {
  /// A new, empty cache instance: every call a namespace of its own (or, for
  /// an instance that owns its whole database, the same instance emptied).
  std::function<std::shared_ptr<Cache>()> fresh;
  /// The instance's configured default TTL; empty when values without a TTL never expire.
  std::optional<Ttl> default_ttl;
  /// Capability: moves the clock the cache reads (a ManualClock). Left empty
  /// for backends that keep real time; the kit then sleeps instead.
  std::function<void(Ttl)> advance_clock;
  /// Optional: another instance on the same backend, to prove clear() stays in its namespace.
  std::function<std::shared_ptr<Cache>()> sibling;
  /// Capability of the server behind the plugin: concurrent increments of one
  /// key are never lost. True for Redis and MongoDB; a server that cannot
  /// promise it is still checked for correct increments from one thread.
  bool atomic_increment = true;
  /// Capability: backup(), restore() and has_data() (SDK 1.2). Declared false,
  /// the kit checks that they answer `unsupported`.
  bool backup = true;
  /// Capability: publish() and listen() (SDK 1.10), messages between
  /// processes on the same server. Declared false, the kit checks
  /// `unsupported`; the services then carry inbox hints within one process.
  bool publish_subscribe = true;
  /// Declared limit: the largest value the plugin stores, in bytes, for a
  /// backend with a smaller item size than 1 MiB (memcached's 1 MiB item
  /// counts its own overhead). Empty: values of 1 MiB must be stored whole.
  /// Declared, it must be at least `min_declared_value_limit`; values up to
  /// it are stored whole, and a larger one is refused with
  /// `invalid_argument` naming the limit, before anything is stored.
  std::optional<std::size_t> max_value_bytes;
};

/// The smallest value limit a cache may declare. What the services keep in
/// a cache (sessions, cached users, counters) is a few hundred bytes, so
/// any cache that stores this much serves them.
inline constexpr std::size_t min_declared_value_limit = 64 * 1024;

/// Runs every cache check; each SECTION gets a fresh instance.
inline void run_cache_conformance(const CacheTarget& target) {
  using detail::expect_error;
  using detail::expect_ok;
  std::shared_ptr<Cache> c = target.fresh();
  REQUIRE(c);
  auto pass = [&](Ttl d) {
    if (target.advance_clock) target.advance_clock(d);
    else std::this_thread::sleep_for(d);
  };
  auto value_of = [&](std::string_view key) { return expect_ok(c->get(key)); };

  SECTION("health") { expect_ok(c->health()); }

  SECTION("set, get, overwrite, remove, exists") {
    CHECK_FALSE(value_of("absent").has_value());
    expect_ok(c->set("k", as_bytes("v1"), std::nullopt));
    CHECK(value_of("k") == to_bytes("v1"));
    expect_ok(c->set("k", as_bytes("v2"), std::nullopt));
    CHECK(value_of("k") == to_bytes("v2"));
    CHECK(expect_ok(c->exists("k")));
    CHECK(expect_ok(c->remove("k")));
    CHECK_FALSE(expect_ok(c->remove("k")));
    CHECK_FALSE(expect_ok(c->exists("k")));
    expect_ok(c->set("empty", BytesView{}, std::nullopt));
    CHECK(value_of("empty") == Bytes{});
  }

  SECTION("binary and hostile keys and values round-trip, 1 MiB (or the declared limit) included") {
    std::vector<std::string> keys = hostile_strings();
    keys.push_back(std::string("nul\0in key", 11));
    keys.push_back("with space");
    keys.push_back(std::string(1, '\0'));
    Bytes big(target.max_value_bytes.value_or(std::size_t{1} << 20));
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i * 31 + 7);
    for (const auto& key : keys) {
      expect_ok(c->set(key, all_byte_values(), std::nullopt));
      CHECK(value_of(key) == all_byte_values());
    }
    expect_ok(c->set("big", big, std::nullopt));
    CHECK(value_of("big") == big);
    CHECK(value_of(std::string("nul\0in key", 11)) != value_of("nul"));
  }

  SECTION("a declared value limit: at least 64 KiB, and a larger value is refused whole, naming it") {
    if (!target.max_value_bytes) return;  // none declared: the section above stored 1 MiB
    const std::size_t limit = *target.max_value_bytes;
    INFO("the target declares max_value_bytes = " << limit);
    CHECK(limit >= min_declared_value_limit);
    const Bytes over(limit + 1, 0x5a);
    auto refused = [&](const auto& result) {
      expect_error(result, ErrorCode::invalid_argument);
      if (!result) CHECK(result.error().message.find(std::to_string(limit)) != std::string::npos);
    };
    expect_ok(c->set("kept", as_bytes("old"), std::nullopt));
    refused(c->set("kept", over, std::nullopt));
    CHECK(value_of("kept") == to_bytes("old"));  // the old value stays
    refused(c->set_if_absent("fresh", over, std::nullopt));
    CHECK_FALSE(value_of("fresh").has_value());
    const std::vector<std::pair<std::string, Bytes>> batch{{"small", to_bytes("fits")}, {"large", over}};
    refused(c->set_many(batch, std::nullopt));
    CHECK_FALSE(value_of("small").has_value());  // checked before anything was stored
    CHECK_FALSE(value_of("large").has_value());
  }

  SECTION("TTL: values expire; ttl() reports what remains; default TTL applies") {
    expect_ok(c->set("short", as_bytes("v"), Ttl(300)));
    auto remaining = expect_ok(c->ttl("short"));
    CHECK(remaining.exists);
    REQUIRE(remaining.remaining.has_value());
    CHECK(remaining.remaining->count() > 0);
    CHECK(remaining.remaining->count() <= 300);
    pass(Ttl(450));
    CHECK_FALSE(value_of("short").has_value());
    CHECK_FALSE(expect_ok(c->exists("short")));
    CHECK_FALSE(expect_ok(c->ttl("short")).exists);

    expect_ok(c->set("default", as_bytes("v"), std::nullopt));
    auto ttl = expect_ok(c->ttl("default"));
    CHECK(ttl.exists);
    if (target.default_ttl) {
      REQUIRE(ttl.remaining.has_value());
      CHECK(*ttl.remaining <= *target.default_ttl);
      CHECK(*ttl.remaining > *target.default_ttl - std::chrono::seconds(5));
    } else {
      CHECK_FALSE(ttl.remaining.has_value());
    }
    expect_error(c->set("bad", as_bytes("v"), Ttl(0)), ErrorCode::invalid_argument);
    expect_error(c->set("bad", as_bytes("v"), Ttl(-5)), ErrorCode::invalid_argument);
  }

  SECTION("expire sets a new TTL on existing keys only") {
    CHECK_FALSE(expect_ok(c->expire("absent", Ttl(1000))));
    expect_ok(c->set("k", as_bytes("v"), Ttl(60'000)));
    CHECK(expect_ok(c->expire("k", Ttl(300))));
    CHECK(expect_ok(c->ttl("k")).remaining <= Ttl(300));
    pass(Ttl(450));
    CHECK_FALSE(expect_ok(c->exists("k")));
  }

  SECTION("set_if_absent stores only when absent, and again after expiry") {
    CHECK(expect_ok(c->set_if_absent("lock", as_bytes("first"), Ttl(300))));
    CHECK_FALSE(expect_ok(c->set_if_absent("lock", as_bytes("second"), Ttl(300))));
    CHECK(value_of("lock") == to_bytes("first"));
    pass(Ttl(450));
    CHECK(expect_ok(c->set_if_absent("lock", as_bytes("third"), Ttl(300))));
    CHECK(value_of("lock") == to_bytes("third"));
  }

  SECTION("get_many and set_many keep order; missing keys are empty") {
    std::vector<std::pair<std::string, Bytes>> entries;
    std::vector<std::string> keys;
    for (int i = 0; i < 100; ++i) {
      entries.emplace_back("many:" + std::to_string(i), to_bytes("value " + std::to_string(i)));
      keys.push_back("many:" + std::to_string(i));
      keys.push_back("missing:" + std::to_string(i));
    }
    expect_ok(c->set_many(entries, Ttl(60'000)));
    auto values = expect_ok(c->get_many(keys));
    REQUIRE(values.size() == keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (i % 2 == 0) CHECK(values[i] == entries[i / 2].second);
      else CHECK_FALSE(values[i].has_value());
    }
    CHECK(expect_ok(c->get_many(std::vector<std::string>{})).empty());
    expect_ok(c->set_many(std::vector<std::pair<std::string, Bytes>>{}, std::nullopt));
  }

  SECTION("increment: counts from zero, keeps TTL semantics, refuses non-integers") {
    CHECK(expect_ok(c->increment("n", 5, Ttl(60'000))) == 5);
    CHECK(expect_ok(c->increment("n", -7, std::nullopt)) == -2);
    CHECK(value_of("n") == to_bytes("-2"));
    CHECK(expect_ok(c->ttl("n")).remaining.has_value());
    expect_ok(c->set("text", as_bytes("not a number"), std::nullopt));
    expect_error(c->increment("text", 1, std::nullopt), ErrorCode::invalid_argument);
    CHECK(value_of("text") == to_bytes("not a number"));
  }

  SECTION("increment is atomic across threads") {
    const int threads = target.atomic_increment ? 4 : 1, per_thread = 250;
    std::vector<std::thread> workers;
    detail::FailureLog failures;
    for (int t = 0; t < threads; ++t)
      workers.emplace_back([&] {
        for (int i = 0; i < per_thread; ++i) failures.note(c->increment("counter", 1, Ttl(60'000)));
      });
    for (auto& w : workers) w.join();
    INFO("first failure: " << failures.first());
    CHECK(failures.count() == 0);
    CHECK(value_of("counter") == to_bytes(std::to_string(threads * per_thread)));
  }

  SECTION("backup (SDK 1.2): values and remaining TTLs survive a restore into a fresh instance") {
    // NUL and newline in the key; valid UTF-8, because FerretDB 1.24 rewrites
    // invalid UTF-8 in stored strings (0xff becomes U+FFFD) on insert.
    const std::string binary("k\0\n\xc3\xa9", 5);
    expect_ok(c->set("long", as_bytes("lives an hour"), Ttl(std::chrono::hours(1))));
    expect_ok(c->set(binary, as_bytes(std::string("\0v", 2)), Ttl(std::chrono::minutes(5))));
    ScratchDir dir;
    auto report = c->backup(dir.path());
    if (!detail::declared_backup(target.backup, report)) return;
    CHECK(expect_ok(c->has_data()));
    auto restored = target.fresh();
    CHECK_FALSE(expect_ok(restored->has_data()));
    auto back = restored->restore(dir.path());
    INFO((back ? std::string() : back.error().describe()));
    REQUIRE(back);
    CHECK(expect_ok(restored->get("long")) == to_bytes("lives an hour"));
    CHECK(expect_ok(restored->get(binary)) == to_bytes(std::string("\0v", 2)));
    auto ttl = expect_ok(restored->ttl("long"));
    REQUIRE(ttl.remaining);
    CHECK(std::chrono::abs(*ttl.remaining - Ttl(std::chrono::hours(1))) < std::chrono::seconds(5));
  }

  SECTION("publish and listen (SDK 1.10): every message, binary-safe and in order, to this namespace, until stopped") {
    if (!target.publish_subscribe) {
      expect_error(c->publish("hints", {}), ErrorCode::unsupported);
      expect_error(c->listen("hints", {}), ErrorCode::unsupported);
      return;
    }
    std::mutex mutex;
    std::vector<Bytes> heard;
    auto count = [&] {
      std::lock_guard lock(mutex);
      return heard.size();
    };
    expect_ok(c->listen("hints", [&](BytesView message) {
      std::lock_guard lock(mutex);
      heard.emplace_back(message.begin(), message.end());
    }));
    std::shared_ptr<Cache> other = target.sibling ? target.sibling() : nullptr;
    std::atomic<int> other_heard{0};
    if (other) expect_ok(other->listen("hints", [&](BytesView) { ++other_heard; }));
    // A listener may subscribe in the background: publish until it hears.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (count() == 0 && std::chrono::steady_clock::now() < deadline) {
      expect_ok(c->publish("hints", as_bytes("ready?")));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    REQUIRE(count() > 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the last "ready?" arrives
    const std::size_t before = count();
    const std::vector<Bytes> sent{all_byte_values(), Bytes{}, to_bytes("third")};
    for (const auto& message : sent) expect_ok(c->publish("hints", message));
    expect_ok(c->publish("elsewhere", as_bytes("not for this listener")));
    while (count() < before + sent.size() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    {
      std::lock_guard lock(mutex);
      REQUIRE(heard.size() == before + sent.size());
      CHECK(std::vector<Bytes>(heard.begin() + static_cast<std::ptrdiff_t>(before), heard.end()) == sent);
    }
    // Stopped, it hears nothing more; another namespace heard nothing at all.
    expect_ok(c->listen("hints", {}));
    expect_ok(c->publish("hints", as_bytes("after")));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK(count() == before + sent.size());
    CHECK(other_heard.load() == 0);
    if (other) expect_ok(other->listen("hints", {}));
    expect_ok(c->listen("never listened", {}));
  }

  SECTION("clear removes this instance's keys, not another's") {
    for (int i = 0; i < 20; ++i) expect_ok(c->set("clear:" + std::to_string(i), as_bytes("v"), std::nullopt));
    std::shared_ptr<Cache> other = target.sibling ? target.sibling() : nullptr;
    if (other) expect_ok(other->set("clear:kept", as_bytes("v"), std::nullopt));
    CHECK(expect_ok(c->clear()) == 20);
    for (int i = 0; i < 20; ++i) CHECK_FALSE(value_of("clear:" + std::to_string(i)).has_value());
    if (other) CHECK(expect_ok(other->get("clear:kept")) == to_bytes("v"));
  }
}

}  // namespace strata::sdk::testing

/// Declares the cache conformance test case for one plugin instance.
#define STRATA_CACHE_CONFORMANCE(LABEL, ...)                          \
  TEST_CASE("cache conformance: " LABEL, "[conformance][cache]") {    \
    ::strata::sdk::testing::run_cache_conformance(__VA_ARGS__);       \
  }
