// PostgreSQL beyond one server (issue 17), in the same run:
//
//   replicas   inbox pages/s from 20 threads on the pg_auto_failover formation
//              (tools/pg-formation.sh; started here if it is not running):
//              primary only vs primary + its standby, the share of reads the
//              standby served; then the same with one thread writing all the
//              while (read-your-writes must check replay positions), and the
//              cost of those checks per read (goal: <= 5% of a page read).
//   purge      N expired rows (1M; --quick 100k) deleted by the plugin's batched
//              purge_expired vs one raw `DELETE`, each while 4 threads send
//              through Strata: total time and the senders' p99 / max latency,
//              against their p99 with no purge (goal: batched <= 2x).
//
// The failover windows are measured by the HA tests (tests/plugins/postgres/
// postgres_ha_test.cpp prints them). Usage: bench_pg_ha [--quick]

#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
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

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::unique_ptr<Host> open(const std::string& toml) {
  auto host = Host::open_string(toml, HostOptions{}, "bench.toml");
  if (!host) throw std::runtime_error(host.error().describe());
  auto storage = (*host)->storage();
  if (auto m = storage->migrate(storage->schema_status()->latest); !m) throw std::runtime_error(m.error().describe());
  return std::move(*host);
}

double gauge(sdk::Storage& storage, const std::string& name) {
  double sum = 0;
  const auto gauges = storage.gauges().value();  // a copy: a range-for over .value() of a temporary dangles
  for (const auto& g : gauges)
    if (g.name == name) sum += g.value;
  return sum;
}

// ---- replicas ----------------------------------------------------------------

struct ReadRun {
  double pages_per_second = 0;
  double replica_share = 0;   // of the reads in the run
  double checks_per_read = 0;  // replay positions asked per read
};

ReadRun inbox_pages(Host& host, const std::vector<sdk::User>& users, double seconds, bool with_writer) {
  auto& storage = *host.storage();
  const double replica_before = gauge(storage, "strata_postgres_replica_reads_total");
  const double checks_before = gauge(storage, "strata_postgres_replica_position_checks_total");
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> pages{0};
  auto start = Clock::now();
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 20; ++t)
      threads.emplace_back([&, t] {
        const auto& user = users[static_cast<std::size_t>(t) % users.size()];
        while (!stop) {
          if (!storage.inbox(user.id, sdk::PageRequest{50, std::nullopt})) throw std::runtime_error("inbox failed");
          ++pages;
        }
      });
    if (with_writer)
      threads.emplace_back([&] {
        while (!stop) storage.record_login(users.front().id, sdk::Timestamp::now()).value();
      });
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
  }
  double elapsed = seconds_since(start);
  double n = static_cast<double>(pages.load());
  return ReadRun{n / elapsed, (gauge(storage, "strata_postgres_replica_reads_total") - replica_before) / n,
                 (gauge(storage, "strata_postgres_replica_position_checks_total") - checks_before) / n};
}

// One thread's mean time for `op`, over `n` calls.
template <class Op>
double mean_us(int n, Op op) {
  auto start = Clock::now();
  for (int i = 0; i < n; ++i) op();
  return seconds_since(start) * 1e6 / n;
}

void replicas(bool quick) {
  std::string formation = bench::capture({"bash", STRATA_SOURCE_DIR "/tools/pg-formation.sh", "start"});
  std::string uri = bench::capture({"bash", STRATA_SOURCE_DIR "/tools/pg-formation.sh", "uri"});
  std::string standby = bench::capture({"bash", STRATA_SOURCE_DIR "/tools/pg-formation.sh", "secondary"});
  while (!uri.empty() && uri.back() == '\n') uri.pop_back();
  while (!standby.empty() && standby.back() == '\n') standby.pop_back();
  const std::string standby_conninfo = "host=127.0.0.1 port=" + standby + " dbname=strata user=postgres";
  const std::string storage = "[storage]\nplugin = \"postgres\"\nconninfo = \"" + uri + "\"\n";
  auto primary_only = open(storage);
  auto with_replica = open(storage + "replicas = [\"" + standby_conninfo + "\"]\n");

  // 20 recipients with 50 messages each: a page is 50 rows.
  std::vector<sdk::User> users;
  auto& s = *primary_only->storage();
  for (int i = 0; i < 20; ++i) {
    sdk::User u;
    u.id = sdk::Uuid::generate();
    u.username = "bench" + u.id.str().substr(0, 12);
    u.email = u.username + "@example.org";
    u.password_hash = "x";
    u.created_at = u.updated_at = sdk::Timestamp::now();
    s.create_user(u).value();
    std::vector<sdk::Message> inbox(50);
    for (auto& m : inbox) {
      m.id = sdk::Uuid::generate();
      m.sender_id = m.recipient_id = u.id;
      m.encrypted_content = sdk::Bytes(272, 0x5a);
      m.iv = sdk::Bytes(12, 1);
      m.key_id = "default";
      m.created_at = sdk::Timestamp::now();
    }
    s.insert_messages(inbox).value();
    users.push_back(u);
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));  // let the standby replay them
  const double seconds = quick ? 3 : 8;
  auto primary = inbox_pages(*primary_only, users, seconds, false);
  auto replica = inbox_pages(*with_replica, users, seconds, false);
  auto primary_w = inbox_pages(*primary_only, users, seconds, true);
  auto replica_w = inbox_pages(*with_replica, users, seconds, true);

  // The check's price: a page read vs the replay-position question, one thread each.
  auto& r = *with_replica->storage();
  double page_us = mean_us(500, [&] { r.inbox(users[1].id, sdk::PageRequest{50, std::nullopt}).value(); });
  PGconn* c = PQconnectdb(standby_conninfo.c_str());
  double check_us = mean_us(500, [&] { PQclear(PQexec(c, "SELECT pg_last_wal_replay_lsn()")); });
  PQfinish(c);

  std::printf("\nread replicas (formation %s), inbox pages of 50 from 20 threads:\n", uri.c_str());
  std::printf("  %-34s %10s %10s %14s\n", "", "pages/s", "replica", "checks/read");
  std::printf("  %-34s %10.0f %9.0f%% %14s\n", "primary only", primary.pages_per_second, 0.0, "-");
  std::printf("  %-34s %10.0f %9.0f%% %14.4f\n", "primary + 1 replica", replica.pages_per_second,
              replica.replica_share * 100, replica.checks_per_read);
  std::printf("  %-34s %10.0f %9.0f%% %14s\n", "primary only, 1 thread writing", primary_w.pages_per_second, 0.0, "-");
  std::printf("  %-34s %10.0f %9.0f%% %14.4f\n", "primary + 1 replica, 1 thread writing",
              replica_w.pages_per_second, replica_w.replica_share * 100, replica_w.checks_per_read);
  std::printf("  ratio replica/primary: %.2fx idle, %.2fx with a writer\n",
              replica.pages_per_second / primary.pages_per_second, replica_w.pages_per_second / primary_w.pages_per_second);
  std::printf("  read-your-writes check: %.1f us per position question, page read %.1f us:\n"
              "  %.2f%% of a page read with a writer (%.4f questions per read), goal <= 5%%\n",
              check_us, page_us, 100.0 * replica_w.checks_per_read * check_us / page_us, replica_w.checks_per_read);
  std::fflush(stdout);
}

// ---- purge --------------------------------------------------------------------

void fill_expired(const std::string& db, const sdk::Uuid& user, std::size_t rows) {
  PGconn* c = bench::pg_connect(db);
  const auto past = sdk::Timestamp::now() - std::chrono::hours(1);
  for (std::size_t done = 0; done < rows;) {
    std::vector<sdk::Message> batch(std::min<std::size_t>(10'000, rows - done));
    for (auto& m : batch) {
      m.id = sdk::Uuid::generate();
      m.sender_id = m.recipient_id = user;
      m.encrypted_content = sdk::Bytes(272, 0x5a);
      m.iv = sdk::Bytes(12, 1);
      m.key_id = "default";
      m.created_at = past;
      m.expires_at = past;
    }
    bench::raw_copy_messages(c, batch);
    done += batch.size();
  }
  bench::pg_exec(c, "VACUUM ANALYZE messages");
  PQfinish(c);
}

struct SendLatency {
  double p99_ms = 0, max_ms = 0;
  std::size_t sends = 0;
};

// 4 threads send through Strata while `during` runs (or for `seconds` without it).
template <class During>
SendLatency sends_while(Services& services, const sdk::User& a, const sdk::User& b, During during) {
  std::vector<std::vector<double>> latencies(4);
  std::atomic<bool> stop{false};
  {
    std::vector<std::jthread> senders;
    for (std::size_t t = 0; t < 4; ++t)
      senders.emplace_back([&, t] {
        while (!stop) {
          auto begin = Clock::now();
          services.messages().send(a, b, std::string(256, 'x'), std::nullopt, Origin{}).value();
          latencies[t].push_back(std::chrono::duration<double, std::milli>(Clock::now() - begin).count());
        }
      });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    during();
    stop = true;
  }
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  return SendLatency{bench::percentile(all, 0.99), bench::percentile(all, 1.0), all.size()};
}

void purge(bool quick) {
  const std::size_t rows = quick ? 100'000 : 1'000'000;
  const std::string db = "strata_bench_pg_ha_purge";
  bench::ScratchDatabase scratch(db);
  auto host = open("[storage]\nplugin = \"postgres\"\nhost = \"127.0.0.1\"\nport = " +
                   std::to_string(test::postgres_port()) + "\nuser = \"postgres\"\ndbname = \"" + db +
                   "\"\n[cache.default]\nplugin = \"memory\"\n[audit]\nplugin = \"memory\"\n"
                   "[cipher]\nplugin = \"aes_gcm\"\nkey = \"" + std::string(bench::bench_key) +
                   "\"\n[users]\nscrypt_log2_n = 10\n[maintenance]\npurge_interval_s = 0\n");
  auto services = Services::open(*host, ServicesOptions{false}).value();
  auto a = services->users().register_user("purgea", "a@example.org", "purge-bench-pass", Origin{}).value();
  auto b = services->users().register_user("purgeb", "b@example.org", "purge-bench-pass", Origin{}).value();

  auto quiet = sends_while(*services, a, b, [] { std::this_thread::sleep_for(std::chrono::seconds(3)); });

  fill_expired(db, a.id, rows);
  double batched_s = 0;
  std::uint64_t purged = 0;
  auto batched = sends_while(*services, a, b, [&] {
    auto start = Clock::now();
    purged = host->storage()->purge_expired(sdk::Timestamp::now()).value();
    batched_s = seconds_since(start);
  });

  fill_expired(db, a.id, rows);
  double single_s = 0;
  auto single = sends_while(*services, a, b, [&] {
    PGconn* c = bench::pg_connect(db);
    auto start = Clock::now();
    bench::pg_exec(c, "DELETE FROM messages WHERE expires_at IS NOT NULL AND expires_at <= now()");
    single_s = seconds_since(start);
    PQfinish(c);
  });

  std::printf("\npurge of %zu expired rows while 4 threads send (send p99 with no purge: %.2f ms):\n", rows,
              quiet.p99_ms);
  std::printf("  %-34s %9s %12s %12s %14s\n", "", "time s", "send p99 ms", "send max ms", "p99 vs quiet");
  std::printf("  %-34s %9.1f %12.2f %12.1f %13.2fx\n", "Strata purge_expired (batches 1000)", batched_s,
              batched.p99_ms, batched.max_ms, batched.p99_ms / quiet.p99_ms);
  std::printf("  %-34s %9.1f %12.2f %12.1f %13.2fx\n", "one DELETE (raw libpq)", single_s, single.p99_ms,
              single.max_ms, single.p99_ms / quiet.p99_ms);
  std::printf("  purged %llu; batched took %.2fx the time of one DELETE; goal: batched p99 <= 2x quiet\n",
              static_cast<unsigned long long>(purged), batched_s / single_s);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  strata::bench::use_scratch_data_dir();
  try {
    replicas(quick);
    purge(quick);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_pg_ha: %s\n", e.what());
    return 1;
  }
  return 0;
}
