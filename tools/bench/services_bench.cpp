// Messages::send on the production plugins against the raw path, in the same run:
//
//   single send      Strata (users checked in the Redis cache, AES-GCM seal, prepared insert,
//                    audit event queued) vs raw Crypto++ GCM seal + libpq prepared INSERT  (goal >= 0.9x)
//   batch of 100     Strata send_batch (seal x100, binary COPY in a transaction) vs raw
//                    seal x100 + prepared INSERT x100 in one transaction                   (goal >= 0.8x)
//   audit overhead   p50 of send with the MongoDB audit sink vs the same config without
//                    [audit]                                                               (goal <= 10%)
//
// Needs PostgreSQL, Redis and a MongoDB wire-protocol server on 127.0.0.1
// (tools/services.sh). A scratch database is created and dropped.
//
// Usage: bench_services [--quick]

#include <cryptopp/aes.h>
#include <cryptopp/gcm.h>
#include <cryptopp/osrng.h>
#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "bench_host.hpp"
#include "libpq_scratch.hpp"
#include "percentile.hpp"
#include "strata/services.hpp"

namespace {

using namespace strata;
using Clock = std::chrono::steady_clock;

using bench::percentile;
using bench::pg_connect;
using bench::pg_exec;

// The raw path: what an application would write by hand with the same libraries.
class RawSender {
 public:
  RawSender(PGconn* c, const sdk::Bytes& key) : c_(c) {
    enc_.SetKeyWithIV(key.data(), key.size(), iv_.data(), iv_.size());
    PQclear(PQprepare(c_, "raw_insert",
                      "INSERT INTO messages (id, sender_id, recipient_id, encrypted_content, iv, key_id, created_at) "
                      "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                      7, nullptr));
  }
  void send(const sdk::Uuid& from, const sdk::Uuid& to, const std::string& text) {
    sdk::Uuid id = sdk::Uuid::generate();
    sdk::Bytes aad = Messages::associated_data(id, from, to);
    rng_.GenerateBlock(iv_.data(), iv_.size());
    sdk::Bytes sealed(text.size() + 16);
    enc_.EncryptAndAuthenticate(sealed.data(), sealed.data() + text.size(), 16, iv_.data(), 12, aad.data(), aad.size(),
                                reinterpret_cast<const CryptoPP::byte*>(text.data()), text.size());
    // BYTEA as binary parameters, as the plugin sends them.
    std::string values[] = {id.str(), from.str(), to.str(), sdk::to_string(sealed), sdk::to_string(iv_), "default",
                            sdk::Timestamp::now().iso8601()};
    const char* params[7];
    int lengths[7], formats[7] = {0, 0, 0, 1, 1, 0, 0};
    for (int i = 0; i < 7; ++i) params[i] = values[i].c_str(), lengths[i] = static_cast<int>(values[i].size());
    PGresult* r = PQexecPrepared(c_, "raw_insert", 7, params, lengths, formats, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) throw std::runtime_error(PQresultErrorMessage(r));
    PQclear(r);
  }

 private:
  PGconn* c_;
  CryptoPP::GCM<CryptoPP::AES>::Encryption enc_;
  CryptoPP::AutoSeededRandomPool rng_;
  sdk::Bytes iv_ = sdk::Bytes(12);
};

std::string config(const std::string& db, const std::string& prefix, bool audit) {
  std::string text = "[storage]\nplugin = \"postgres\"\nhost = \"127.0.0.1\"\nport = " +
                     std::to_string(test::postgres_port()) + "\nuser = \"postgres\"\ndbname = \"" + db +
                     "\"\n[cache.default]\nplugin = \"redis\"\nport = " + std::to_string(test::redis_port()) +
                     "\ndb = 2\nkey_prefix = \"" + prefix +
                     "\"\n[cipher]\nplugin = \"aes_gcm\"\nkey = \"" + std::string(bench::bench_key) +
                     "\"\n[users]\nscrypt_log2_n = 10\n";
  if (audit) text += "[audit]\nplugin = \"mongodb\"\nuri = \"" + test::mongodb_uri() + "/" + db + "\"\n";
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const int singles = quick ? 300 : 2000, batches = quick ? 20 : 100;
  const std::string db = "strata_bench_services", text(200, 'x');
  try {
    bench::ScratchDatabase scratch(db);
    std::string prefix = "bench-" + sdk::Uuid::generate().str() + ":";
    auto host = bench::open_or_die(config(db, prefix, true));
    auto quiet = bench::open_or_die(config(db, prefix, false));
    if (!host->storage()->migrate(host->storage()->schema_status()->latest)) throw std::runtime_error("migrate");
    auto services = std::move(Services::open(*host).value());
    auto unaudited = std::move(Services::open(*quiet).value());
    auto alice = services->users().register_user("alice", "alice@example.org", "alice-password", Origin{}).value();
    auto bob = services->users().register_user("bob", "bob@example.org", "bob-password", Origin{}).value();
    PGconn* raw_conn = pg_connect(db);
    RawSender raw(raw_conn, *sdk::from_hex(bench::bench_key));

    const sdk::Timestamp run_start = sdk::Timestamp::now();
    // Interleave the paths in rounds so drift (autovacuum, WAL) hits all alike.
    std::vector<double> t_strata, t_raw, t_unaudited, t_resolved;
    auto time = [](auto&& f) {
      auto start = Clock::now();
      f();
      return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    };
    for (int i = 0; i < singles; ++i) {
      t_raw.push_back(time([&] { raw.send(alice.id, bob.id, text); }));
      t_strata.push_back(time([&] {
        if (!services->messages().send({alice.id, bob.id, text, std::nullopt}, Origin{})) throw std::runtime_error("send");
      }));
      // Users the caller already resolved (the CLI's send): no lookups at all.
      t_resolved.push_back(time([&] {
        if (!services->messages().send(alice, bob, text, std::nullopt, Origin{})) throw std::runtime_error("send");
      }));
      t_unaudited.push_back(time([&] {
        if (!unaudited->messages().send({alice.id, bob.id, text, std::nullopt}, Origin{})) throw std::runtime_error("send");
      }));
    }
    std::vector<double> b_strata, b_raw;
    std::vector<Outgoing> batch(100, Outgoing{alice.id, bob.id, text, std::nullopt});
    for (int i = 0; i < batches; ++i) {
      b_raw.push_back(time([&] {
        pg_exec(raw_conn, "BEGIN");
        for (int j = 0; j < 100; ++j) raw.send(alice.id, bob.id, text);
        pg_exec(raw_conn, "COMMIT");
      }));
      b_strata.push_back(time([&] {
        if (!services->messages().send_batch(batch, Origin{})) throw std::runtime_error("send_batch");
      }));
    }
    services->audit().flush();
    // The overhead figure only means something if the events reached the sink (not the spool).
    sdk::AuditQuery sends;
    sends.action = "message.send";
    sends.from = run_start;  // the database outlives runs
    auto stored = host->audit()->count(sends);
    std::uint64_t expected = static_cast<std::uint64_t>(2 * singles + batches * 100);
    if (!stored || *stored != expected || services->audit().spooled() != 0)
      throw std::runtime_error("the audit sink holds " + (stored ? std::to_string(*stored) : stored.error().describe()) +
                               " send events, expected " + std::to_string(expected) + ": the audit figure is void");
    std::printf("audit sink holds all %llu send events\n", static_cast<unsigned long long>(expected));

    auto sum = [](const std::vector<double>& v) { double s = 0; for (double x : v) s += x; return s; };
    double raw_rate = singles / sum(t_raw) * 1e6, strata_rate = singles / sum(t_strata) * 1e6;
    double raw_batch = batches * 100 / sum(b_raw) * 1e6, strata_batch = batches * 100 / sum(b_strata) * 1e6;
    std::printf("\n%-62s %12s %12s %8s\n", "(ratios: strata / reference)", "strata", "reference", "ratio");
    std::printf("%-62s %12.0f %12.0f %7.2fx\n", "send, single (messages/s) vs raw Crypto++ + libpq", strata_rate,
                raw_rate, strata_rate / raw_rate);
    double resolved_rate = singles / sum(t_resolved) * 1e6;
    std::printf("%-62s %12.0f %12.0f %7.2fx\n", "send, single, users resolved by the caller, vs raw", resolved_rate,
                raw_rate, resolved_rate / raw_rate);
    std::printf("%-62s %12.0f %12.0f %7.2fx\n", "send, batch of 100 (messages/s) vs raw seal + INSERTs in a tx",
                strata_batch, raw_batch, strata_batch / raw_batch);
    double p50_audited = percentile(t_strata, 0.5), p50_quiet = percentile(t_unaudited, 0.5);
    std::printf("%-62s %9.1f us %9.1f us %+6.1f%%\n", "send p50 with the MongoDB audit sink vs without [audit]",
                p50_audited, p50_quiet, (p50_audited - p50_quiet) / p50_quiet * 100);
    std::printf("%-62s %9.1f us %9.1f us\n", "send p99 (audited, raw)", percentile(t_strata, 0.99),
                percentile(t_raw, 0.99));
    PQfinish(raw_conn);
    unaudited.reset();
    services.reset();
    quiet.reset();
    host.reset();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_services: %s\n", e.what());
    return 1;
  }
  return 0;
}
