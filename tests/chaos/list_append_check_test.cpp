// The isolation checker on histories written by hand: each anomaly it must
// name, and the histories it must pass.

#include <catch2/catch.hpp>

#include "list_append_check.hpp"

using strata::chaos::check_list_append;
using strata::chaos::ListOp;

namespace {

ListOp append(std::string key, std::string value, std::int64_t invoked, std::int64_t completed) {
  ListOp op;
  op.kind = ListOp::Kind::append;
  op.key = std::move(key);
  op.value = value;
  op.completed = completed > 0;
  op.invoked_ns = invoked;
  op.completed_ns = completed;
  op.label = "append " + value;
  return op;
}

ListOp read(std::string key, std::vector<std::string> observed, std::int64_t invoked, std::int64_t completed,
            std::string label) {
  ListOp op;
  op.kind = ListOp::Kind::read;
  op.key = std::move(key);
  op.observed = std::move(observed);
  op.completed = true;
  op.invoked_ns = invoked;
  op.completed_ns = completed;
  op.label = std::move(label);
  return op;
}

bool mentions(const std::vector<std::string>& anomalies, const std::string& text) {
  for (const auto& a : anomalies)
    if (a.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("isolation check: a strictly serializable history passes", "[chaos]") {
  // Two appends to k, concurrent reads seeing 0, 1 and 2 elements, an append
  // whose outcome was unknown and which took effect, one that did not.
  std::vector<ListOp> ops{append("k", "a", 0, 10),           append("k", "b", 5, 30),
                          read("k", {}, 1, 4, "r0"),         read("k", {"a"}, 11, 20, "r1"),
                          read("k", {"a", "b"}, 31, 40, "r2"), append("k", "c", 41, 0),
                          append("k", "lost", 42, 0),        read("j", {}, 0, 100, "r3")};
  auto anomalies = check_list_append(ops, {{"k", {"a", "b", "c"}}, {"j", {}}});
  INFO((anomalies.empty() ? std::string() : anomalies.front()));
  CHECK(anomalies.empty());
}

TEST_CASE("isolation check: a stale read after an acknowledged append is G-single-realtime", "[chaos]") {
  std::vector<ListOp> ops{append("k", "a", 0, 10), read("k", {}, 20, 30, "stale read")};
  auto anomalies = check_list_append(ops, {{"k", {"a"}}});
  REQUIRE(anomalies.size() == 1);
  CHECK(anomalies[0].starts_with("G-single-realtime:"));
  CHECK(mentions(anomalies, "stale read -rw-> append a"));
  CHECK(mentions(anomalies, "append a -rt-> stale read"));
}

TEST_CASE("isolation check: reading an append before it was invoked is G1c-realtime", "[chaos]") {
  std::vector<ListOp> ops{read("k", {"a"}, 0, 10, "future read"), append("k", "a", 20, 30)};
  auto anomalies = check_list_append(ops, {{"k", {"a"}}});
  REQUIRE(anomalies.size() == 1);
  CHECK(anomalies[0].starts_with("G1c-realtime:"));
}

TEST_CASE("isolation check: a read going back in time is a cycle", "[chaos]") {
  // r1 saw a and b; r2, which began after r1 returned, saw only a.
  std::vector<ListOp> ops{append("k", "a", 0, 1), append("k", "b", 0, 2), read("k", {"a", "b"}, 3, 4, "r1"),
                          read("k", {"a"}, 5, 6, "r2")};
  auto anomalies = check_list_append(ops, {{"k", {"a", "b"}}});
  REQUIRE(anomalies.size() == 1);
  CHECK(anomalies[0].find("-realtime:") != std::string::npos);
  CHECK(mentions(anomalies, "r2 -rw-> append b"));
}

TEST_CASE("isolation check: reads that are not a prefix of the final list are named", "[chaos]") {
  std::vector<ListOp> ops{append("k", "a", 0, 1), append("k", "b", 0, 2),
                          read("k", {"b"}, 3, 4, "skipping read"), read("k", {"a", "a"}, 3, 4, "doubling read"),
                          read("k", {"a", "ghost"}, 3, 4, "ghost read"), read("k", {"a", "b", "c"}, 3, 4, "long read")};
  auto anomalies = check_list_append(ops, {{"k", {"a", "b"}}});
  CHECK(mentions(anomalies, "incompatible order: skipping read saw 'b' at position 1, where the final list of k has 'a'"));
  CHECK(mentions(anomalies, "duplicate: doubling read saw 'a' twice"));
  CHECK(mentions(anomalies, "G1a (aborted read): ghost read saw 'ghost', which never took effect in k"));
  CHECK(mentions(anomalies, "G1a (aborted read): long read saw 'c'"));
  CHECK(anomalies.size() == 4);
}

TEST_CASE("isolation check: long histories do not exhaust the stack", "[chaos]") {
  std::vector<ListOp> ops;
  std::vector<std::string> list;
  for (int i = 0; i < 200000; ++i) {
    list.push_back(std::to_string(i));
    ops.push_back(append("k", list.back(), 2 * i, 2 * i + 1));
  }
  ops.push_back(read("k", {}, 400000, 400001, "stale read"));
  auto anomalies = check_list_append(ops, {{"k", list}});
  REQUIRE(anomalies.size() == 1);
  CHECK(anomalies[0].starts_with("G-single-realtime:"));
  CHECK(anomalies[0].find("operations") != std::string::npos);  // a long cycle is shortened
  CHECK(anomalies[0].size() < 1000);
}
