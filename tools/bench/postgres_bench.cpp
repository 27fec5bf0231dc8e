// The postgres plugin against raw libpq and pgbench, in the same run.
//
//   single insert (autocommit)        plugin vs raw prepared libpq, and pgbench -M prepared  (goal >= 0.95x)
//   batch insert of 1000 messages     plugin (binary COPY in a transaction) vs raw binary COPY (goal >= 0.8x)
//   inbox page, 50 newest of 1M rows  plugin (keyset index) vs the raw query on the seed's indexes alone
//                                     (goal >= 1.8x), p50 and p99
//
// Two scratch databases are created and dropped: one migrated to version 2
// (exactly the seed's schema and indexes) and one to the newest version.
//
// Usage: bench_postgres [--quick]   (--quick: 100k rows and fewer calls, for smoke runs)

#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <regex>

#include "bench_host.hpp"
#include "libpq_scratch.hpp"
#include "percentile.hpp"
#include "postgres_copy.hpp"
#include "run_tool.hpp"

namespace {

using namespace strata;
using Clock = std::chrono::steady_clock;

using bench::percentile;
using bench::pg_connect;
using bench::pg_exec;
using Database = bench::ScratchDatabase;

std::unique_ptr<Host> open_storage(const std::string& dbname) {
  return bench::open_or_die("[storage]\nplugin = \"postgres\"\nhost = \"127.0.0.1\"\nport = " +
                            std::to_string(test::postgres_port()) + "\nuser = \"postgres\"\ndbname = \"" + dbname +
                            "\"\n");
}

sdk::Message message(const sdk::Uuid& from, const sdk::Uuid& to, sdk::Timestamp at) {
  sdk::Message m;
  m.id = sdk::Uuid::generate();
  m.sender_id = from;
  m.recipient_id = to;
  m.encrypted_content = sdk::Bytes(200, 0x5a);  // a short message, sealed
  m.iv = sdk::Bytes(12, 0x01);
  m.key_id = "k1";
  m.created_at = at;
  return m;
}


void row(const char* what, double strata, double reference, const char* unit) {
  std::printf("%-58s %12.0f %12.0f %s %6.2fx\n", what, strata, reference, unit, strata / reference);
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const int users = 1000, rows = quick ? 100'000 : 1'000'000, singles = quick ? 500 : 3000, pages = quick ? 500 : 3000;
  try {
    Database seed_db("strata_bench_seed"), strata_db("strata_bench_strata");
    auto seed_host = open_storage(seed_db.name), host = open_storage(strata_db.name);
    auto seed = seed_host->storage(), storage = host->storage();
    if (!seed->migrate(2) || !storage->migrate(storage->schema_status()->latest))
      throw std::runtime_error("migration failed");

    // Users, and `rows` messages spread over them, in both databases.
    std::vector<sdk::Uuid> ids;
    PGconn* seed_raw = pg_connect(seed_db.name);
    for (int i = 0; i < users; ++i) {
      auto u = sdk::User{sdk::Uuid::generate(), "user" + std::to_string(i), "user" + std::to_string(i) + "@b.test",
                         "hash", sdk::Timestamp::now(), sdk::Timestamp::now(), std::nullopt, true};
      if (!seed->create_user(u) || !storage->create_user(u)) throw std::runtime_error("create_user failed");
      ids.push_back(u.id);
    }
    std::mt19937 random(42);
    auto t0 = sdk::Timestamp::now() - std::chrono::hours(24 * 30);
    std::fprintf(stderr, "loading %d messages into each database...\n", rows);
    for (int done = 0; done < rows; done += 10'000) {
      std::vector<sdk::Message> batch;
      for (int i = 0; i < 10'000; ++i)
        batch.push_back(message(ids[random() % users], ids[random() % users], t0 + std::chrono::seconds(done + i)));
      if (!storage->insert_messages(batch)) throw std::runtime_error("load failed");
      // The seed database has no key_id column: its own COPY.
      std::string copy = "COPY messages (id, sender_id, recipient_id, encrypted_content, iv, created_at) FROM STDIN";
      pg_exec(seed_raw, copy);
      std::string text;
      for (const auto& m : batch)
        text += m.id.str() + '\t' + m.sender_id.str() + '\t' + m.recipient_id.str() + '\t' +
                "\\\\x" + sdk::to_hex(m.encrypted_content) + "\t\\\\x" + sdk::to_hex(m.iv) + '\t' +
                m.created_at.iso8601() + '\n';  // BYTEA in COPY text: \\x and hex
      PQputCopyData(seed_raw, text.data(), static_cast<int>(text.size()));
      PQputCopyEnd(seed_raw, nullptr);
      PQclear(PQgetResult(seed_raw));
    }
    pg_exec(seed_raw, "VACUUM ANALYZE messages");
    PGconn* raw = pg_connect(strata_db.name);
    pg_exec(raw, "VACUUM ANALYZE messages");

    std::printf("\n%-58s %12s %12s %s %7s\n", "(ratios: strata / reference)", "strata", "reference", "    ", "ratio");

    // ---- single insert, autocommit --------------------------------------
    const char* insert_sql =
        "INSERT INTO messages (id, sender_id, recipient_id, encrypted_content, iv, created_at, expires_at, is_read, "
        "is_deleted, key_id, read_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
    PQclear(PQprepare(raw, "raw_insert", insert_sql, 11, nullptr));
    auto insert_rate = [&](auto insert) {
      auto start = Clock::now();
      for (int i = 0; i < singles; ++i) insert(message(ids[i % users], ids[(i + 1) % users], sdk::Timestamp::now()));
      return singles / std::chrono::duration<double>(Clock::now() - start).count();
    };
    double raw_single = insert_rate([&](const sdk::Message& m) {
      std::string values[] = {m.id.str(), m.sender_id.str(), m.recipient_id.str(), sdk::to_string(m.encrypted_content),
                              sdk::to_string(m.iv), m.created_at.iso8601(), "false", m.key_id};
      const char* params[] = {values[0].c_str(), values[1].c_str(), values[2].c_str(), values[3].data(),
                              values[4].data(),  values[5].c_str(), nullptr,           values[6].c_str(),
                              values[6].c_str(), values[7].c_str(), nullptr};
      int lengths[11] = {0, 0, 0, static_cast<int>(values[3].size()), static_cast<int>(values[4].size())};
      int formats[11] = {0, 0, 0, 1, 1};  // BYTEA as binary, as the plugin sends it
      PQclear(PQexecPrepared(raw, "raw_insert", 11, params, lengths, formats, 0));
    });
    double strata_single = insert_rate([&](const sdk::Message& m) { (void)storage->insert_message(m); });
    row("single insert vs raw prepared libpq (rows/s)", strata_single, raw_single, "    ");

    // pgbench, one client, prepared statements, the same row shape.
    std::string script = "/tmp/strata_bench_insert.sql";
    if (FILE* f = std::fopen(script.c_str(), "w")) {
      std::fprintf(f,
                   "INSERT INTO messages (id, sender_id, recipient_id, encrypted_content, iv, key_id, created_at) "
                   "VALUES (gen_random_uuid(), '%s', '%s', decode(repeat('5a', 200), 'hex'), "
                   "decode(repeat('01', 12), 'hex'), 'k1', now());\n",
                   ids[0].str().c_str(), ids[1].str().c_str());
      std::fclose(f);
    }
    std::string out = bench::capture({"pgbench", "-h", "127.0.0.1", "-p", std::to_string(test::postgres_port()), "-U", "postgres", "-n", "-M", "prepared", "-c", "1",
                                      "-t", std::to_string(singles), "-f", script, strata_db.name});
    std::smatch tps;
    if (std::regex_search(out, tps, std::regex(R"(tps = ([0-9.]+))")))
      row("single insert vs pgbench -M prepared -c 1 (rows/s)", strata_single, std::stod(tps[1]), "    ");

    // ---- batch of 1000 -----------------------------------------------------
    auto batch_of = [&] {
      std::vector<sdk::Message> batch;
      for (int i = 0; i < 1000; ++i) batch.push_back(message(ids[i % users], ids[(i + 7) % users], sdk::Timestamp::now()));
      return batch;
    };
    const int batches = quick ? 10 : 50;
    auto start = Clock::now();
    for (int b = 0; b < batches; ++b) {
      auto batch = batch_of();
      auto data = postgres::encode_messages(batch);
      pg_exec(raw, "BEGIN");
      pg_exec(raw, postgres::copy_messages_sql);
      PQputCopyData(raw, data->data(), static_cast<int>(data->size()));
      PQputCopyEnd(raw, nullptr);
      PQclear(PQgetResult(raw));
      pg_exec(raw, "COMMIT");
    }
    double raw_batch = batches * 1000 / std::chrono::duration<double>(Clock::now() - start).count();
    start = Clock::now();
    for (int b = 0; b < batches; ++b) (void)storage->insert_messages(batch_of());
    double strata_batch = batches * 1000 / std::chrono::duration<double>(Clock::now() - start).count();
    row("batch of 1000 vs raw binary COPY (rows/s)", strata_batch, raw_batch, "    ");

    // ---- inbox ---------------------------------------------------------------
    const char* seed_inbox =
        "SELECT id, sender_id, recipient_id, encrypted_content, iv, created_at, expires_at, is_read, is_deleted "
        "FROM messages WHERE recipient_id = $1 AND is_deleted = false "
        "AND (expires_at IS NULL OR expires_at > now()) ORDER BY created_at DESC, id DESC LIMIT 50";
    PQclear(PQprepare(seed_raw, "seed_inbox", seed_inbox, 1, nullptr));
    std::vector<double> raw_ms, strata_ms;
    for (int i = 0; i < pages; ++i) {
      std::string who = ids[random() % users].str();
      const char* p[] = {who.c_str()};
      auto s = Clock::now();
      PQclear(PQexecPrepared(seed_raw, "seed_inbox", 1, p, nullptr, nullptr, 0));
      raw_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
    }
    for (int i = 0; i < pages; ++i) {
      auto who = ids[random() % users];
      auto s = Clock::now();
      auto page = storage->inbox(who, sdk::PageRequest{50, std::nullopt});
      strata_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
      if (!page) throw std::runtime_error(page.error().describe());
    }
    auto total = [](const std::vector<double>& v) { double t = 0; for (double x : v) t += x; return t; };
    std::string label = "inbox, 50 newest of " + std::to_string(rows / 1000) + "k, vs seed indexes (pages/s)";
    row(label.c_str(), pages / total(strata_ms) * 1000,
        pages / total(raw_ms) * 1000, "    ");
    std::printf("%-58s %9.3f ms %9.3f ms\n", "  inbox p50", percentile(strata_ms, 0.5), percentile(raw_ms, 0.5));
    std::printf("%-58s %9.3f ms %9.3f ms\n", "  inbox p99", percentile(strata_ms, 0.99), percentile(raw_ms, 0.99));
    PQfinish(raw);
    PQfinish(seed_raw);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_postgres: %s (tools/services.sh starts PostgreSQL)\n", e.what());
    return 1;
  }
  return 0;
}
