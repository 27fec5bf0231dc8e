// The mongodb plugin against a real MongoDB wire-protocol server: the seed's
// document shapes, validation before the server, expiry, stop and restart.

#include <strata/sdk/testing/audit_kit.hpp>

#include "mongo_db.hpp"
#include "own_ferretdb.hpp"
#include "process.hpp"
#include "test_host.hpp"

using namespace strata;
using namespace std::chrono_literals;

namespace {

using Document = std::unique_ptr<bson_t, decltype(&bson_destroy)>;

// The raw documents of a collection, read with the driver.
std::vector<Document> raw_documents(const test::TempMongoDatabase& db, const std::string& collection_name) {
  mongoc_client_t* client = mongoc_client_new(db.uri().c_str());
  mongoc_collection_t* collection = mongoc_client_get_collection(client, db.name().c_str(), collection_name.c_str());
  bson_t* filter = bson_new();
  mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(collection, filter, nullptr, nullptr);
  std::vector<Document> out;
  const bson_t* doc;
  while (mongoc_cursor_next(cursor, &doc)) out.emplace_back(bson_copy(doc), &bson_destroy);
  mongoc_cursor_destroy(cursor);
  bson_destroy(filter);
  mongoc_collection_destroy(collection);
  mongoc_client_destroy(client);
  return out;
}

// "field:type" for every field of a document, in order.
std::string shape(const bson_t* doc) {
  std::string out;
  bson_iter_t it;
  bson_iter_init(&it, doc);
  while (bson_iter_next(&it)) {
    if (!out.empty()) out += ",";
    out += std::string(bson_iter_key(&it)) + ":";
    switch (bson_iter_type(&it)) {
      case BSON_TYPE_UTF8: out += "string"; break;
      case BSON_TYPE_DATE_TIME: out += "date"; break;
      case BSON_TYPE_DOCUMENT: out += "object"; break;
      case BSON_TYPE_DOUBLE: out += "double"; break;
      case BSON_TYPE_NULL: out += "null"; break;
      case BSON_TYPE_BINARY: out += "binary"; break;
      case BSON_TYPE_INT64: out += "long"; break;
      case BSON_TYPE_INT32: out += "int"; break;
      case BSON_TYPE_OID: out += "objectid"; break;
      default: out += std::to_string(bson_iter_type(&it));
    }
  }
  return out;
}


}  // namespace

TEST_CASE("mongodb: documents have the seed's mongoose shapes", "[mongodb][seed]") {
  test::TempMongoDatabase db;
  auto host = test::open_host(db.table("[audit]") + db.table("[cache.default]"));
  auto event = sdk::testing::make_event(sdk::testing::now_ms(), "user.login", "u-1", sdk::AuditStatus::failure);
  event.metadata = R"({"reason":"wrong password","attempt":{"n":3,"of":[1,2,3]}})";
  auto anonymous = sdk::testing::make_event(sdk::testing::now_ms(), "user.register", std::nullopt);
  REQUIRE(host->audit()->append(std::vector{event, anonymous}));
  REQUIRE(host->audit()->append_metrics(std::vector{sdk::Metric{sdk::Timestamp::now(), "calls", 2.5, {{"role", "storage"}}}}));
  REQUIRE(host->cache()->set("k", sdk::as_bytes("v"), 60s));

  auto events = raw_documents(db, "auditlogs");
  REQUIRE(events.size() == 2);
  for (const auto& doc : events) {
    std::string s = shape(doc.get());
    INFO(s);
    // _id an ObjectId (mongoose's type); an anonymous event has no userId, as mongoose writes it.
    CHECK((s == "_id:objectid,timestamp:date,userId:string,ip:string,action:string,resource:string,status:string,"
                "metadata:object,eventId:binary" ||
           s == "_id:objectid,timestamp:date,ip:string,action:string,resource:string,status:string,"
                "metadata:object,eventId:binary"));
    bson_iter_t it;
    REQUIRE(bson_iter_init_find(&it, doc.get(), "status"));
    std::string status = bson_iter_utf8(&it, nullptr);
    CHECK((status == "success" || status == "failure"));
  }
  auto metrics = raw_documents(db, "metrics");
  REQUIRE(metrics.size() == 1);
  CHECK(shape(metrics[0].get()) == "_id:objectid,timestamp:date,name:string,value:double,labels:object");
  auto caches = raw_documents(db, "caches");
  REQUIRE(caches.size() == 1);
  CHECK(shape(caches[0].get()).starts_with("_id:objectid,"));
  CHECK(shape(caches[0].get()).find("key:string") != std::string::npos);
  CHECK(shape(caches[0].get()).find("expiresAt:date") != std::string::npos);
  CHECK(shape(caches[0].get()).find("createdAt:date") != std::string::npos);
}

TEST_CASE("mongodb: documents mongoose wrote (ObjectId _id, __v, no eventId) read back, and a retried event is not doubled",
          "[mongodb][seed]") {
  test::TempMongoDatabase db;
  auto host = test::open_host(db.table("[audit]"));
  // What `new AuditLog({...}).save()` stores.
  mongoc_client_t* client = mongoc_client_new(db.uri().c_str());
  mongoc_collection_t* logs = mongoc_client_get_collection(client, db.name().c_str(), "auditlogs");
  bson_oid_t oid;
  bson_oid_init(&oid, nullptr);
  bson_t* doc = BCON_NEW("_id", BCON_OID(&oid), "timestamp", BCON_DATE_TIME(1'764'460'800'000), "userId", "seed-user",
                         "ip", "10.0.0.7", "action", "login", "resource", "session", "status", "success", "metadata",
                         "{", "agent", "node", "}", "__v", BCON_INT32(0));
  bson_error_t error;
  REQUIRE(mongoc_collection_insert_one(logs, doc, nullptr, nullptr, &error));
  bson_destroy(doc);
  mongoc_collection_destroy(logs);
  mongoc_client_destroy(client);

  auto events = host->audit()->query(sdk::AuditQuery{});
  REQUIRE(events);
  REQUIRE(events->size() == 1);
  const auto& e = events->front();
  CHECK(e.user_id == "seed-user");
  CHECK(e.ip == "10.0.0.7");
  CHECK(e.action == "login");
  CHECK(e.timestamp == sdk::Timestamp::from_micros(1'764'460'800'000'000));
  CHECK(e.metadata == R"({ "agent" : "node" })");
  CHECK(host->audit()->query(sdk::AuditQuery{})->front().id == e.id);  // stable

  // The same event appended twice (a retry, a spool replay) is one document: its _id derives from it.
  auto event = sdk::testing::make_event(sdk::testing::now_ms(), "user.login", "u-1");
  REQUIRE(host->audit()->append(std::vector{event}));
  REQUIRE(host->audit()->append(std::vector{event}));
  CHECK(raw_documents(db, "auditlogs").size() == 2);
  CHECK(host->audit()->count(sdk::AuditQuery{}).value_or(0) == 2);
}

TEST_CASE("mongodb: bad events are refused before they reach the server", "[mongodb][validation]") {
  test::TempMongoDatabase db;
  auto host = test::open_host(db.table("[audit]"));
  auto bad_json = sdk::testing::make_event(sdk::testing::now_ms(), "x", "u");
  bad_json.metadata = "{not json";
  auto refused = host->audit()->append(std::vector{bad_json});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == sdk::ErrorCode::invalid_argument);
  CHECK(refused.error().message.find("metadata is not a JSON object") != std::string::npos);
  auto array = sdk::testing::make_event(sdk::testing::now_ms(), "x", "u");
  array.metadata = "[1,2]";
  CHECK_FALSE(host->audit()->append(std::vector{array}));
  CHECK(raw_documents(db, "auditlogs").empty());
}

TEST_CASE("mongodb: a cache entry past expiresAt reads as missing before the server deletes it", "[mongodb][cache]") {
  test::TempMongoDatabase db;
  auto host = test::open_host(db.table("[cache.default]"));
  auto cache = host->cache();
  REQUIRE(cache->set("soon", sdk::as_bytes("v"), 200ms));
  std::this_thread::sleep_for(300ms);
  CHECK_FALSE(cache->get("soon")->has_value());
  CHECK(raw_documents(db, "caches").size() == 1);  // still stored: only the read hides it
  CHECK(cache->set_if_absent("soon", sdk::as_bytes("again"), 60s).value());
}

TEST_CASE("mongodb: a stopped server fails calls with unavailable, and they recover when it returns", "[mongodb][fault]") {
  test::OwnFerretDb server;
  test::TempMongoDatabase db(server.port());
  auto host = test::open_host(db.table("[audit]", "server_selection_timeout_ms = 500\n") +
                              db.table("[cache.default]", "server_selection_timeout_ms = 500\n"));
  auto event = sdk::testing::make_event(sdk::testing::now_ms(), "before", "u");
  REQUIRE(host->audit()->append(std::vector{event}));
  REQUIRE(host->cache()->set("k", sdk::as_bytes("v"), 60s));

  server.stop();
  auto start = std::chrono::steady_clock::now();
  auto appended = host->audit()->append(std::vector{sdk::testing::make_event(sdk::testing::now_ms(), "during", "u")});
  auto cached = host->cache()->get("k");
  REQUIRE_FALSE(appended);
  REQUIRE_FALSE(cached);
  INFO(appended.error().describe());
  CHECK(appended.error().code == sdk::ErrorCode::unavailable);
  CHECK(cached.error().code == sdk::ErrorCode::unavailable);
  CHECK(std::chrono::steady_clock::now() - start < 10s);  // a hang guard, far above the 0.5 s selection timeout

  server.start();
  CHECK(test::wait_until([&] { return host->audit()->health().has_value(); }, 15s));
  CHECK(host->audit()->append(std::vector{sdk::testing::make_event(sdk::testing::now_ms(), "after", "u")}));
  CHECK(host->audit()->count(sdk::AuditQuery{}).value() == 2);
  CHECK(host->cache()->get("k").value() == sdk::to_bytes("v"));
}

TEST_CASE("mongodb: a second process on an existing database finds its indexes in place", "[mongodb]") {
  // FerretDB 1.24 drops the connection when createIndexes lists several
  // indexes that all exist; the plugin creates only the missing ones.
  test::TempMongoDatabase db;
  for (int process = 0; process < 3; ++process) {
    auto host = test::open_host(db.table("[audit]") + db.table("[cache.default]"));
    INFO("host " << process);
    REQUIRE(host->audit()->append(std::vector{sdk::testing::make_event(sdk::testing::now_ms(), "run", "u")}));
    REQUIRE(host->audit()->append_metrics(std::vector{sdk::Metric{sdk::Timestamp::now(), "m", 1, {}}}));
    REQUIRE(host->cache()->set("k" + std::to_string(process), sdk::as_bytes("v"), 60s));
  }
  auto host = test::open_host(db.table("[audit]"));
  CHECK(host->audit()->count(sdk::AuditQuery{}).value() == 3);
}

TEST_CASE("mongodb: both roles name their database for the host's call metrics, without credentials",
          "[mongodb][metrics]") {
  test::TempMongoDatabase db;
  auto host = test::open_host(db.table("[audit]") + db.table("[cache.default]"));
  for (auto info : {host->audit()->database_info(), host->cache()->database_info()}) {
    REQUIRE(info);
    CHECK(info->system == "mongodb");
    CHECK(info->namespace_name == db.name());
    CHECK(info->server_address == "127.0.0.1");
    CHECK(info->server_port == test::mongodb_port());
  }
  REQUIRE(host->audit()->health());
  // The host labels the calls with it: db_client_operation_duration_seconds.
  CHECK(host->metrics()->prometheus().find("db_client_operation_duration_seconds_count{db_namespace=\"" + db.name() +
                                           "\",db_operation_name=\"health\",db_system_name=\"mongodb\"") !=
        std::string::npos);
}
