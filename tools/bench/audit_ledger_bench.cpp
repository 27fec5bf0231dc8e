// The tamper-evident audit ledger's cost (issue 27): appends through the
// file_audit sink in the flusher's batches, with and without the ledger, in
// the same run (goal: >= 20,000 events/s sealed, as a ratio to the plain
// sink); `verify` over what was appended; and the Merkle pass verify makes
// over the ledger alone, for 10 M leaves (goal: < 10 s).
//
// Usage: bench_audit_ledger [EVENTS] [MERKLE_LEAVES]   (defaults 200000, 10000000)

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "bench_host.hpp"
#include "ledger/merkle.hpp"
#include "strata/services/audit_ledger.hpp"

namespace {

using namespace strata;
using Clock = std::chrono::steady_clock;

std::vector<sdk::AuditEvent> make_events(std::size_t n) {
  std::vector<sdk::AuditEvent> out(n);
  auto t = sdk::Timestamp::now().micros();
  for (std::size_t i = 0; i < n; ++i) {
    auto& e = out[i];
    e.id = sdk::Uuid::generate();
    e.timestamp = sdk::Timestamp::from_micros(t + static_cast<std::int64_t>(i));
    e.user_id = sdk::Uuid::generate().str();
    e.ip = "10.0.0.7";
    e.action = "message.send";
    e.resource = "message:" + sdk::Uuid::generate().str();
    e.metadata = R"({"recipient":")" + sdk::Uuid::generate().str() + R"(","bytes":1204})";
  }
  return out;
}

std::shared_ptr<sdk::Audit> file_sink(std::unique_ptr<Host>& host, const std::filesystem::path& file) {
  host = bench::open_or_die("[audit]\nplugin = \"file_audit\"\npath = \"" + file.string() + "\"\nledger = false\n");
  return host->audit();
}

double append_all(sdk::Audit& sink, const std::vector<sdk::AuditEvent>& events, std::size_t batch) {
  auto start = Clock::now();
  for (std::size_t i = 0; i < events.size(); i += batch) {
    auto n = std::min(batch, events.size() - i);
    if (auto r = sink.append(std::span(events).subspan(i, n)); !r) {
      std::fprintf(stderr, "append failed: %s\n", r.error().describe().c_str());
      std::exit(1);
    }
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t events = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200'000;
  std::uint64_t merkle_leaves = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 10'000'000;
  constexpr std::size_t batch = 256;  // [audit] batch_size's default
  auto dir = std::filesystem::temp_directory_path() / ("strata-bench-ledger-" + sdk::Uuid::generate().str());
  std::filesystem::create_directories(dir);
  auto data = make_events(events);
  auto more = make_events(events);

  std::unique_ptr<Host> plain_host, ledger_host;
  auto plain = file_sink(plain_host, dir / "plain.jsonl");
  double plain_s = append_all(*plain, data, batch);

  auto inner = file_sink(ledger_host, dir / "ledgered.jsonl");
  AuditLedgerSettings settings;
  settings.dir = dir / "ledger";
  auto ledger = AuditLedger::open(settings, std::make_shared<sdk::SystemClock>(),
                                  [](sdk::LogLevel, std::string_view) {}, inner);
  if (!ledger) {
    std::fprintf(stderr, "ledger: %s\n", ledger.error().describe().c_str());
    return 1;
  }
  LedgeredAudit sealed(inner, *ledger);
  double sealed_s = append_all(sealed, more, batch);
  (void)(*ledger)->checkpoint();

  std::printf("appends of %zu events in batches of %zu, file_audit sink (fdatasync per batch):\n", events, batch);
  std::printf("  plain sink          %10.0f events/s\n", events / plain_s);
  std::printf("  sink + ledger       %10.0f events/s   ratio plain/ledger %.2fx (goal: >= 20000/s)\n",
              events / sealed_s, sealed_s / plain_s);

  auto start = Clock::now();
  sdk::AuditQuery all;
  all.limit = events + 1024;
  auto read = inner->query(all);
  double read_s = std::chrono::duration<double>(Clock::now() - start).count();
  start = Clock::now();
  for (const auto& e : *read) (void)ledger::leaf_hash(AuditLedger::leaf_input(e));
  double hash_s = std::chrono::duration<double>(Clock::now() - start).count();
  start = Clock::now();
  auto report = (*ledger)->verify(*inner);
  double verify_s = std::chrono::duration<double>(Clock::now() - start).count();
  if (!report || !report->ok()) {
    std::fprintf(stderr, "verify failed\n");
    return 1;
  }
  std::printf("verify (reads the whole sink, %llu events, %llu checkpoints): %.2f s, %.0f events/s\n",
              static_cast<unsigned long long>(report->events), static_cast<unsigned long long>(report->checkpoints),
              verify_s, report->events / verify_s);
  std::printf("  of which: reading the sink's events %.2f s, hashing their leaves %.2f s\n", read_s, hash_s);

  // verify's pass over the ledger: every leaf into the tree, the root compared.
  std::vector<ledger::Hash> leaves(merkle_leaves);
  for (std::uint64_t i = 0; i < merkle_leaves; ++i) leaves[i] = ledger::leaf_hash(std::to_string(i));
  start = Clock::now();
  auto root = ledger::root_of(leaves);
  double tree_s = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("Merkle root over %llu leaves: %.2f s (goal for 10 M: < 10 s), root %s...\n",
              static_cast<unsigned long long>(merkle_leaves), tree_s, ledger::to_hex(root).substr(0, 12).c_str());
  ledger->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
