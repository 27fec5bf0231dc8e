// Moving a seed deployment onto Strata at scale (issue 25): a database made
// by the seed's own SQL (tests/interop/seed/) holding N messages sealed the
// seed's way (AES-256-GCM, tag dropped, no associated data), then
//   1. `migrate plan`: the time to verify the seed's schema (the catalog
//      comparison), and `migrate up` (baseline, then Strata's migrations 3
//      and 4, whose indexes are built over the N rows);
//   2. `adopt messages`: rows re-sealed per second, against raw libpq
//      UPDATEs of the same rows on the same server in the same run — one
//      prepared UPDATE per row in transactions of the same batch size (what a
//      hand-written converter does) and one set-based UPDATE of every row
//      (the server's floor);
//   3. `keys rewrap` after a key rotation: the adopted rows re-sealed under a new
//      primary key, a page per statement, against the same references, and
//      the row-by-row path it replaced on a 5,000-row sample.
// Usage: bench_seed_adoption [messages, default 1000000] [rows adopted, default 200000]
// Needs the test PostgreSQL (tools/services.sh start).

#include <cryptopp/aes.h>
#include <cryptopp/gcm.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>

#include "bench_host.hpp"
#include "libpq_scratch.hpp"
#include "strata/sdk/bytes.hpp"
#include "strata/services.hpp"

using namespace strata;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t batch = 500;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::string seed_sql(const char* file) {
  std::ifstream in(std::string(STRATA_SOURCE_DIR) + "/tests/interop/seed/" + file);
  std::string text{std::istreambuf_iterator<char>(in), {}};
  return std::regex_replace(text, std::regex("SELECT cron\\.schedule[^\n]*"), "");  // no pg_cron in scratch databases
}

std::string hex(sdk::BytesView bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out = "\\x";
  for (auto b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

// What the seed's DatabaseEncryption.encrypt stores for `text`: GCM output without its tag.
std::pair<std::string, std::string> seed_ciphertext(const std::string& text) {
  auto key = *sdk::from_hex(bench::bench_key);
  sdk::Bytes iv(12, 7), out(text.size() + 16);
  CryptoPP::GCM<CryptoPP::AES>::Encryption gcm;
  gcm.SetKeyWithIV(key.data(), key.size(), iv.data(), iv.size());
  gcm.EncryptAndAuthenticate(out.data(), out.data() + text.size(), 16, iv.data(), static_cast<int>(iv.size()), nullptr,
                             0, reinterpret_cast<const CryptoPP::byte*>(text.data()), text.size());
  out.resize(text.size());
  return {hex(out), hex(iv)};
}

// N messages between two seed users, all with the same seed ciphertext (the cost per row is what is measured).
void build_seed_database(const std::string& dbname, long messages) {
  PGconn* c = bench::pg_connect(dbname);
  bench::pg_exec(c, seed_sql("schema.sql"));
  bench::pg_exec(c, seed_sql("indexes.sql"));
  bench::pg_exec(c, "INSERT INTO users (username, email, password_hash) VALUES ('a', 'a@example.org', 'x'),"
                    " ('b', 'b@example.org', 'x')");
  auto [content, iv] = seed_ciphertext("A message the seed's services sent, some sixty bytes long.");
  bench::pg_exec(c, "INSERT INTO messages (sender_id, recipient_id, encrypted_content, iv, created_at)"
                    " SELECT (SELECT id FROM users WHERE username = 'a'), (SELECT id FROM users WHERE username = 'b'),"
                    " '" + content + "'::bytea, '" + iv + "'::bytea, now() - g * interval '1 second'"
                    " FROM generate_series(1, " + std::to_string(messages) + ") g");
  bench::pg_exec(c, "VACUUM ANALYZE");
  PQfinish(c);
}

// The raw converter: per row, one prepared UPDATE of the same columns, `batch` rows per transaction.
double raw_row_updates(const std::string& dbname, long rows) {
  PGconn* c = bench::pg_connect(dbname);
  bench::pg_exec(c, "CREATE TEMP TABLE ids AS SELECT id FROM messages ORDER BY created_at DESC LIMIT " + std::to_string(rows));
  PGresult* ids = PQexec(c, "SELECT id::text FROM ids");
  PQclear(PQprepare(c, "up", "UPDATE messages SET encrypted_content = $2::bytea, iv = $3::bytea, key_id = 'raw' WHERE id = $1::uuid", 3, nullptr));
  auto [content, iv] = seed_ciphertext("A message the seed's services sent, some sixty bytes long, +tag");
  auto start = Clock::now();
  for (int i = 0; i < PQntuples(ids); ++i) {
    if (i % batch == 0) bench::pg_exec(c, i ? "COMMIT; BEGIN" : "BEGIN");
    const char* values[3] = {PQgetvalue(ids, i, 0), content.c_str(), iv.c_str()};
    PQclear(PQexecPrepared(c, "up", 3, values, nullptr, nullptr, 0));
  }
  bench::pg_exec(c, "COMMIT");
  double elapsed = seconds_since(start);
  PQclear(ids);
  PQfinish(c);
  return elapsed;
}

double raw_set_update(const std::string& dbname, long rows) {
  PGconn* c = bench::pg_connect(dbname);
  auto start = Clock::now();
  bench::pg_exec(c, "UPDATE messages SET encrypted_content = encrypted_content || '\\x00'::bytea, key_id = 'set'"
                    " WHERE id IN (SELECT id FROM messages ORDER BY created_at DESC LIMIT " + std::to_string(rows) + ")");
  double elapsed = seconds_since(start);
  PQfinish(c);
  return elapsed;
}

// A second key for the rotation phase.
constexpr std::string_view rotated_key = "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100";

// The rewrap as it was before pages went in one statement: per row, open,
// seal under the new primary, one compare-and-set in a transaction of its own.
double rewrap_row_by_row(Host& host, long rows) {
  auto storage = host.storage();
  auto cipher = host.cipher();
  auto start = Clock::now();
  for (long done = 0; done < rows;) {  // each page starts at the newest row not yet re-sealed
    auto page = storage->messages_not_under_key("2026-12", sdk::PageRequest{sdk::max_page_limit, std::nullopt});
    if (!page || page->items.empty()) break;
    for (const auto& m : page->items) {
      if (done++ == rows) break;
      auto aad = Messages::associated_data(m.id, m.sender_id, m.recipient_id);
      auto plain = cipher->open(sdk::Sealed{m.key_id, m.iv, m.encrypted_content}, aad);
      auto sealed = plain ? cipher->seal(*plain, aad) : sdk::Result<sdk::Sealed>(sdk::fail(plain.error()));
      if (!sealed || !storage->replace_message_content(m.id, m.key_id, sealed->ciphertext, sealed->iv, sealed->key_id)) {
        std::fprintf(stderr, "rewrap row by row failed\n");
        std::exit(1);
      }
    }
  }
  return seconds_since(start);
}

}  // namespace

int main(int argc, char** argv) {
  const long messages = argc > 1 ? std::stol(argv[1]) : 1'000'000;
  const long adopted = std::min(messages, argc > 2 ? std::stol(argv[2]) : 200'000L);
  bench::ScratchDatabase db("strata_bench_seed_adoption");
  auto start = Clock::now();
  build_seed_database(db.name, messages);
  std::printf("seed database: %ld messages made by the seed's SQL in %.1f s\n", messages, seconds_since(start));

  const std::string config = "[storage]\nplugin = \"postgres\"\nhost = \"127.0.0.1\"\nport = " +
                             std::to_string(test::postgres_port()) + "\nuser = \"postgres\"\ndbname = \"" + db.name +
                             "\"\n[cipher]\nplugin = \"aes_gcm\"\nkey = \"" + std::string(bench::bench_key) +
                             "\"\n[audit]\nplugin = \"memory\"\n";
  auto host = bench::open_or_die(config);
  start = Clock::now();
  auto plan = host->storage()->plan_migration(4);
  double verify = seconds_since(start);
  if (!plan || !plan->differences.empty() || plan->steps.at(0).action != "baseline") {
    std::fprintf(stderr, "the seed's schema was not adopted as a baseline\n");
    return 1;
  }
  start = Clock::now();
  if (auto moved = host->storage()->migrate(4); !moved) {
    std::fprintf(stderr, "migrate: %s\n", moved.error().describe().c_str());
    return 1;
  }
  double migrate = seconds_since(start);
  std::printf("migrate plan (verify the seed's schema, %ld messages): %.3f s\n", messages, verify);
  std::printf("migrate up (verify, baseline 1-2, apply 3-4 incl. their indexes): %.2f s\n", migrate);

  // Adopt only the newest `adopted` rows: mark the rest as Strata's for this run.
  PGconn* c = bench::pg_connect(db.name);
  if (adopted < messages)  // created_at is one second apart per row (build_seed_database)
    bench::pg_exec(c, "UPDATE messages SET key_id = 'elsewhere' WHERE created_at < (SELECT created_at FROM messages"
                      " ORDER BY created_at DESC OFFSET " + std::to_string(adopted - 1) + " LIMIT 1)");
  bench::pg_exec(c, "VACUUM ANALYZE messages");
  PQfinish(c);
  auto services = std::move(Services::open(*host, ServicesOptions{false}).value());
  start = Clock::now();
  auto report = services->adopt_seed_messages(AdoptionOptions{true, batch});
  double adopt = seconds_since(start);
  if (!report || report->converted != static_cast<std::uint64_t>(adopted)) {
    std::fprintf(stderr, "adopt: %s\n", report ? "not every row converted" : report.error().describe().c_str());
    return 1;
  }
  services.reset();

  // keys rewrap after a cipher key rotation: the adopted rows, now under
  // "default", re-sealed under a new primary key a page at a time.
  const std::string rotated = "[storage]\nplugin = \"postgres\"\nhost = \"127.0.0.1\"\nport = " +
                              std::to_string(test::postgres_port()) + "\nuser = \"postgres\"\ndbname = \"" + db.name +
                              "\"\n[cipher]\nplugin = \"aes_gcm\"\nkeys = [ { id = \"2026-12\", key = \"" +
                              std::string(rotated_key) + "\", primary = true }, { id = \"default\", key = \"" +
                              std::string(bench::bench_key) + "\" } ]\n[audit]\nplugin = \"memory\"\n";
  auto rotated_host = bench::open_or_die(rotated);
  c = bench::pg_connect(db.name);  // the rows not adopted are not the rewrap's: under the new key already
  bench::pg_exec(c, "UPDATE messages SET key_id = '2026-12' WHERE key_id = 'elsewhere'");
  bench::pg_exec(c, "VACUUM ANALYZE messages");
  PQfinish(c);
  // Before: one compare-and-set per row, each its own transaction (the rewrap
  // path until the batch; a sample, it is slow).
  const long sampled = std::min(adopted, 5'000L);
  double one_by_one = rewrap_row_by_row(*rotated_host, sampled);
  services = std::move(Services::open(*rotated_host, ServicesOptions{false}).value());
  start = Clock::now();
  auto rewrapped = services->messages().rewrap(batch, {}, Origin{});
  double rewrap = seconds_since(start);
  if (!rewrapped || rewrapped->rewrapped + static_cast<std::uint64_t>(sampled) < static_cast<std::uint64_t>(adopted)) {
    std::fprintf(stderr, "rewrap: %s\n", rewrapped ? "not every row re-sealed" : rewrapped.error().describe().c_str());
    return 1;
  }
  services.reset();
  const double rewrap_rows = static_cast<double>(rewrapped->rewrapped);

  double row_updates = raw_row_updates(db.name, adopted);
  double set_update = raw_set_update(db.name, adopted);
  std::printf("\n%-58s %12s %8s\n", "rows re-sealed (ratio = strata / reference)", "rows/s", "ratio");
  std::printf("%-58s %12.0f\n", "strata adopt messages (batch 500, audited per row)", adopted / adopt);
  std::printf("%-58s %12.0f %7.2fx\n", "raw libpq: prepared UPDATE per row, 500 per transaction", adopted / row_updates,
              row_updates / adopt);
  std::printf("%-58s %12.0f %7.2fx\n", "raw libpq: one set-based UPDATE", adopted / set_update, set_update / adopt);
  std::printf("%-58s %12.0f %7.2fx\n", "strata keys rewrap, batch 500 (ratio: / per-row UPDATE)", rewrap_rows / rewrap,
              row_updates / adopted * rewrap_rows / rewrap);
  std::printf("%-58s %12.0f %7.2fx\n", "strata rewrap row by row, before (5,000-row sample; same)", sampled / one_by_one,
              row_updates / adopted * sampled / one_by_one);
  return 0;
}
