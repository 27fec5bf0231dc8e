// Messages::send under concurrency (group commit + the audit outbox) against
// pgbench and raw binary COPY, in the same run, on the same database:
//
//   N in flight (1, 4, 20, 64)   Strata send from N threads vs `pgbench -M prepared -c N` running the
//                                same one-row INSERT (same row size, same durability: synchronous_commit on)
//   ceiling                      raw binary COPY of the same rows, 1000 per transaction, one connection
//
// Goals (issue 13): 1 in flight >= 0.9x pgbench c1; 20 >= 3x pgbench c20; 64 >= 5x pgbench c64 and >= 0.5x
// raw COPY; p99 at 20 <= 3x the p50 of a lone send; with the MongoDB audit sink, 20 in flight >= 0.9x
// the same run with the memory sink. Prints msg/s, p50/p99 latency and peak RSS.
//
// Issue 33 adds, in the same run:
//   the seed's own Node stack      tools/bench/seed_node_send.cjs (node-postgres Pool with the seed's settings,
//                                  node:crypto, the seed's INSERT, no audit) at 1 and 20 in flight, against
//                                  Strata sending by user ids (Messages::send(Outgoing)); goals >= 2x and >= 3x
//   send_async by ids              8 threads submitting, on this config and on the embedded default (SQLite)
//
// Config: PostgreSQL storage, Redis cache, memory (or MongoDB) audit, 256-byte messages.
// Needs the test servers (tools/services.sh), node and npm. Usage: bench_send_concurrency [--quick]
// STRATA_BENCH_TOML, when set, is appended to both configs (e.g. "[group_commit]\nwriters = 4") to try settings.

#include <libpq-fe.h>
#include <sys/resource.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <cstdio>
#include <cstring>
#include <regex>
#include <stdexcept>
#include <thread>

#include "bench_host.hpp"
#include "libpq_scratch.hpp"
#include "percentile.hpp"
#include "raw_copy.hpp"
#include "run_tool.hpp"
#include "strata/services.hpp"

namespace {

using namespace strata;
using Clock = std::chrono::steady_clock;

constexpr std::size_t text_bytes = 256;
constexpr std::size_t sealed_bytes = text_bytes + 16;  // AES-GCM tag

std::string config(const std::string& db, const std::string& prefix, const std::string& audit) {
  return "[storage]\nplugin = \"postgres\"\nhost = \"127.0.0.1\"\nport = " + std::to_string(test::postgres_port()) +
         "\nuser = \"postgres\"\ndbname = \"" + db + "\"\n" +
         "[cache.default]\nplugin = \"redis\"\nport = " + std::to_string(test::redis_port()) +
         "\ndb = 2\nkey_prefix = \"" + prefix + "\"\n[cipher]\nplugin = \"aes_gcm\"\nkey = \"" +
         std::string(bench::bench_key) + "\"\n[users]\nscrypt_log2_n = 10\n" + audit + "\n" +
         (std::getenv("STRATA_BENCH_TOML") ? std::getenv("STRATA_BENCH_TOML") : "") + "\n";
}

struct Run {
  double per_second = 0;
  double p50_us = 0, p99_us = 0;
  std::size_t sent = 0;
};

// One send; what went wrong, or nothing.
using SendOnce = std::function<std::optional<std::string>()>;

// N threads each calling `send_once` for `seconds`, each call timed.
Run timed_sends(const SendOnce& send_once, int threads, double seconds) {
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(threads));
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::mutex first_failure_mutex;
  std::string first_failure;
  auto start = Clock::now();
  {
    std::vector<std::jthread> senders;
    for (int t = 0; t < threads; ++t)
      senders.emplace_back([&, t] {
        auto& mine = latencies[static_cast<std::size_t>(t)];
        while (!stop.load(std::memory_order_relaxed)) {
          auto begin = Clock::now();
          if (auto failed = send_once()) {
            std::lock_guard lock(first_failure_mutex);
            if (failures++ == 0) first_failure = *failed;
          }
          mine.push_back(std::chrono::duration<double, std::micro>(Clock::now() - begin).count());
        }
      });
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  if (failures > 0)
    throw std::runtime_error(std::to_string(failures.load()) + " sends failed, the first: " + first_failure);
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  return Run{static_cast<double>(all.size()) / elapsed, bench::percentile(all, 0.5), bench::percentile(all, 0.99),
             all.size()};
}

std::optional<std::string> failure(const sdk::Result<sdk::Message>& sent) {
  if (sent) return std::nullopt;
  return sent.error().describe();
}

// Sends between users the caller resolved (what `strata send` does).
Run strata_sends(Services& services, const sdk::User& from, const sdk::User& to, int threads, double seconds) {
  const std::string text(text_bytes, 'x');
  return timed_sends([&] { return failure(services.messages().send(from, to, text, std::nullopt, Origin{})); },
                     threads, seconds);
}

// Sends by user ids through the public API: what an application embedding Strata does.
Run strata_sends_by_ids(Services& services, const sdk::Uuid& from, const sdk::Uuid& to, int threads,
                        double seconds) {
  const Outgoing message{from, to, std::string(text_bytes, 'x'), std::nullopt};
  return timed_sends([&] { return failure(services.messages().send(message, Origin{})); }, threads, seconds);
}

// The seed's own stack (tools/bench/seed_node_send.cjs) on the same database.
Run seed_node_sends(const std::string& db, const sdk::Uuid& from, const sdk::Uuid& to, int in_flight,
                    double seconds) {
  ::setenv("DB_HOST", "127.0.0.1", 1);
  ::setenv("DB_PORT", std::to_string(test::postgres_port()).c_str(), 1);
  ::setenv("DB_USER", "postgres", 1);
  ::setenv("DB_NAME", db.c_str(), 1);
  ::setenv("DB_ENCRYPTION_KEY", std::string(bench::bench_key).c_str(), 1);
  ::setenv("NODE_PATH", STRATA_BINARY_DIR "/interop/node_modules", 1);
  auto out = nlohmann::json::parse(bench::capture({"node", STRATA_SOURCE_DIR "/tools/bench/seed_node_send.cjs",
                                                   std::to_string(in_flight), std::to_string(seconds), from.str(),
                                                   to.str(), std::to_string(text_bytes)}));
  return Run{out["sent"].get<double>() / out["seconds"].get<double>(), out["p50_us"].get<double>(),
             out["p99_us"].get<double>(), out["sent"].get<std::size_t>()};
}

struct AsyncRun {
  double per_second = 0;      // completed sends per second, first submit to last completion
  double submit_share = 0;    // the part of that time the submitting threads spent in send_async
};

// `threads` threads each submitting `each` sends by ids with send_async, then
// waiting for every completion.
AsyncRun async_sends(Services& services, const sdk::Uuid& from, const sdk::Uuid& to, int threads, int each) {
  const Outgoing message{from, to, std::string(text_bytes, 'x'), std::nullopt};
  std::atomic<int> pending{threads * each}, failures{0};
  std::atomic<double> submitting{0};
  std::promise<void> all_done;
  auto start = Clock::now();
  {
    std::vector<std::jthread> submitters;
    for (int t = 0; t < threads; ++t)
      submitters.emplace_back([&] {
        auto begin = Clock::now();
        for (int i = 0; i < each; ++i)
          services.messages().send_async(message, Origin{}, [&](sdk::Result<sdk::Message> sent) {
            if (!sent) ++failures;
            if (--pending == 0) all_done.set_value();
          });
        submitting += std::chrono::duration<double>(Clock::now() - begin).count();
      });
  }
  all_done.get_future().wait();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  if (failures > 0) throw std::runtime_error(std::to_string(failures.load()) + " async sends failed");
  return AsyncRun{threads * each / elapsed, submitting.load() / threads / elapsed};
}

double pgbench_tps(const std::string& db, const std::string& script, int clients, double seconds) {
  std::string out = bench::capture({"pgbench", "-h", "127.0.0.1", "-p", std::to_string(test::postgres_port()), "-U",
                                    "postgres", "-n", "-M", "prepared", "-c", std::to_string(clients), "-j",
                                    std::to_string(std::min(clients, 4)), "-T",
                                    std::to_string(static_cast<int>(seconds)), "-f", script, db});
  std::smatch tps;
  if (!std::regex_search(out, tps, std::regex(R"(tps = ([0-9.]+))"))) throw std::runtime_error("pgbench: " + out);
  return std::stod(tps[1]);
}

double raw_copy_rows_per_second(const std::string& db, const sdk::Uuid& from, const sdk::Uuid& to, double seconds) {
  PGconn* c = bench::pg_connect(db);
  std::size_t rows = 0;
  auto start = Clock::now();
  while (std::chrono::duration<double>(Clock::now() - start).count() < seconds) {
    std::vector<sdk::Message> batch(1000);
    for (auto& m : batch) {
      m.id = sdk::Uuid::generate();
      m.sender_id = from;
      m.recipient_id = to;
      m.encrypted_content = sdk::Bytes(sealed_bytes, 0x5a);
      m.iv = sdk::Bytes(12, 1);
      m.created_at = sdk::Timestamp::now();
      m.key_id = "default";
    }
    bench::raw_copy_messages(c, batch);
    rows += batch.size();
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  PQfinish(c);
  return static_cast<double>(rows) / elapsed;
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const double seconds = quick ? 2 : 5;
  const std::string db = "strata_bench_send_concurrency";
  try {
    bench::ScratchDatabase scratch(db);
    std::string prefix = "bench-" + sdk::Uuid::generate().str() + ":";
    // Spool files in /tmp, not in the user's data directory.
    const std::string spool = "spool_path = \"/tmp/" + db + "-spool.jsonl\"\n";
    auto host = bench::open_or_die(config(db, prefix, "[audit]\nplugin = \"memory\"\n" + spool));
    if (!host->storage()->migrate(host->storage()->schema_status()->latest)) throw std::runtime_error("migrate");
    auto mongo_host = bench::open_or_die(
        config(db, prefix, "[audit]\nplugin = \"mongodb\"\nuri = \"" + test::mongodb_uri() + "/" + db + "\"\n" + spool));
    auto services = std::move(Services::open(*host).value());
    auto mongo_services = std::move(Services::open(*mongo_host).value());
    auto alice = services->users().register_user("alice", "alice@example.org", "alice-password", Origin{}).value();
    auto bob = services->users().register_user("bob", "bob@example.org", "bob-password", Origin{}).value();

    std::string script = "/tmp/strata_bench_send_concurrency.sql";
    if (FILE* f = std::fopen(script.c_str(), "w")) {
      std::fprintf(f,
                   "INSERT INTO messages (id, sender_id, recipient_id, encrypted_content, iv, key_id, created_at) "
                   "VALUES (gen_random_uuid(), '%s', '%s', decode(repeat('5a', %zu), 'hex'), "
                   "decode(repeat('01', 12), 'hex'), 'default', now());\n",
                   alice.id.str().c_str(), bob.id.str().c_str(), sealed_bytes);
      std::fclose(f);
    }
    // The decomposition: pgbench running the statement a lone send commits
    // (the row and its audit outbox row, a batch of one, in one statement),
    // so the outbox's own cost on the server shows apart from Strata's.
    std::string outbox_script = "/tmp/strata_bench_send_with_outbox.sql";
    if (FILE* f = std::fopen(outbox_script.c_str(), "w")) {
      std::fprintf(f,
                   "WITH inserted AS (INSERT INTO messages (id, sender_id, recipient_id, encrypted_content, iv, key_id, "
                   "created_at) VALUES (gen_random_uuid(), '%s', '%s', decode(repeat('5a', %zu), 'hex'), "
                   "decode(repeat('01', 12), 'hex'), 'default', now())) INSERT INTO strata_audit_outbox_batches (sink, "
                   "event_id, occurred_at, user_id, ip, action, resource, status, metadata) VALUES ('memory', "
                   "ARRAY[gen_random_uuid()], ARRAY[now()], ARRAY['%s'], ARRAY['local'], ARRAY['message.send'], "
                   "ARRAY['message' || chr(58) || gen_random_uuid()], ARRAY['success'], "
                   "ARRAY['{\"recipient_id\"' || chr(58) || '\"%s\",\"bytes\"' || chr(58) || '256}']);\n",
                   alice.id.str().c_str(), bob.id.str().c_str(), sealed_bytes, alice.id.str().c_str(),
                   bob.id.str().c_str());
      std::fclose(f);
    }
    std::printf("send under concurrency: %zu-byte messages, %.0f s per run, PostgreSQL + Redis, memory audit sink\n",
                text_bytes, seconds);
    std::printf("%-9s %12s %12s %8s %10s %10s %10s\n", "in flight", "strata/s", "pgbench/s", "ratio", "p50 us",
                "p99 us", "RSS MiB");
    std::map<int, Run> runs;
    std::map<int, double> pgbench;
    for (int n : {1, 4, 20, 64}) {
      pgbench[n] = pgbench_tps(db, script, n, seconds);
      runs[n] = strata_sends(*services, alice, bob, n, seconds);
      std::printf("%-9d %12.0f %12.0f %7.2fx %10.0f %10.0f %10.1f\n", n, runs[n].per_second, pgbench[n],
                  runs[n].per_second / pgbench[n], runs[n].p50_us, runs[n].p99_us, peak_rss_mib());
    }
    services->audit().flush();
    double with_outbox1 = pgbench_tps(db, outbox_script, 1, seconds);
    double with_outbox20 = pgbench_tps(db, outbox_script, 20, seconds);
    services->audit().flush();  // what pgbench put in the outbox goes too (to the memory sink)
    double copy = raw_copy_rows_per_second(db, alice.id, bob.id, seconds);
    // Against the seed's own Node stack, sending by user ids, interleaved.
    bench::capture({"bash", STRATA_SOURCE_DIR "/tests/interop/npm_install.sh", STRATA_SOURCE_DIR "/tests/interop",
                    STRATA_BINARY_DIR "/interop"});
    std::map<int, std::pair<Run, Run>> against_node;  // in flight -> (seed's Node stack, Strata by ids)
    for (int n : {1, 20}) {
      auto node = seed_node_sends(db, alice.id, bob.id, n, seconds);
      against_node[n] = {node, strata_sends_by_ids(*services, alice.id, bob.id, n, seconds)};
    }
    services->audit().flush();
    const int async_each = quick ? 500 : 1250;
    auto pg_async = async_sends(*services, alice.id, bob.id, 8, async_each);
    services->audit().flush();
    auto embedded_async = [&] {
      const std::filesystem::path dir = "/tmp/" + db + "-embedded";
      std::filesystem::remove_all(dir);
      ::setenv("STRATA_DATA_DIR", dir.c_str(), 1);
      auto embedded = std::move(Host::open_embedded().value());
      auto embedded_services = std::move(Services::open(*embedded).value());
      auto carol = embedded_services->users().register_user("carol", "carol@example.org", "carol-password", Origin{});
      auto dave = embedded_services->users().register_user("dave", "dave@example.org", "dave-password", Origin{});
      auto run = async_sends(*embedded_services, carol.value().id, dave.value().id, 8, async_each);
      embedded_services.reset();
      embedded.reset();
      std::filesystem::remove_all(dir);
      return run;
    }();
    auto mongo20 = strata_sends(*mongo_services, alice, bob, 20, seconds);
    mongo_services->audit().flush();
    auto memory20 = strata_sends(*services, alice, bob, 20, seconds);
    services->audit().flush();

    std::printf("\npgbench running a lone send's own statement (message + outbox row): %.0f/s at 1 client "
                "(Strata %.2fx of it), %.0f/s at 20 (Strata %.2fx)\n",
                with_outbox1, runs[1].per_second / with_outbox1, with_outbox20, runs[20].per_second / with_outbox20);
    std::printf("raw binary COPY, 1000 rows per transaction: %.0f rows/s\n", copy);
    std::printf("20 in flight, MongoDB audit sink: %.0f/s vs memory sink %.0f/s (same run)\n\n", mongo20.per_second,
                memory20.per_second);
    std::printf("the seed's Node stack (pg Pool, node:crypto, its INSERT, no audit) vs Strata by user ids:\n");
    std::printf("%-9s %12s %12s %8s %10s %10s %10s %10s\n", "in flight", "node/s", "strata/s", "ratio", "node p50",
                "node p99", "p50 us", "p99 us");
    for (auto& [n, pair] : against_node)
      std::printf("%-9d %12.0f %12.0f %7.2fx %10.0f %10.0f %10.0f %10.0f\n", n, pair.first.per_second,
                  pair.second.per_second, pair.second.per_second / pair.first.per_second, pair.first.p50_us,
                  pair.first.p99_us, pair.second.p50_us, pair.second.p99_us);
    std::printf("\nsend_async by ids, 8 threads x %d: PostgreSQL + Redis %.0f/s (%.1f%% of the time submitting), "
                "embedded default (SQLite) %.0f/s (%.1f%%)\n\n",
                async_each, pg_async.per_second, 100 * pg_async.submit_share, embedded_async.per_second,
                100 * embedded_async.submit_share);
    auto goal = [](const char* what, double ratio, double target) {
      std::printf("%-58s %6.2fx  (goal >= %.1fx) %s\n", what, ratio, target, ratio >= target ? "met" : "MISSED");
    };
    goal("1 in flight vs pgbench -c 1", runs[1].per_second / pgbench[1], 0.9);
    goal("20 in flight vs pgbench -c 20", runs[20].per_second / pgbench[20], 3);
    goal("64 in flight vs pgbench -c 64", runs[64].per_second / pgbench[64], 5);
    goal("64 in flight vs raw binary COPY", runs[64].per_second / copy, 0.5);
    std::printf("%-58s %6.2fx  (goal <= 3.0x) %s\n", "p99 at 20 in flight / p50 of a lone send",
                runs[20].p99_us / runs[1].p50_us, runs[20].p99_us / runs[1].p50_us <= 3 ? "met" : "MISSED");
    goal("by ids, 1 in flight vs the seed's Node stack", against_node[1].second.per_second /
                                                             against_node[1].first.per_second, 2);
    goal("by ids, 20 in flight vs the seed's Node stack", against_node[20].second.per_second /
                                                              against_node[20].first.per_second, 3);
    // Little's law: with 20 always in flight the mean latency is 20 / throughput, and p99 is at least the mean.
    double mean20_us = 20 / runs[20].per_second * 1e6;
    std::printf("%-58s %6.2fx  (the p99 goal needs >= %.0f sends/s at 20)\n",
                "  floor: mean latency at 20 (20 / throughput) / lone p50", mean20_us / runs[1].p50_us,
                20 / (3 * runs[1].p50_us * 1e-6));
    goal("20 in flight, MongoDB sink vs memory sink", mongo20.per_second / memory20.per_second, 0.9);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_send_concurrency: %s\n", e.what());
    return 1;
  }
}
