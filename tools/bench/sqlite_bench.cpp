// The sqlite plugin against a raw sqlite3 C API loop doing the same
// statements with the same pragmas (WAL, synchronous=FULL, foreign keys), in
// the same run, on separate files: single insert, batch of 100 in one
// transaction, inbox page at 100k messages (goal >= 0.9x each).
//
// Usage: bench_sqlite [--quick]

#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

#include "bench_host.hpp"

namespace {

using namespace strata;
using Clock = std::chrono::steady_clock;

const char* insert_sql =
    "INSERT INTO messages (id, sender_id, recipient_id, encrypted_content, iv, key_id, created_at, read_at, is_deleted, "
    "expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
const char* inbox_sql =
    "SELECT id, sender_id, recipient_id, encrypted_content, iv, key_id, created_at, read_at, is_deleted, expires_at "
    "FROM messages WHERE recipient_id = ?1 AND is_deleted = 0 AND (expires_at IS NULL OR expires_at > ?2) "
    "AND (created_at, id) < (?3, ?4) ORDER BY created_at DESC, id DESC LIMIT ?5";

sdk::Message message(const sdk::Uuid& from, const sdk::Uuid& to, sdk::Timestamp at) {
  sdk::Message m;
  m.id = sdk::Uuid::generate();
  m.sender_id = from;
  m.recipient_id = to;
  m.encrypted_content = sdk::Bytes(200, 0x5a);
  m.iv = sdk::Bytes(12, 0x01);
  m.key_id = "k1";
  m.created_at = at;
  return m;
}

// The raw side: one prepared INSERT, bound and stepped per row.
struct Raw {
  sqlite3* db = nullptr;
  sqlite3_stmt* insert = nullptr;
  sqlite3_stmt* inbox = nullptr;
  explicit Raw(const std::string& path) {
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = full;", nullptr, nullptr,
                 nullptr);
  }
  void prepare() {
    sqlite3_prepare_v3(db, insert_sql, -1, SQLITE_PREPARE_PERSISTENT, &insert, nullptr);
    sqlite3_prepare_v3(db, inbox_sql, -1, SQLITE_PREPARE_PERSISTENT, &inbox, nullptr);
  }
  ~Raw() {
    sqlite3_finalize(insert);
    sqlite3_finalize(inbox);
    sqlite3_close(db);
  }
  void add(const sdk::Message& m) {
    std::string id = m.id.str(), from = m.sender_id.str(), to = m.recipient_id.str();
    sqlite3_bind_text(insert, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 2, from.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 3, to.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(insert, 4, m.encrypted_content.data(), static_cast<int>(m.encrypted_content.size()), SQLITE_TRANSIENT);
    sqlite3_bind_blob(insert, 5, m.iv.data(), static_cast<int>(m.iv.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 6, m.key_id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(insert, 7, m.created_at.micros());
    sqlite3_bind_null(insert, 8);
    sqlite3_bind_int64(insert, 9, 0);
    sqlite3_bind_null(insert, 10);
    if (sqlite3_step(insert) != SQLITE_DONE) std::fprintf(stderr, "raw insert: %s\n", sqlite3_errmsg(db));
    sqlite3_reset(insert);
  }
  std::size_t page(const sdk::Uuid& recipient) {
    std::string who = recipient.str();
    sqlite3_bind_text(inbox, 1, who.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(inbox, 2, sdk::Timestamp::now().micros());
    sqlite3_bind_int64(inbox, 3, INT64_MAX);
    sqlite3_bind_text(inbox, 4, "ffffffff-ffff-ffff-ffff-ffffffffffff", -1, SQLITE_STATIC);
    sqlite3_bind_int64(inbox, 5, 51);
    std::size_t rows = 0;
    while (sqlite3_step(inbox) == SQLITE_ROW) {
      // Read every column, as the plugin does, so both sides copy the page.
      for (int c = 0; c < 10; ++c) {
        sdk::Bytes copy(static_cast<const std::uint8_t*>(sqlite3_column_blob(inbox, c)),
                        static_cast<const std::uint8_t*>(sqlite3_column_blob(inbox, c)) + sqlite3_column_bytes(inbox, c));
        (void)copy;
      }
      ++rows;
    }
    sqlite3_reset(inbox);
    return rows;
  }
};

double rate(int n, Clock::time_point start) { return n / std::chrono::duration<double>(Clock::now() - start).count(); }

}  // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const int users = 100, rows = quick ? 20'000 : 100'000, singles = quick ? 200 : 1000, batches = quick ? 20 : 100,
            pages = quick ? 500 : 5000;
  auto dir = std::filesystem::temp_directory_path() / ("strata-bench-sqlite-" + sdk::Uuid::generate().str());
  std::filesystem::create_directories(dir);
  auto host = bench::open_or_die("[storage]\nplugin = \"sqlite\"\npath = \"" + (dir / "strata.db").string() + "\"\n");
  auto storage = host->storage();
  // The raw file gets the same schema through a second plugin instance, then is used directly.
  { bench::open_or_die("[storage]\nplugin = \"sqlite\"\npath = \"" + (dir / "raw.db").string() + "\"\n"); }
  Raw raw((dir / "raw.db").string());

  std::vector<sdk::Uuid> ids;
  for (int i = 0; i < users; ++i) {
    sdk::User u{sdk::Uuid::generate(), "u" + std::to_string(i), "u" + std::to_string(i) + "@b.test", "h",
                sdk::Timestamp::now(), sdk::Timestamp::now(), std::nullopt, true};
    (void)storage->create_user(u);
    std::string sql = "INSERT INTO users (id, username, email, password_hash, created_at, updated_at) VALUES ('" +
                      u.id.str() + "', '" + u.username + "', '" + u.email + "', 'h', 0, 0)";
    sqlite3_exec(raw.db, sql.c_str(), nullptr, nullptr, nullptr);
    ids.push_back(u.id);
  }
  raw.prepare();
  std::mt19937 random(7);
  auto t0 = sdk::Timestamp::now() - std::chrono::hours(24 * 30);
  for (int done = 0; done < rows; done += 1000) {  // both files get the same rows
    std::vector<sdk::Message> batch;
    for (int i = 0; i < 1000; ++i)
      batch.push_back(message(ids[random() % users], ids[random() % users], t0 + std::chrono::seconds(done + i)));
    (void)storage->insert_messages(batch);
    sqlite3_exec(raw.db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    for (const auto& m : batch) raw.add(m);
    sqlite3_exec(raw.db, "COMMIT", nullptr, nullptr, nullptr);
  }

  std::printf("%-44s %12s %12s %8s\n", "(ratio: strata / raw sqlite3)", "strata", "raw", "ratio");
  auto row = [](const char* what, double s, double r) { std::printf("%-44s %12.0f %12.0f %7.2fx\n", what, s, r, s / r); };

  auto start = Clock::now();
  for (int i = 0; i < singles; ++i) raw.add(message(ids[i % users], ids[(i + 1) % users], sdk::Timestamp::now()));
  double raw_single = rate(singles, start);
  start = Clock::now();
  for (int i = 0; i < singles; ++i)
    (void)storage->insert_message(message(ids[i % users], ids[(i + 1) % users], sdk::Timestamp::now()));
  row("single insert, autocommit (rows/s)", rate(singles, start), raw_single);

  auto batch_of = [&] {
    std::vector<sdk::Message> batch;
    for (int i = 0; i < 100; ++i) batch.push_back(message(ids[i % users], ids[(i + 3) % users], sdk::Timestamp::now()));
    return batch;
  };
  start = Clock::now();
  for (int b = 0; b < batches; ++b) {
    auto batch = batch_of();
    sqlite3_exec(raw.db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    for (const auto& m : batch) raw.add(m);
    sqlite3_exec(raw.db, "COMMIT", nullptr, nullptr, nullptr);
  }
  double raw_batch = rate(batches * 100, start);
  start = Clock::now();
  for (int b = 0; b < batches; ++b) (void)storage->insert_messages(batch_of());
  row("batch of 100 in one transaction (rows/s)", rate(batches * 100, start), raw_batch);

  start = Clock::now();
  for (int i = 0; i < pages; ++i) raw.page(ids[random() % users]);
  double raw_pages = rate(pages, start);
  start = Clock::now();
  for (int i = 0; i < pages; ++i) (void)storage->inbox(ids[random() % users], sdk::PageRequest{50, std::nullopt});
  std::string label = "inbox, 50 newest of " + std::to_string(rows / 1000) + "k (pages/s)";
  row(label.c_str(), rate(pages, start), raw_pages);

  host.reset();
  std::filesystem::remove_all(dir);
  return 0;
}
