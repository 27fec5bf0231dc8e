#pragma once
// Audit conformance kit. Instantiate once per plugin configuration:
//
//   STRATA_AUDIT_CONFORMANCE("mongodb", my_audit_target())
//
// Timestamps are generated at whole milliseconds, the precision of BSON dates.

#include <algorithm>
#include <functional>
#include <memory>
#include <vector>

#include "strata/sdk/sdk.hpp"
#include "strata/sdk/testing/catch.hpp"
#include "strata/sdk/testing/expect.hpp"
#include "strata/sdk/testing/fixtures.hpp"
#include "strata/sdk/testing/json.hpp"

namespace strata::sdk::testing {

/// What the audit kit needs from a plugin.
struct AuditTarget {
  /// A new, empty audit sink.
  std::function<std::shared_ptr<Audit>()> fresh;
  /// Capability: backup(), restore() and has_data() (SDK 1.2). Declared false,
  /// the kit checks that they answer `unsupported`.
  bool backup = true;
};

/// Runs every audit check; each SECTION gets a fresh sink.
inline void run_audit_conformance(const AuditTarget& target) {
  using detail::expect_error;
  using detail::expect_ok;
  std::shared_ptr<Audit> a = target.fresh();
  REQUIRE(a);
  const Timestamp t0 = now_ms();
  auto at = [&](int seconds) { return t0 - std::chrono::seconds(seconds); };

  SECTION("health") { expect_ok(a->health()); }

  SECTION("sink identity (SDK 1.9): where the events go, one line, the same on every call") {
    auto identity = a->sink_identity();
    if (!identity && identity.error().code == ErrorCode::unsupported) return;  // known by its plugin's name
    REQUIRE(identity);
    CHECK_FALSE(identity->empty());
    CHECK(identity->find('\n') == std::string::npos);
    CHECK(expect_ok(a->sink_identity()) == *identity);
  }

  SECTION("events round-trip exactly, hostile strings and nested metadata included") {
    std::vector<AuditEvent> events;
    for (std::size_t i = 0; i < hostile_strings().size(); ++i) {
      AuditEvent e = make_event(at(static_cast<int>(i)), hostile_strings()[i], hostile_strings()[i],
                                i % 2 ? AuditStatus::failure : AuditStatus::success);
      e.ip = "::1";
      e.resource = hostile_strings()[i];
      e.metadata = R"({"nested":{"list":[1,2,{"deep":"x"}],"quote":"a\"b"},"n":null})";
      events.push_back(e);
    }
    AuditEvent anonymous = make_event(at(100), "user.login", std::nullopt, AuditStatus::failure);
    events.push_back(anonymous);
    expect_ok(a->append(events));
    auto got = expect_ok(a->query(AuditQuery{}));
    REQUIRE(got.size() == events.size());
    for (const auto& e : events) {
      auto it = std::find_if(got.begin(), got.end(), [&](const auto& g) { return g.id == e.id; });
      REQUIRE(it != got.end());
      CHECK(it->timestamp == e.timestamp);
      CHECK(it->user_id == e.user_id);
      CHECK(it->ip == e.ip);
      CHECK(it->action == e.action);
      CHECK(it->resource == e.resource);
      CHECK(it->status == e.status);
      INFO("stored metadata " << e.metadata << ", read back " << it->metadata);
      CHECK(detail::same_json(it->metadata, e.metadata));
    }
  }

  SECTION("appending an event twice keeps one copy (retried batches never duplicate)") {
    std::vector<AuditEvent> batch{make_event(at(1), "a", "u1"), make_event(at(2), "b", "u1")};
    expect_ok(a->append(batch));
    expect_ok(a->append(batch));
    CHECK(expect_ok(a->count(AuditQuery{})) == 2);
  }

  SECTION("invalid events are refused and nothing of their batch is appended") {
    AuditEvent bad = make_event(at(1), "", "u1");
    expect_error(a->append(std::vector<AuditEvent>{make_event(at(2), "ok", "u1"), bad}),
                 ErrorCode::invalid_argument);
    CHECK(expect_ok(a->count(AuditQuery{})) == 0);
    AuditEvent no_resource = make_event(at(1), "x", "u1");
    no_resource.resource.clear();
    expect_error(a->append(std::vector<AuditEvent>{no_resource}), ErrorCode::invalid_argument);
  }

  SECTION("queries filter by time range, user, action and status; newest first; limit") {
    std::vector<AuditEvent> events;
    for (int i = 0; i < 30; ++i)
      events.push_back(make_event(at(i / 2), i % 3 ? "message.send" : "user.login",
                                  i % 2 ? std::optional<std::string>("alice") : std::optional<std::string>("bob"),
                                  i % 5 ? AuditStatus::success : AuditStatus::failure));
    expect_ok(a->append(events));
    auto matches = [&](const AuditQuery& q) {
      std::vector<AuditEvent> out;
      for (const auto& e : events)
        if ((!q.from || e.timestamp >= *q.from) && (!q.to || e.timestamp < *q.to) &&
            (!q.user_id || e.user_id == q.user_id) && (!q.action || e.action == *q.action) &&
            (!q.status || e.status == *q.status))
          out.push_back(e);
      std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) {
        return std::tie(x.timestamp, x.id) > std::tie(y.timestamp, y.id);
      });
      if (out.size() > q.limit) out.resize(q.limit);
      return out;
    };
    std::vector<AuditQuery> queries(7);
    queries[1].user_id = "alice";
    queries[2].action = "user.login";
    queries[3].status = AuditStatus::failure;
    queries[4].from = at(10);
    queries[4].to = at(3);
    queries[5].user_id = "bob";
    queries[5].action = "message.send";
    queries[5].status = AuditStatus::success;
    queries[6].limit = 4;
    for (const auto& q : queries) {
      auto expected = matches(q);
      auto got = expect_ok(a->query(q));
      REQUIRE(got.size() == expected.size());
      for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i].id == expected[i].id);
      AuditQuery unlimited = q;
      unlimited.limit = 1000;
      CHECK(expect_ok(a->count(q)) == matches(unlimited).size());
    }
  }

  SECTION("backup (SDK 1.2): events and metrics survive a restore into a fresh sink") {
    const Timestamp t0 = now_ms();
    std::vector<AuditEvent> events;
    for (int i = 0; i < 5; ++i)
      events.push_back(make_event(t0 - std::chrono::seconds(i), "backup.test", "u" + std::to_string(i)));
    expect_ok(a->append(events));
    std::vector<Metric> metrics{Metric{t0, "m", 1.5, {{"k", "v"}}}};
    expect_ok(a->append_metrics(metrics));
    ScratchDir dir;
    auto report = a->backup(dir.path());
    if (!detail::declared_backup(target.backup, report)) return;
    CHECK(expect_ok(a->has_data()));
    auto restored = target.fresh();
    CHECK_FALSE(expect_ok(restored->has_data()));
    auto back = restored->restore(dir.path());
    INFO((back ? std::string() : back.error().describe()));
    REQUIRE(back);
    AuditQuery all;
    all.limit = 100;
    CHECK(expect_ok(restored->query(all)) == expect_ok(a->query(all)));
    CHECK(expect_ok(restored->query_metrics(MetricQuery{})) == metrics);
    // A replayed batch is still skipped after a restore: the ids came back too.
    expect_ok(restored->append(events));
    CHECK(expect_ok(restored->count(all)) == 5);
  }

  SECTION("metrics round-trip with labels; filtered by name and time; newest first") {
    std::vector<Metric> metrics;
    for (int i = 0; i < 10; ++i)
      metrics.push_back(Metric{at(i), i % 2 ? "strata_calls_total" : "strata_call_seconds", i * 1.5,
                               {{"role", "storage"}, {"op", hostile_strings()[static_cast<std::size_t>(i) % 7]}}});
    expect_ok(a->append_metrics(metrics));
    MetricQuery q;
    q.name = "strata_calls_total";
    auto got = expect_ok(a->query_metrics(q));
    REQUIRE(got.size() == 5);
    CHECK(got[0] == metrics[1]);
    CHECK(std::is_sorted(got.begin(), got.end(), [](const auto& x, const auto& y) { return x.timestamp > y.timestamp; }));
    q.from = at(5);
    q.to = at(2);
    CHECK(expect_ok(a->query_metrics(q)).size() == 2);  // i = 3 and 5
  }
}

}  // namespace strata::sdk::testing

/// Declares the audit conformance test case for one plugin configuration.
#define STRATA_AUDIT_CONFORMANCE(LABEL, ...)                          \
  TEST_CASE("audit conformance: " LABEL, "[conformance][audit]") {    \
    ::strata::sdk::testing::run_audit_conformance(__VA_ARGS__);       \
  }
