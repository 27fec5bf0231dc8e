// Erasing a user (issue 27, crypto-shredding) on PostgreSQL: users with N
// messages each (default 100,000), then
//   1. `erase`: the user's data keys destroyed, account and key pair
//      deactivated, sessions revoked, receipt recorded — timed per user,
//      against what erasing by deleting costs on the same server in the same
//      run: one raw `DELETE FROM messages WHERE recipient_id = $1` of a
//      mailbox of the same size (which, unlike the erase, leaves every
//      backup and replica copy readable);
//   2. what per-user keys cost on the send path: send_batch of the same
//      messages sealed under the recipient's data key against the cipher's
//      key (per_user_keys off), same server, same run;
//   3. what they cost an audit event: building one from a client's address
//      with a username, its personal fields sealed under the user's data key
//      against kept in clear (per_user_keys off).
// Usage: bench_erasure [messages per user, default 100000] [users erased, default 3]
// Needs the test PostgreSQL (tools/services.sh start).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "bench_host.hpp"
#include "libpq_scratch.hpp"
#include "strata/services.hpp"

using namespace strata;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string config(const std::string& dbname, bool per_user_keys) {
  return "[storage]\nplugin = \"postgres\"\nhost = \"127.0.0.1\"\nport = " + std::to_string(test::postgres_port()) +
         "\nuser = \"postgres\"\ndbname = \"" + dbname +
         "\"\n[cache.default]\nplugin = \"memory\"\n[cache.session]\nplugin = \"memory\"\n[audit]\nplugin = \"memory\"\n[cipher]\nplugin = \"aes_gcm\"\nkey = \"" + std::string(bench::bench_key) +
         "\"\n[users]\nscrypt_log2_n = 10\n[erasure]\nper_user_keys = " + (per_user_keys ? "true" : "false") + "\n";
}

struct Opened {
  std::unique_ptr<Host> host;
  std::unique_ptr<Services> services;
};

Opened open(const std::string& dbname, bool per_user_keys) {
  Opened o;
  o.host = bench::open_or_die(config(dbname, per_user_keys));
  if (!Services::migrate(*o.host)) std::exit(1);
  auto services = Services::open(*o.host, ServicesOptions{false});
  if (!services) {
    std::fprintf(stderr, "%s\n", services.error().describe().c_str());
    std::exit(1);
  }
  o.services = std::move(*services);
  return o;
}

sdk::User user(Services& s, const std::string& name) {
  auto u = s.users().register_user(name, name + "@example.org", "a-long-password", Origin{});
  if (!u) {
    std::fprintf(stderr, "%s\n", u.error().describe().c_str());
    std::exit(1);
  }
  return *u;
}

// `n` messages from `from` to `to`, in batches of 1000; the milliseconds it took.
double fill(Services& s, const sdk::User& from, const sdk::User& to, long n) {
  std::vector<Outgoing> batch;
  auto start = Clock::now();
  for (long i = 0; i < n; i += 1000) {
    batch.clear();
    for (long k = i; k < std::min(n, i + 1000); ++k)
      batch.push_back(Outgoing{from.id, to.id, "message " + std::to_string(k) + ", some sixty bytes of text to seal.",
                               std::nullopt});
    if (auto sent = s.messages().send_batch(batch, Origin{}); !sent) {
      std::fprintf(stderr, "%s\n", sent.error().describe().c_str());
      std::exit(1);
    }
  }
  return ms_since(start);
}

// Microseconds to build one audit event from a client's address, over `n`.
double event_us(Services& s, const sdk::User& u, int n) {
  std::size_t bytes = 0;
  auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    auto e = s.audit().event(AuditRecord{u.id, "user.login", "user:" + u.id.str(), sdk::AuditStatus::success,
                                         {{"username", u.username}}},
                             Origin{"198.51.100.7"});
    bytes += e.ip.size() + e.metadata.size();  // used, so the loop is not optimised away
  }
  double us = ms_since(start) * 1000.0 / n;
  if (bytes == 0) std::exit(1);
  return us;
}

}  // namespace

int main(int argc, char** argv) {
  const long per_user = argc > 1 ? std::stol(argv[1]) : 100'000;
  const int erased = argc > 2 ? std::stoi(argv[2]) : 3;
  bench::ScratchDatabase db("strata_bench_erasure");
  auto keys_on = open(db.name, true);
  auto& s = *keys_on.services;
  auto sender = user(s, "sender");
  std::vector<sdk::User> users;
  double sealed_ms = 0;
  for (int i = 0; i <= erased; ++i) {
    users.push_back(user(s, "user" + std::to_string(i)));
    double took = fill(s, sender, users.back(), per_user);
    if (i == 0) sealed_ms = took;
    std::printf("user%d: %ld messages sealed under their data key and stored in %.0f ms\n", i, per_user, took);
  }
  PGconn* raw = bench::pg_connect(db.name);
  bench::pg_exec(raw, "VACUUM ANALYZE");

  std::vector<double> erase_ms;
  for (int i = 0; i < erased; ++i) {
    (void)s.sessions().create(users[i].id, Origin{});
    auto start = Clock::now();
    auto receipt = s.erasure().erase(users[i].id, Origin{});
    erase_ms.push_back(ms_since(start));
    if (!receipt) {
      std::fprintf(stderr, "%s\n", receipt.error().describe().c_str());
      return 1;
    }
    std::printf("erase user%d (%ld messages): %.2f ms (the service's own timing: %.2f ms)\n", i, per_user,
                erase_ms.back(), receipt->took.count() / 1000.0);
  }
  // The reference: deleting a mailbox of the same size, one statement.
  const std::string last = users.back().id.str();
  const char* params[1] = {last.c_str()};
  auto start = Clock::now();
  PGresult* r = PQexecParams(raw, "DELETE FROM messages WHERE recipient_id = $1::uuid", 1, nullptr, params, nullptr,
                             nullptr, 0);
  double delete_ms = ms_since(start);
  std::printf("raw DELETE of a %s-row mailbox: %.2f ms (%s)\n", PQcmdTuples(r), delete_ms,
              PQresultStatus(r) == PGRES_COMMAND_OK ? "ok" : PQresultErrorMessage(r));
  PQclear(r);
  PQfinish(raw);
  std::sort(erase_ms.begin(), erase_ms.end());
  const double median = erase_ms[erase_ms.size() / 2];
  std::printf("\nerase, median of %d: %.2f ms for %ld messages (goal <= 50 ms for 100,000)\n", erased, median, per_user);
  std::printf("ratio raw DELETE / erase: %.1fx (above 1: the erase is faster)\n", delete_ms / median);

  constexpr int events = 100'000;
  const double sealed_event_us = event_us(s, users.back(), events);

  // The send path: the same messages sealed under the cipher's key.
  keys_on = {};
  auto keys_off = open(db.name, false);
  auto other = user(*keys_off.services, "plain");
  double plain_ms = fill(*keys_off.services, sender, other, per_user);
  std::printf("send_batch of %ld messages: %.0f ms under data keys, %.0f ms under the cipher's key: ratio %.2fx\n",
              per_user, sealed_ms, plain_ms, plain_ms / sealed_ms);
  const double clear_event_us = event_us(*keys_off.services, other, events);
  std::printf("an audit event with an address and a username: %.2f us with its personal fields sealed, %.2f us in "
              "clear: ratio %.2fx\n",
              sealed_event_us, clear_event_us, clear_event_us / sealed_event_us);
  return 0;
}
