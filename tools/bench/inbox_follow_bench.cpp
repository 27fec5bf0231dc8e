// Following an inbox (issue 26) on PostgreSQL + Redis, in one run:
//
//   sequence cost     Messages::send from 1, 20 and 64 threads with the numbering trigger on and off
//                     (ALTER TABLE messages DISABLE TRIGGER strata_number_message), interleaved on the
//                     same database; goal: on >= 0.9x off
//   send to callback  1,000 recipients subscribed in this process, send_async paced at 1k and 5k msg/s
//                     to random recipients: p50/p99 from the message's created_at (taken when it is
//                     sealed, before the commit) to the subscriber's callback; against raw Redis
//                     PUBLISH -> SUBSCRIBE (hiredis, a timestamp payload) at the same rates in the same
//                     run; goal p99 <= 25 ms
//   fan-out           10,000 recipients subscribed, one message each (send_batch of 1,000): callbacks
//                     per second until every one has arrived
//
// Needs the test servers (tools/services.sh). Usage: bench_inbox_follow [--quick]

#include <hiredis/hiredis.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "bench_host.hpp"
#include "libpq_scratch.hpp"
#include "percentile.hpp"
#include "strata/services.hpp"

using namespace strata;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t text_bytes = 256;

std::string config(const std::string& db, const std::string& prefix) {
  return "[storage]\nplugin = \"postgres\"\nhost = \"127.0.0.1\"\nport = " + std::to_string(test::postgres_port()) +
         "\nuser = \"postgres\"\ndbname = \"" + db + "\"\n" +
         "[cache.default]\nplugin = \"redis\"\nport = " + std::to_string(test::redis_port()) +
         "\ndb = 2\nkey_prefix = \"" + prefix + "\"\n[cipher]\nplugin = \"aes_gcm\"\nkey = \"" +
         std::string(bench::bench_key) + "\"\n[users]\nscrypt_log2_n = 10\n[audit]\nplugin = \"memory\"\n"
         "spool_path = \"/tmp/" + db + "-spool.jsonl\"\n";
}

// Sends from `threads` threads for `seconds`, each to a random one of `to`; sends per second.
double sends_per_second(Services& services, const sdk::Uuid& from, const std::vector<sdk::Uuid>& to, int threads,
                        double seconds) {
  std::atomic<long> sent{0}, failed{0};
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  {
    std::vector<std::jthread> senders;
    for (int t = 0; t < threads; ++t)
      senders.emplace_back([&, t] {
        std::mt19937 pick(static_cast<std::uint32_t>(t));
        Outgoing message{from, to.front(), std::string(text_bytes, 'x'), std::nullopt};
        while (Clock::now() < end) {
          message.to = to[pick() % to.size()];
          (services.messages().send(message, Origin{}) ? sent : failed)++;
        }
      });
  }
  if (failed > 0) throw std::runtime_error(std::to_string(failed.load()) + " sends failed");
  return static_cast<double>(sent.load()) / seconds;
}

struct Latencies {
  double p50_ms = 0, p99_ms = 0;
  std::size_t samples = 0;
};

Latencies summarize(std::vector<double> ms) {
  if (ms.empty()) return {};
  return Latencies{bench::percentile(ms, 0.5), bench::percentile(ms, 0.99), ms.size()};
}

// Paced send_async to random recipients, each subscribed: created_at -> callback.
Latencies send_to_callback(Services& services, const std::vector<sdk::Uuid>& recipients, const sdk::Uuid& from,
                           int rate, double seconds) {
  std::mutex mutex;
  std::vector<double> ms;
  std::atomic<long> delivered{0};
  std::vector<std::unique_ptr<InboxSubscription>> subscriptions;
  for (const auto& r : recipients) {
    auto head = services.messages().since(r, InboxCursor{}, 1000, Origin{}).value();
    while (true) {  // to the end of what is stored
      auto more = services.messages().since(r, head.next, 1000, Origin{}).value();
      if (more.next == head.next) break;
      head = more;
    }
    subscriptions.push_back(services.messages()
                                .subscribe(r, head.next,
                                           [&](const InboxUpdate& update) {
                                             auto now = sdk::Timestamp::now().micros();
                                             std::lock_guard lock(mutex);
                                             for (const auto& e : update.entries)
                                               ms.push_back(static_cast<double>(now - e.envelope.created_at.micros()) / 1000.0);
                                             delivered += static_cast<long>(update.entries.size());
                                           },
                                           Origin{})
                                .value());
  }
  std::mt19937 pick(42);
  const long total = static_cast<long>(rate * seconds);
  std::atomic<long> failed{0};
  const auto start = Clock::now();
  for (long i = 0; i < total; ++i) {
    std::this_thread::sleep_until(start + std::chrono::duration<double>(static_cast<double>(i) / rate));
    services.messages().send_async(Outgoing{from, recipients[pick() % recipients.size()], std::string(text_bytes, 'x'),
                                            std::nullopt},
                                   Origin{}, [&](sdk::Result<sdk::Message> sent) {
                                     if (!sent) ++failed;
                                   });
  }
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (delivered.load() < total - failed.load() && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  subscriptions.clear();
  if (failed > 0) throw std::runtime_error(std::to_string(failed.load()) + " sends failed");
  if (delivered.load() < total) throw std::runtime_error("only " + std::to_string(delivered.load()) + " of " +
                                                         std::to_string(total) + " messages reached a subscriber");
  std::lock_guard lock(mutex);
  return summarize(ms);
}

// Raw Redis pub/sub at the same rate: PUBLISH a steady-clock timestamp, SUBSCRIBE on another connection.
Latencies raw_publish_subscribe(int rate, double seconds) {
  auto connect = [] {
    redisContext* c = redisConnect("127.0.0.1", test::redis_port());
    if (!c || c->err) throw std::runtime_error("redis: cannot connect");
    return c;
  };
  redisContext* sub = connect();
  redisContext* pub = connect();
  freeReplyObject(redisCommand(sub, "SUBSCRIBE strata-bench-hints"));
  std::vector<double> ms;
  const long total = static_cast<long>(rate * seconds);
  std::thread listener([&] {
    for (long got = 0; got < total;) {
      void* raw = nullptr;
      if (redisGetReply(sub, &raw) != REDIS_OK) return;
      auto* reply = static_cast<redisReply*>(raw);
      if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 3 && reply->element[2]->type == REDIS_REPLY_STRING) {
        long long sent_ns = std::atoll(reply->element[2]->str);
        long long now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
        ms.push_back(static_cast<double>(now_ns - sent_ns) / 1e6);
        ++got;
      }
      freeReplyObject(reply);
    }
  });
  const auto start = Clock::now();
  for (long i = 0; i < total; ++i) {
    std::this_thread::sleep_until(start + std::chrono::duration<double>(static_cast<double>(i) / rate));
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
    freeReplyObject(redisCommand(pub, "PUBLISH strata-bench-hints %lld", static_cast<long long>(ns)));
  }
  listener.join();
  redisFree(sub);
  redisFree(pub);
  return summarize(ms);
}

// `n` users made in one statement (no password hashing: the benchmark only sends to them).
std::vector<sdk::Uuid> many_users(const std::string& db, int n, const std::string& tag) {
  PGconn* c = bench::pg_connect(db);
  PGresult* r = PQexec(c, ("INSERT INTO users (username, email, password_hash) SELECT '" + tag + "' || i, '" + tag +
                           "' || i || '@example.org', 'x' FROM generate_series(1, " + std::to_string(n) +
                           ") i RETURNING id")
                              .c_str());
  std::vector<sdk::Uuid> ids;
  for (int i = 0; i < PQntuples(r); ++i) ids.push_back(sdk::Uuid::parse(PQgetvalue(r, i, 0)).value());
  PQclear(r);
  PQfinish(c);
  if (static_cast<int>(ids.size()) != n) throw std::runtime_error("could not create the users");
  return ids;
}

// One message to each of `recipients`, all subscribed: callbacks per second until all arrived.
double fan_out(Services& services, const std::vector<sdk::Uuid>& recipients, const sdk::Uuid& from) {
  std::atomic<long> delivered{0};
  std::vector<std::unique_ptr<InboxSubscription>> subscriptions;
  for (const auto& r : recipients)
    subscriptions.push_back(
        services.messages()
            .subscribe(r, InboxCursor{}, [&](const InboxUpdate& u) { delivered += static_cast<long>(u.entries.size()); },
                       Origin{})
            .value());
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the catch-up reads (nothing stored yet) settle
  const auto start = Clock::now();
  for (std::size_t i = 0; i < recipients.size(); i += 1000) {
    std::vector<Outgoing> batch;
    for (std::size_t j = i; j < std::min(recipients.size(), i + 1000); ++j)
      batch.push_back(Outgoing{from, recipients[j], "fan", std::nullopt});
    services.messages().send_batch(batch, Origin{}).value();
  }
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (delivered.load() < static_cast<long>(recipients.size()) && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  subscriptions.clear();
  if (delivered.load() < static_cast<long>(recipients.size())) throw std::runtime_error("fan-out incomplete");
  return static_cast<double>(recipients.size()) / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const double seconds = quick ? 2 : 5;
  const std::string db = "strata_bench_inbox_follow";
  try {
    bench::ScratchDatabase scratch(db);
    auto host = bench::open_or_die(config(db, "bench-" + sdk::Uuid::generate().str() + ":"));
    if (!host->storage()->migrate(host->storage()->schema_status()->latest)) throw std::runtime_error("migrate");
    auto services = std::move(Services::open(*host).value());
    auto alice = services->users().register_user("alice", "alice@example.org", "alice-password", Origin{}).value();
    auto bob = services->users().register_user("bob", "bob@example.org", "bob-password", Origin{}).value();
    PGconn* admin = bench::pg_connect(db);
    auto thousand = many_users(db, 1000, "r");

    std::printf("what the sequence costs a send: %zu-byte messages, %.0f s per run, PostgreSQL + Redis\n", text_bytes,
                seconds);
    std::printf("%-9s %-22s %14s %14s %8s\n", "in flight", "recipients", "numbered/s", "unnumbered/s", "ratio");
    std::map<std::pair<int, std::string>, double> cost;
    const std::vector<std::pair<std::string, std::vector<sdk::Uuid>>> audiences{
        {"one (every send: bob)", {bob.id}}, {"1,000 (random)", thousand}};
    for (int n : {1, 20, 64})
      for (const auto& [label, to] : audiences) {
        bench::pg_exec(admin, "ALTER TABLE messages DISABLE TRIGGER strata_number_message");
        double off = sends_per_second(*services, alice.id, to, n, seconds);
        bench::pg_exec(admin, "ALTER TABLE messages ENABLE TRIGGER strata_number_message");
        double on = sends_per_second(*services, alice.id, to, n, seconds);
        cost[{n, label}] = on / off;
        std::printf("%-9d %-22s %14.0f %14.0f %7.2fx\n", n, label.c_str(), on, off, on / off);
      }
    PQfinish(admin);
    services->audit().flush();

    std::printf("\nsend to callback, 1,000 subscribed recipients, %.0f s per rate:\n", seconds);
    std::printf("%-8s %12s %12s %12s %12s\n", "msg/s", "strata p50", "strata p99", "redis p50", "redis p99");
    std::map<int, Latencies> strata_latency;
    for (int rate : {1000, 5000}) {
      auto raw = raw_publish_subscribe(rate, seconds);
      auto ours = send_to_callback(*services, thousand, alice.id, rate, seconds);
      services->audit().flush();
      strata_latency[rate] = ours;
      std::printf("%-8d %10.2f ms %10.2f ms %10.3f ms %10.3f ms\n", rate, ours.p50_ms, ours.p99_ms, raw.p50_ms,
                  raw.p99_ms);
    }

    auto ten_thousand = many_users(db, 10000, "f");
    double wakeups = fan_out(*services, ten_thousand, alice.id);
    services->audit().flush();
    std::printf("\nfan-out: 10,000 subscribed recipients, one message each: %.0f callbacks/s\n\n", wakeups);

    auto goal = [](const char* what, double ratio, double target) {
      std::printf("%-64s %6.2fx  (goal >= %.1fx) %s\n", what, ratio, target, ratio >= target ? "met" : "MISSED");
    };
    for (auto& [key, ratio] : cost)
      goal(("sequence on vs off, " + std::to_string(key.first) + " in flight, to " + key.second).c_str(), ratio, 0.9);
    for (auto& [rate, l] : strata_latency)
      std::printf("%-64s %6.2f ms (goal <= 25 ms) %s\n", ("send-to-callback p99 at " + std::to_string(rate) + "/s").c_str(),
                  l.p99_ms, l.p99_ms <= 25 ? "met" : "MISSED");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_inbox_follow: %s\n", e.what());
    return 1;
  }
}
