// The `faulty` wrapper (strata/faults.hpp) around the memory plugins: rules
// that fail, slow, hang, half-apply or apply-then-fail a call, a seed that
// replays the same hits, rules changed while the host runs, and tables it
// refuses. (The services' tests use it for a sink that is down.)

#include <catch2/catch.hpp>

#include <chrono>
#include <strata/sdk/testing/fixtures.hpp>
#include <vector>

#include "strata/faults.hpp"
#include "test_host.hpp"

namespace strata::test {
namespace {

using namespace std::chrono_literals;
using sdk::testing::make_message;
using sdk::testing::make_user;

std::string faulty_storage(const std::string& rules, const std::string& extra = "") {
  return "[storage]\nplugin = \"faulty\"\nwraps = \"memory\"\n" + extra + rules;
}

// Which of `n` calls of get_user failed, as a string of 0s and 1s.
std::string hits(Host& host, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += host.storage()->get_user(sdk::Uuid::generate()).error().code ==
                                             sdk::ErrorCode::unavailable
                                         ? '1'
                                         : '0';
  return out;
}

template <class F>
std::chrono::milliseconds timed(F&& f) {
  auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
}

}  // namespace

TEST_CASE("faulty: a rule fails the method it names, the others reach the wrapped plugin", "[faulty]") {
  auto host = open_host(faulty_storage("[[storage.faults]]\nmethod = \"create_user\"\nerror = \"unavailable\"\n"));
  auto storage = host->storage();
  auto user = make_user("alice");
  auto refused = storage->create_user(user);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == sdk::ErrorCode::unavailable);
  CHECK(refused.error().retryable);
  CHECK(refused.error().message.find("injected by faulty around 'memory'") != std::string::npos);
  CHECK(storage->get_user(user.id).error().code == sdk::ErrorCode::not_found);  // reached memory: not stored
  REQUIRE(storage->schema_status());
  CHECK(host->faults(sdk::Role::storage)->injected() == 1);
  CHECK(host->instances().front().plugin == "memory");  // what runs underneath
  // The timing layer sits above the faults: the injected outcome is counted like a real one.
  CHECK(host->metrics()->prometheus().find(
            "operation=\"create_user\",outcome=\"unavailable\",role=\"storage\"} 1") != std::string::npos);
}

TEST_CASE("faulty: the same seed hits the same calls", "[faulty]") {
  const std::string rule = "[[storage.faults]]\nmethod = \"get_user\"\nprobability = 0.5\nerror = \"unavailable\"\n";
  auto first = hits(*open_host(faulty_storage(rule, "seed = 7\n")), 64);
  auto again = hits(*open_host(faulty_storage(rule, "seed = 7\n")), 64);
  auto other = hits(*open_host(faulty_storage(rule, "seed = 8\n")), 64);
  CHECK(first == again);
  CHECK(first != other);
  CHECK(first.find('1') != std::string::npos);
  CHECK(first.find('0') != std::string::npos);
  // Reseeding replays the sequence in the same host.
  auto host = open_host(faulty_storage(rule, "seed = 7\n"));
  (void)hits(*host, 10);
  host->faults(sdk::Role::storage)->reseed(7);
  CHECK(hits(*host, 64) == first);
}

TEST_CASE("faulty: latency slows a call that then succeeds, a hang fails it as timeout at its deadline",
          "[faulty]") {
  auto host = open_host(faulty_storage("[[storage.faults]]\nmethod = \"schema_status\"\nlatency_ms = 50\n"
                                       "[[storage.faults]]\nmethod = \"get_user\"\nhang_ms = 100\n"));
  auto storage = host->storage();
  sdk::Result<sdk::SchemaStatus> status;
  CHECK(timed([&] { status = storage->schema_status(); }) >= 50ms);  // a lower bound: sleep_for's promise
  CHECK(status);
  sdk::Result<sdk::User> user;
  CHECK(timed([&] { user = storage->get_user(sdk::Uuid::generate()); }) >= 100ms);
  REQUIRE_FALSE(user);
  CHECK(user.error().code == sdk::ErrorCode::timeout);
  CHECK(user.error().message.find("no answer within 100 ms") != std::string::npos);
}

TEST_CASE("faulty: applied but reported failed, and a batch applied in part", "[faulty]") {
  auto host = open_host(faulty_storage(
      "[[storage.faults]]\nmethod = \"insert_message\"\nerror = \"timeout\"\nafter_commit = true\n"
      "[[storage.faults]]\nmethod = \"insert_messages\"\nerror = \"unavailable\"\npartial = 0.5\n"));
  auto storage = host->storage();
  auto alice = make_user("alice"), bob = make_user("bob");
  REQUIRE(storage->create_user(alice));
  REQUIRE(storage->create_user(bob));

  auto one = make_message(alice.id, bob.id, sdk::Timestamp::now());
  auto reported = storage->insert_message(one);
  REQUIRE_FALSE(reported);
  CHECK(reported.error().code == sdk::ErrorCode::timeout);
  CHECK(reported.error().message.find("reported failed after it was applied") != std::string::npos);
  CHECK(storage->get_message(one.id));  // the outcome-unknown case: it is there

  std::vector<sdk::Message> batch;
  for (int i = 0; i < 4; ++i) batch.push_back(make_message(alice.id, bob.id, sdk::Timestamp::now()));
  auto half = storage->insert_messages(batch);
  REQUIRE_FALSE(half);
  CHECK(half.error().message.find("after part of the batch was applied") != std::string::npos);
  int stored = 0;
  for (const auto& m : batch) stored += storage->get_message(m.id).has_value();
  CHECK(stored == 2);
}

TEST_CASE("faulty: rules change while the host runs", "[faulty]") {
  // guide:begin (core/README.md, "Fault injection")
  auto host = open_host("[storage]\nplugin = \"faulty\"\nwraps = \"memory\"\n");
  auto faults = host->faults(sdk::Role::storage);
  FaultRule conflict;  // every method, every call
  conflict.error = sdk::ErrorCode::conflict;
  faults->set({conflict});
  CHECK(host->storage()->schema_status().error().code == sdk::ErrorCode::conflict);
  faults->clear();
  CHECK(host->storage()->schema_status());
  // guide:end
  CHECK(faults->rules().empty());
  CHECK(faults->injected() == 1);
  // Other instances have no rules to change.
  auto plain = open_host("[storage]\nplugin = \"memory\"\n");
  CHECK_FALSE(plain->faults(sdk::Role::storage));
}

TEST_CASE("faulty: every role can be wrapped", "[faulty]") {
  auto host = open_host(
      "[cache.default]\nplugin = \"faulty\"\nwraps = \"memory\"\n[[cache.default.faults]]\nmethod = \"get\"\n"
      "error = \"unavailable\"\n[audit]\nplugin = \"faulty\"\nwraps = \"memory\"\n[[audit.faults]]\nmethod = \"count\"\n"
      "error = \"unavailable\"\n[cipher]\nplugin = \"faulty\"\nwraps = \"aes_gcm\"\n[cipher.wrapped]\nkey = \"" +
      test_key_hex + "\"\n[[cipher.faults]]\nmethod = \"open\"\nerror = \"auth_failed\"\n");
  CHECK(host->cache()->get("k").error().code == sdk::ErrorCode::unavailable);
  REQUIRE(host->cache()->set("k", sdk::as_bytes(std::string("v")), std::nullopt));
  CHECK(host->audit()->count(sdk::AuditQuery{}).error().code == sdk::ErrorCode::unavailable);
  auto sealed = host->cipher()->seal(sdk::as_bytes(std::string("hello")), {});
  REQUIRE(sealed);
  CHECK(host->cipher()->open(*sealed, {}).error().code == sdk::ErrorCode::auth_failed);
}

TEST_CASE("faulty: tables it cannot use are refused, naming what is wrong", "[faulty]") {
  auto error = [](const std::string& toml) { return open_error(toml).message; };
  CHECK(error("[storage]\nplugin = \"faulty\"\n").find("wraps") != std::string::npos);
  CHECK(error("[storage]\nplugin = \"faulty\"\nwraps = \"faulty\"\n").find("faulty cannot wrap faulty") !=
        std::string::npos);
  CHECK(error(faulty_storage("[[storage.faults]]\nmethod = \"get_usr\"\nerror = \"unavailable\"\n"))
            .find("method 'get_usr' is not a storage method; did you mean 'get_user'?") != std::string::npos);
  CHECK(error(faulty_storage("[[storage.faults]]\nerror = \"down\"\n")).find("error 'down' is not an error code") !=
        std::string::npos);
  CHECK(error(faulty_storage("[[storage.faults]]\nprobability = 2.0\nerror = \"timeout\"\n"))
            .find("probability must be between 0 and 1") != std::string::npos);
  CHECK(error(faulty_storage("[[storage.faults]]\nmethod = \"get_user\"\n")).find("the rule does nothing") !=
        std::string::npos);
  CHECK(error(faulty_storage("[[storage.faults]]\nafter_commit = true\nlatency_ms = 5\n"))
            .find("name it with `error`") != std::string::npos);
  CHECK(error(faulty_storage("", "wrapped = 3\n")).find("wrapped must be a table") != std::string::npos);
  // The wrapped plugin's own keys are checked by its own schema.
  CHECK(error(faulty_storage("", "[storage.wrapped]\nbogus = 1\n")).find("bogus") != std::string::npos);
  CHECK(error("[storage]\nplugin = \"faulty\"\nwraps = \"no_such_plugin\"\n").find("no_such_plugin") !=
        std::string::npos);
}

}  // namespace strata::test
