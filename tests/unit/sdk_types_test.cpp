// SDK value types: UUIDs, timestamps, hex, errors.

#include <catch2/catch.hpp>

#include <set>

#include "strata/metrics.hpp"
#include "strata/sdk/sdk.hpp"

using namespace strata::sdk;

TEST_CASE("Uuid: v4 generation, canonical text, parse round trip", "[sdk][uuid]") {
  std::set<Uuid> seen;
  for (int i = 0; i < 1000; ++i) {
    Uuid u = Uuid::generate();
    CHECK(seen.insert(u).second);
    CHECK((u.bytes()[6] >> 4) == 4);           // version 4
    CHECK((u.bytes()[8] & 0xc0) == 0x80);      // RFC 4122 variant
    std::string text = u.str();
    CHECK(text.size() == 36);
    CHECK(Uuid::parse(text) == u);
  }
  auto parsed = Uuid::parse("1B4E28BA-2FA1-41D2-883F-0016D3CCA427");
  REQUIRE(parsed);
  CHECK(parsed->str() == "1b4e28ba-2fa1-41d2-883f-0016d3cca427");
  for (const char* bad : {"", "1b4e28ba2fa141d2883f0016d3cca427", "1b4e28ba-2fa1-41d2-883f-0016d3cca42",
                          "1b4e28ba-2fa1-41d2-883f-0016d3cca42g", "1b4e28ba+2fa1-41d2-883f-0016d3cca427"})
    CHECK_FALSE(Uuid::parse(bad));
  CHECK(Uuid{}.is_nil());
}

TEST_CASE("Timestamp: microsecond ISO 8601 round trip", "[sdk][timestamp]") {
  auto t = Timestamp::parse("2026-11-25T00:44:17.123456Z");
  REQUIRE(t);
  CHECK(t->iso8601() == "2026-11-25T00:44:17.123456Z");
  CHECK(Timestamp::parse("1970-01-01T00:00:00Z")->micros() == 0);
  CHECK(Timestamp::parse("2000-02-29 12:00:00.5")->iso8601() == "2000-02-29T12:00:00.500000Z");
  CHECK(Timestamp::parse("1969-12-31T23:59:59.999999Z")->micros() == -1);
  CHECK(Timestamp::from_micros(-1).iso8601() == "1969-12-31T23:59:59.999999Z");
  for (const char* bad : {"", "2026-13-01T00:00:00Z", "2026-11-25", "2026-11-25T00:44:17.Z", "2026-11-25T00:44:17Zjunk"})
    CHECK_FALSE(Timestamp::parse(bad));
  Timestamp now = Timestamp::now();
  CHECK(Timestamp::parse(now.iso8601()) == now);
  CHECK((now + std::chrono::seconds(1)).micros() == now.micros() + 1'000'000);
}

TEST_CASE("Timestamp: infinity and -infinity order, print and parse as PostgreSQL's", "[sdk][timestamp]") {
  auto now = Timestamp::now();
  CHECK(Timestamp::minus_infinity() < now);
  CHECK(now < Timestamp::infinity());
  CHECK(Timestamp::infinity().iso8601() == "infinity");
  CHECK(Timestamp::minus_infinity().iso8601() == "-infinity");
  CHECK(Timestamp::parse("infinity") == Timestamp::infinity());
  CHECK(Timestamp::parse("-infinity") == Timestamp::minus_infinity());
  CHECK(Timestamp::infinity().is_infinite());
  CHECK_FALSE(now.is_infinite());
}

TEST_CASE("hex encoding", "[sdk][bytes]") {
  Bytes all(256);
  for (int i = 0; i < 256; ++i) all[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i);
  CHECK(from_hex(to_hex(all)) == all);
  CHECK(from_hex("ABcd") == Bytes{0xab, 0xcd});
  CHECK_FALSE(from_hex("abc"));
  CHECK_FALSE(from_hex("zz"));
}

TEST_CASE("Error: codes, retryability, description", "[sdk][error]") {
  Result<int> r = fail(ErrorCode::unavailable, "server gone");
  REQUIRE_FALSE(r);
  CHECK(r.error().retryable);
  CHECK_FALSE(Error{ErrorCode::not_found, "x", {}, false}.retryable);
  r.error().plugin = "redis";
  CHECK(r.error().describe() == "redis: server gone (unavailable)");
  CHECK(to_string(ErrorCode::auth_failed) == "auth_failed");
  CHECK(to_string(ErrorCode::key_destroyed) == "key_destroyed");  // SDK 1.11, appended: earlier codes keep their values
  CHECK(static_cast<int>(ErrorCode::key_destroyed) == static_cast<int>(ErrorCode::internal) + 1);
  CHECK_FALSE(retryable_by_default(ErrorCode::key_destroyed));
}

TEST_CASE("Metrics: every error code is an outcome of its own, the newest included", "[sdk][error][metrics]") {
  strata::Metrics metrics;
  metrics.operation("storage", "default", "get_data_key")
      .record(std::chrono::microseconds(5), ErrorCode::key_destroyed);
  const std::string text = metrics.prometheus();
  CHECK(text.find("operation=\"get_data_key\",outcome=\"key_destroyed\",role=\"storage\"} 1") != std::string::npos);
  CHECK(text.find("outcome=\"internal\"} 1") == std::string::npos);
}

TEST_CASE("ConfigView: typed access, missing and mistyped keys throw Error", "[sdk][config]") {
  ConfigView view({{"n", std::int64_t{3}}, {"s", std::string("x")}, {"b", true}}, "[test]");
  CHECK(view.get<std::int64_t>("n") == 3);
  CHECK(view.get<double>("n") == 3.0);
  CHECK(view.find<std::string>("absent") == std::nullopt);
  CHECK_THROWS_AS(view.get<std::string>("absent"), Error);
  CHECK_THROWS_AS(view.get<std::string>("n"), Error);
}
