// The audit ledger (strata/services/audit_ledger.hpp) over a sink the test
// can tamper with like someone with write access to its database: events
// edited, deleted (the newest included), inserted, reordered; and over a
// ledger directory tampered with as well. The bundled sinks are tampered
// with in their own stores by tests/ledger/ledger_sinks_test.cpp.

#include <catch2/catch.hpp>

#include <fstream>
#include <mutex>

#include "ledger/merkle.hpp"
#include "ledger/signed_note.hpp"
#include "strata/services/audit_ledger.hpp"

using namespace strata;
using namespace std::chrono_literals;

namespace {

// An audit sink whose rows the test edits directly.
class EditableSink final : public sdk::Audit {
 public:
  std::vector<sdk::AuditEvent> events;
  std::vector<sdk::Metric> metrics;
  sdk::Result<void> health() override { return {}; }
  sdk::Result<void> append(std::span<const sdk::AuditEvent> batch) override {
    for (const auto& e : batch)
      if (std::none_of(events.begin(), events.end(), [&](const auto& x) { return x.id == e.id; })) events.push_back(e);
    return {};
  }
  sdk::Result<void> append_metrics(std::span<const sdk::Metric> batch) override {
    metrics.insert(metrics.end(), batch.begin(), batch.end());
    return {};
  }
  sdk::Result<std::vector<sdk::AuditEvent>> query(const sdk::AuditQuery& q) override {
    std::vector<sdk::AuditEvent> out;
    for (auto it = events.rbegin(); it != events.rend() && out.size() < q.limit; ++it) out.push_back(*it);
    return out;
  }
  sdk::Result<std::uint64_t> count(const sdk::AuditQuery&) override { return events.size(); }
  sdk::Result<std::vector<sdk::Metric>> query_metrics(const sdk::MetricQuery& q) override {
    std::vector<sdk::Metric> out;
    for (const auto& m : metrics)
      if (!q.name || m.name == *q.name) out.push_back(m);
    return out;
  }
};

struct Fixture {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("strata-ledger-" + sdk::Uuid::generate().str());
  std::shared_ptr<sdk::ManualClock> clock = std::make_shared<sdk::ManualClock>(sdk::Timestamp::now());
  std::shared_ptr<EditableSink> sink = std::make_shared<EditableSink>();
  std::shared_ptr<LedgeredAudit> audit;

  Fixture() { reopen(); }
  ~Fixture() {
    audit.reset();
    std::filesystem::remove_all(dir);
  }
  void reopen() {
    audit.reset();
    AuditLedgerSettings settings;
    settings.dir = dir;
    settings.checkpoint_every = 4;
    settings.checkpoint_interval = 3600s;  // checkpoints by count here, and by checkpoint()
    auto ledger = AuditLedger::open(settings, clock, [](sdk::LogLevel, std::string_view) {}, sink).value();
    audit = std::make_shared<LedgeredAudit>(sink, ledger);
  }
  AuditLedger& ledger() { return *audit->ledger(); }
  sdk::AuditEvent event(int i) {
    clock->advance(1ms);
    sdk::AuditEvent e;
    e.id = sdk::Uuid::generate();
    e.timestamp = clock->now();
    e.user_id = "user-" + std::to_string(i % 3);
    e.ip = "::1";
    e.action = "message.send";
    e.resource = "message:" + std::to_string(i);
    e.metadata = R"({"n":)" + std::to_string(i) + R"(,"note":"hé \"quoted\""})";
    return e;
  }
  void append(int from, int to) {
    std::vector<sdk::AuditEvent> batch;
    for (int i = from; i < to; ++i) batch.push_back(event(i));
    REQUIRE(audit->append(batch));
  }
  LedgerReport verify() { return ledger().verify(*sink).value(); }
  std::vector<std::string> kinds() {
    std::vector<std::string> out;
    for (const auto& p : verify().problems) out.push_back(p.kind);
    return out;
  }
};

}  // namespace

TEST_CASE("Ledger: an untouched trail verifies, checkpoints signed in the directory and the sink", "[ledger]") {
  Fixture f;
  f.append(0, 10);
  REQUIRE(f.ledger().checkpoint());
  auto report = f.verify();
  CHECK(report.ok());
  CHECK(report.leaves == 10);
  CHECK(report.events == 10);
  CHECK(report.checkpoint_size == 10);
  CHECK(report.checkpoints == 2);  // the batch passed checkpoint_every: one, in the directory and the sink
  CHECK(f.sink->metrics.size() == 1);
  CHECK(f.sink->metrics.back().name == AuditLedger::checkpoint_metric);
  // Another process (a reopened ledger) goes on from the same tree.
  f.reopen();
  f.append(10, 13);
  REQUIRE(f.ledger().checkpoint());
  CHECK(f.verify().ok());
  CHECK(f.verify().leaves == 13);
}

TEST_CASE("Ledger: names an edited, a deleted and an inserted event", "[ledger]") {
  Fixture f;
  f.append(0, 8);
  REQUIRE(f.ledger().checkpoint());
  SECTION("edited: one field of one event") {
    f.sink->events[2].resource = "message:999";
    auto report = f.verify();
    REQUIRE(report.problem_count == 1);
    CHECK(report.problems[0].kind == "edited");
    CHECK_THAT(report.problems[0].detail, Catch::Contains(f.sink->events[2].id.str()) && Catch::Contains("leaf 2"));
  }
  SECTION("edited: the time, or the metadata's content") {
    f.sink->events[1].timestamp = sdk::Timestamp::from_micros(f.sink->events[1].timestamp.micros() + 1000);
    f.sink->events[5].metadata = R"({"n":5,"note":"other"})";
    CHECK(f.kinds() == std::vector<std::string>{"edited", "edited"});
  }
  SECTION("not edited: the metadata re-serialised with other key order and spacing") {
    f.sink->events[4].metadata = R"({ "note" : "hé \"quoted\"", "n" : 4 })";
    CHECK(f.verify().ok());
  }
  SECTION("dropped: the newest event") {
    auto newest = f.sink->events.back().id;
    f.sink->events.pop_back();
    auto report = f.verify();
    REQUIRE(report.problem_count == 1);
    CHECK(report.problems[0].kind == "dropped");
    CHECK_THAT(report.problems[0].detail, Catch::Contains(newest.str()) && Catch::Contains("leaf 7"));
  }
  SECTION("expired: events older than the sink's retention, gone by it, are counted, not dropped") {
    auto since = f.sink->events[3].timestamp;
    f.sink->events.erase(f.sink->events.begin(), f.sink->events.begin() + 3);
    auto report = f.ledger().verify(*f.sink, since).value();
    CHECK(report.ok());
    CHECK(report.expired == 3);
    // ... but a newer one deleted still is
    f.sink->events.pop_back();
    CHECK(f.ledger().verify(*f.sink, since).value().problems.at(0).kind == "dropped");
  }
  SECTION("inserted: an event that was never sealed") {
    f.sink->events.push_back(f.event(100));
    CHECK(f.kinds() == std::vector<std::string>{"inserted"});
  }
  SECTION("reordered rows change nothing anyone reads: each event is checked by its id") {
    std::swap(f.sink->events[0], f.sink->events[6]);
    CHECK(f.verify().ok());
  }
  SECTION("reordered times are edits of both events") {
    std::swap(f.sink->events[0].timestamp, f.sink->events[6].timestamp);
    CHECK(f.kinds() == std::vector<std::string>{"edited", "edited"});
  }
}

TEST_CASE("Ledger: a ledger directory altered to match an altered sink is caught by its signed checkpoints",
          "[ledger]") {
  Fixture f;
  f.append(0, 8);
  REQUIRE(f.ledger().checkpoint());
  auto leaves = f.dir / "leaves";
  constexpr int record = 16 + 8 + 32;  // id, time, hash (audit_ledger.cpp)
  SECTION("a leaf rewritten to the edited event's hash") {
    f.sink->events[3].resource = "message:forged";
    auto hash = ledger::leaf_hash(AuditLedger::leaf_input(f.sink->events[3]));
    std::fstream file(leaves, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(3 * record + 24);  // leaf 3's hash
    file.write(reinterpret_cast<const char*>(hash.data()), 32);
    file.close();
    auto kinds = f.kinds();
    CHECK(std::find(kinds.begin(), kinds.end(), "ledger_altered") != kinds.end());
    CHECK(std::find(kinds.begin(), kinds.end(), "edited") == kinds.end());  // the leaf matches, the root does not
  }
  SECTION("the newest events dropped from the sink and the ledger alike") {
    f.sink->events.resize(6);
    std::filesystem::resize_file(leaves, 6 * record);
    CHECK(f.kinds() == std::vector<std::string>{"ledger_cut"});
    // and the ledger refuses to seal on top of a cut
    CHECK(f.audit->append(std::vector{f.event(9)}).error().code == sdk::ErrorCode::conflict);
  }
  SECTION("a checkpoint forged without the key") {
    std::ofstream(f.dir / "checkpoints", std::ios::app)
        << R"({"size":8,"root":"00","note":"strata.audit/x/y\n8\nAAAA\n\n— strata.audit/x/y AAAA\n"})" << "\n";
    CHECK(f.kinds() == std::vector<std::string>{"checkpoint_invalid"});
  }
  SECTION("every checkpoint deleted from the directory: the sink's copies still bind") {
    std::filesystem::remove(f.dir / "checkpoints");
    f.sink->events.resize(6);
    std::filesystem::resize_file(leaves, 6 * record);
    CHECK(f.kinds() == std::vector<std::string>{"ledger_cut"});
  }
}

TEST_CASE("Ledger: proofs check against the signed checkpoint", "[ledger]") {
  Fixture f;
  f.append(0, 13);
  REQUIRE(f.ledger().checkpoint());
  auto event = f.sink->events[5];
  auto proof = f.ledger().prove(event.id).value();
  CHECK(proof.index == 5);
  CHECK(proof.tree_size == 13);
  ledger::Hash leaf{}, root{};
  REQUIRE(ledger::from_hex(proof.leaf_hash, leaf));
  REQUIRE(ledger::from_hex(proof.root, root));
  CHECK(leaf == ledger::leaf_hash(AuditLedger::leaf_input(event)));
  std::vector<ledger::Hash> path;
  for (const auto& h : proof.hashes) REQUIRE(ledger::from_hex(h, path.emplace_back()));
  CHECK(ledger::verify_inclusion(leaf, proof.index, proof.tree_size, path, root));
  auto vkey = ledger::VerifierKey::parse(f.ledger().verifier_key()).value();
  CHECK(ledger::open_note(proof.checkpoint, vkey));

  auto consistency = f.ledger().consistency(5, 13).value();
  std::vector<ledger::Hash> hashes;
  for (const auto& h : consistency.hashes) REQUIRE(ledger::from_hex(h, hashes.emplace_back()));
  ledger::Hash old_root{}, new_root{};
  REQUIRE(ledger::from_hex(consistency.old_root, old_root));
  REQUIRE(ledger::from_hex(consistency.new_root, new_root));
  CHECK(new_root == root);
  CHECK(ledger::verify_consistency(5, 13, old_root, new_root, hashes));
  CHECK(f.ledger().prove(sdk::Uuid::generate()).error().code == sdk::ErrorCode::not_found);
}

TEST_CASE("Ledger: a torn last record from a crash is cut off, and sealing goes on", "[ledger]") {
  Fixture f;
  f.append(0, 5);
  f.audit.reset();
  std::ofstream(f.dir / "leaves", std::ios::app | std::ios::binary) << std::string(20, 'x');  // part of a record
  f.reopen();
  f.append(5, 7);
  REQUIRE(f.ledger().checkpoint());
  auto report = f.verify();
  CHECK(report.ok());
  CHECK(report.leaves == 7);
}
