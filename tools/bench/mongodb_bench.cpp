// The mongodb audit plugin against raw mongo-c-driver inserts of the same
// documents, in the same run, on a scratch database.
//
//   append in batches of 100 and 1000 vs raw insert_many   (goal >= 0.9x)
//   single-event append latency p50/p99 vs a raw insert_one
//
// Usage: bench_mongodb [--quick] [--uri mongodb://HOST:PORT]   (default: the test server)

#include <mongoc/mongoc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "bench_host.hpp"
#include "test_servers.hpp"
#include "percentile.hpp"

namespace {

using namespace strata;
using Clock = std::chrono::steady_clock;

sdk::AuditEvent event() {
  sdk::AuditEvent e;
  e.id = sdk::Uuid::generate();
  e.timestamp = sdk::Timestamp::now();
  e.user_id = "user-" + e.id.str().substr(0, 4);
  e.ip = "10.1.2.3";
  e.action = "message.send";
  e.resource = "message:" + e.id.str();
  e.metadata = R"({"recipient":"bob","bytes":512,"client":{"app":"web","version":"1.4.2"}})";
  return e;
}

// The document the plugin writes, built directly with libbson.
bson_t* raw_document(const sdk::AuditEvent& e) {
  bson_t* doc = bson_new();
  bson_append_binary(doc, "_id", 3, BSON_SUBTYPE_UUID, e.id.bytes().data(), 16);
  BSON_APPEND_DATE_TIME(doc, "timestamp", e.timestamp.micros() / 1000);
  BSON_APPEND_UTF8(doc, "userId", e.user_id->c_str());
  BSON_APPEND_UTF8(doc, "ip", e.ip.c_str());
  BSON_APPEND_UTF8(doc, "action", e.action.c_str());
  BSON_APPEND_UTF8(doc, "resource", e.resource.c_str());
  BSON_APPEND_UTF8(doc, "status", "success");
  bson_error_t error;
  bson_t* metadata = bson_new_from_json(reinterpret_cast<const uint8_t*>(e.metadata.data()), -1, &error);
  BSON_APPEND_DOCUMENT(doc, "metadata", metadata);
  bson_destroy(metadata);
  return doc;
}

using bench::percentile;

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::string server = test::mongodb_uri();
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    if (std::strcmp(argv[i], "--uri") == 0 && i + 1 < argc) server = argv[++i];
  }
  const std::string db = "strata_bench_" + sdk::Uuid::generate().str().substr(0, 8);
  auto host = bench::open_or_die("[audit]\nplugin = \"mongodb\"\nuri = \"" + server + "/" + db + "\"\n");
  auto audit = host->audit();
  if (auto ok = audit->health(); !ok) {
    std::fprintf(stderr, "bench_mongodb: %s (tools/services.sh starts FerretDB)\n", ok.error().describe().c_str());
    return 1;
  }
  mongoc_client_t* client = mongoc_client_new((server + "/" + db).c_str());
  mongoc_collection_t* raw = mongoc_client_get_collection(client, db.c_str(), "raw_auditlogs");
  {
    // The same three indexes the plugin creates on auditlogs: index upkeep is part of both sides.
    bson_t* command = BCON_NEW("createIndexes", "raw_auditlogs", "indexes", "[",
                               "{", "name", "timestamp_-1", "key", "{", "timestamp", BCON_INT32(-1), "}", "}",
                               "{", "name", "userId_1_timestamp_-1", "key", "{", "userId", BCON_INT32(1), "timestamp",
                               BCON_INT32(-1), "}", "}",
                               "{", "name", "action_1_timestamp_-1", "key", "{", "action", BCON_INT32(1), "timestamp",
                               BCON_INT32(-1), "}", "}", "]");
    bson_error_t error;
    if (!mongoc_client_write_command_with_opts(client, db.c_str(), command, nullptr, nullptr, &error))
      std::fprintf(stderr, "creating the raw collection's indexes: %s\n", error.message);
    bson_destroy(command);
  }
  bson_t* opts = BCON_NEW("ordered", BCON_BOOL(false));
  mongoc_write_concern_t* wc = mongoc_write_concern_new();
  mongoc_write_concern_set_w(wc, 1);
  mongoc_write_concern_set_journal(wc, true);
  mongoc_write_concern_append(wc, opts);

  std::printf("%-46s %14s %14s %8s\n", "audit append (ratio: strata / raw driver)", "strata ev/s", "raw ev/s", "ratio");
  for (int batch : {100, 1000}) {
    const int events = quick ? 2'000 : 20'000;
    std::vector<std::vector<sdk::AuditEvent>> batches(static_cast<std::size_t>(events / batch));
    for (auto& b : batches)
      for (int i = 0; i < batch; ++i) b.push_back(event());
    auto start = Clock::now();
    for (auto& b : batches) {
      std::vector<bson_t*> docs;
      for (const auto& e : b) docs.push_back(raw_document(e));
      bson_error_t error;
      if (!mongoc_collection_insert_many(raw, const_cast<const bson_t**>(docs.data()), docs.size(), opts, nullptr, &error))
        std::fprintf(stderr, "raw insert_many: %s\n", error.message);
      for (auto* d : docs) bson_destroy(d);
    }
    double raw_rate = events / std::chrono::duration<double>(Clock::now() - start).count();
    for (auto& b : batches)
      for (auto& e : b) e.id = sdk::Uuid::generate();
    start = Clock::now();
    for (auto& b : batches)
      if (auto ok = audit->append(b); !ok) std::fprintf(stderr, "append: %s\n", ok.error().describe().c_str());
    double strata_rate = events / std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("%-46s %14.0f %14.0f %7.2fx\n", ("batches of " + std::to_string(batch)).c_str(), strata_rate, raw_rate,
                strata_rate / raw_rate);
  }

  const int singles = quick ? 300 : 2000;
  std::vector<double> raw_ms, strata_ms;
  for (int i = 0; i < singles; ++i) {
    bson_t* doc = raw_document(event());
    bson_error_t error;
    auto start = Clock::now();
    mongoc_collection_insert_one(raw, doc, opts, nullptr, &error);
    raw_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    bson_destroy(doc);
  }
  for (int i = 0; i < singles; ++i) {
    std::vector<sdk::AuditEvent> one{event()};
    auto start = Clock::now();
    (void)audit->append(one);
    strata_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::printf("%-46s %11.3f ms %11.3f ms\n", "single event p50 (strata, raw insert_one)", percentile(strata_ms, 0.5),
              percentile(raw_ms, 0.5));
  std::printf("%-46s %11.3f ms %11.3f ms\n", "single event p99", percentile(strata_ms, 0.99), percentile(raw_ms, 0.99));

  mongoc_database_t* database = mongoc_client_get_database(client, db.c_str());
  bson_error_t error;
  mongoc_database_drop(database, &error);
  mongoc_database_destroy(database);
  mongoc_write_concern_destroy(wc);
  bson_destroy(opts);
  mongoc_collection_destroy(raw);
  mongoc_client_destroy(client);
  return 0;
}
