#include "mongodb_audit.hpp"

#include "mongodb_backup.hpp"

namespace strata::mongodb {
namespace {

using sdk::ConfigType;
using sdk::ErrorCode;
using sdk::fail;

void append_uuid(bson_t* doc, const char* key, const sdk::Uuid& id) {
  bson_append_binary(doc, key, -1, BSON_SUBTYPE_UUID, id.bytes().data(), 16);
}

// The document's _id is an ObjectId, as the seed's mongoose AuditLog model
// expects. It is derived from the event rather than drawn at insert time, so
// every attempt to append one event (a retried batch, the spool replayed after
// a crash) names the same document and a duplicate is refused by the server:
// the event's time in seconds (an ObjectId's first 4 bytes), then the event
// id's 16 bytes folded to 8 (a v4 UUID's random bits).
bson_oid_t object_id_for(const sdk::AuditEvent& e) {
  std::uint8_t raw[12];
  auto seconds = static_cast<std::uint32_t>(e.timestamp.micros() / 1'000'000);
  for (int i = 0; i < 4; ++i) raw[i] = static_cast<std::uint8_t>(seconds >> (24 - 8 * i));
  const auto& id = e.id.bytes();
  for (int i = 0; i < 8; ++i) raw[4 + i] = static_cast<std::uint8_t>(id[i] ^ id[8 + i]);
  bson_oid_t oid;
  bson_oid_init_from_data(&oid, raw);
  return oid;
}

// An event written by another client (mongoose) has no eventId: its id is
// its ObjectId's 12 bytes followed by zeros, stable across reads.
sdk::Uuid uuid_from(const bson_oid_t& oid) {
  std::array<std::uint8_t, 16> bytes{};
  std::copy(oid.bytes, oid.bytes + 12, bytes.begin());
  return sdk::Uuid(bytes);
}

sdk::Result<Bson> event_document(const sdk::AuditEvent& e) {
  if (auto ok = sdk::validate(e); !ok) return sdk::fail(ok.error());
  // libbson would take a JSON array as a document: the seed's metadata is an object.
  auto first = e.metadata.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || e.metadata[first] != '{')
    return fail(ErrorCode::invalid_argument, "audit event " + e.id.str() + " metadata is not a JSON object");
  bson_error_t error;
  auto metadata = owned(bson_new_from_json(reinterpret_cast<const uint8_t*>(e.metadata.data()),
                                           static_cast<ssize_t>(e.metadata.size()), &error));
  if (!metadata)
    return fail(ErrorCode::invalid_argument,
                "audit event " + e.id.str() + " metadata is not a JSON object: " + error.message);
  auto doc = owned(bson_new());
  auto oid = object_id_for(e);
  BSON_APPEND_OID(doc.get(), "_id", &oid);
  BSON_APPEND_DATE_TIME(doc.get(), "timestamp", to_ms(e.timestamp));
  // Like mongoose, an anonymous event has no userId at all.
  if (e.user_id) bson_append_utf8(doc.get(), "userId", -1, e.user_id->data(), static_cast<int>(e.user_id->size()));
  bson_append_utf8(doc.get(), "ip", -1, e.ip.data(), static_cast<int>(e.ip.size()));
  bson_append_utf8(doc.get(), "action", -1, e.action.data(), static_cast<int>(e.action.size()));
  bson_append_utf8(doc.get(), "resource", -1, e.resource.data(), static_cast<int>(e.resource.size()));
  BSON_APPEND_UTF8(doc.get(), "status", std::string(sdk::to_string(e.status)).c_str());
  BSON_APPEND_DOCUMENT(doc.get(), "metadata", metadata.get());
  append_uuid(doc.get(), "eventId", e.id);  // Strata's own field: the schema has none for it
  return doc;
}

std::string utf8(const bson_iter_t& it) {
  uint32_t length = 0;
  const char* text = bson_iter_utf8(&it, &length);
  return std::string(text, length);
}

sdk::AuditEvent event_from(const bson_t* doc) {
  sdk::AuditEvent e;
  bson_iter_t it;
  bson_iter_init(&it, doc);
  bool have_event_id = false;
  while (bson_iter_next(&it)) {
    std::string_view key = bson_iter_key(&it);
    if (key == "_id" && BSON_ITER_HOLDS_OID(&it)) {
      if (!have_event_id) e.id = uuid_from(*bson_iter_oid(&it));
    } else if (key == "eventId" && BSON_ITER_HOLDS_BINARY(&it)) {
      bson_subtype_t subtype;
      uint32_t length;
      const uint8_t* data;
      bson_iter_binary(&it, &subtype, &length, &data);
      std::array<std::uint8_t, 16> bytes{};
      if (length == 16) std::copy(data, data + 16, bytes.begin());
      e.id = sdk::Uuid(bytes);
      have_event_id = true;
    } else if (key == "timestamp" && BSON_ITER_HOLDS_DATE_TIME(&it)) {
      e.timestamp = from_ms(bson_iter_date_time(&it));
    } else if (key == "userId" && BSON_ITER_HOLDS_UTF8(&it)) {
      e.user_id = utf8(it);
    } else if (key == "ip" && BSON_ITER_HOLDS_UTF8(&it)) {
      e.ip = utf8(it);
    } else if (key == "action" && BSON_ITER_HOLDS_UTF8(&it)) {
      e.action = utf8(it);
    } else if (key == "resource" && BSON_ITER_HOLDS_UTF8(&it)) {
      e.resource = utf8(it);
    } else if (key == "status" && BSON_ITER_HOLDS_UTF8(&it)) {
      e.status = utf8(it) == "failure" ? sdk::AuditStatus::failure : sdk::AuditStatus::success;
    } else if (key == "metadata" && BSON_ITER_HOLDS_DOCUMENT(&it)) {
      uint32_t length;
      const uint8_t* data;
      bson_iter_document(&it, &length, &data);
      bson_t metadata;
      bson_init_static(&metadata, data, length);
      char* json = bson_as_relaxed_extended_json(&metadata, nullptr);
      e.metadata = json;
      bson_free(json);
    }
  }
  return e;
}

sdk::Metric metric_from(const bson_t* doc) {
  sdk::Metric m;
  bson_iter_t it;
  bson_iter_init(&it, doc);
  while (bson_iter_next(&it)) {
    std::string_view key = bson_iter_key(&it);
    if (key == "timestamp" && BSON_ITER_HOLDS_DATE_TIME(&it)) m.timestamp = from_ms(bson_iter_date_time(&it));
    else if (key == "name" && BSON_ITER_HOLDS_UTF8(&it)) m.name = utf8(it);
    else if (key == "value" && BSON_ITER_HOLDS_NUMBER(&it)) m.value = bson_iter_as_double(&it);
    else if (key == "labels" && BSON_ITER_HOLDS_DOCUMENT(&it)) {
      bson_iter_t labels;
      bson_iter_recurse(&it, &labels);
      while (bson_iter_next(&labels))
        if (BSON_ITER_HOLDS_UTF8(&labels)) m.labels[bson_iter_key(&labels)] = utf8(labels);
    }
  }
  return m;
}

// timestamp: {$gte: from, $lt: to}, for whichever bounds are given.
void append_time_range(bson_t* filter, const std::optional<sdk::Timestamp>& from,
                       const std::optional<sdk::Timestamp>& to) {
  if (!from && !to) return;
  bson_t range;
  BSON_APPEND_DOCUMENT_BEGIN(filter, "timestamp", &range);
  if (from) BSON_APPEND_DATE_TIME(&range, "$gte", to_ms(*from));
  if (to) BSON_APPEND_DATE_TIME(&range, "$lt", to_ms(*to));
  bson_append_document_end(filter, &range);
}

// The filter for an audit query: time range, user, action, status.
Bson event_filter(const sdk::AuditQuery& q) {
  auto filter = owned(bson_new());
  append_time_range(filter.get(), q.from, q.to);
  if (q.user_id) bson_append_utf8(filter.get(), "userId", -1, q.user_id->data(), static_cast<int>(q.user_id->size()));
  if (q.action) bson_append_utf8(filter.get(), "action", -1, q.action->data(), static_cast<int>(q.action->size()));
  if (q.status) BSON_APPEND_UTF8(filter.get(), "status", std::string(sdk::to_string(*q.status)).c_str());
  return filter;
}

// An unordered insert_many that fails only with duplicate keys has stored
// everything that was new: a retried batch.
bool only_duplicates(const bson_t& reply) {
  bson_iter_t it, errors;
  if (!bson_iter_init_find(&it, &reply, "writeErrors") || !BSON_ITER_HOLDS_ARRAY(&it)) return false;
  bson_iter_recurse(&it, &errors);
  bool any = false;
  while (bson_iter_next(&errors)) {
    bson_iter_t code;
    if (!bson_iter_recurse(&errors, &code) || !bson_iter_find(&code, "code") || bson_iter_as_int64(&code) != 11000)
      return false;
    any = true;
  }
  bson_iter_t concern;
  if (bson_iter_init_find(&concern, &reply, "writeConcernErrors")) {
    bson_iter_t list;
    bson_iter_recurse(&concern, &list);
    if (bson_iter_next(&list)) return false;
  }
  return any;
}

// Newest first; ties by `tie_break` descending (events: their id, as the SDK's contract says).
template <class Item, class Decode>
sdk::Result<std::vector<Item>> find(Client& client, const std::string& name, const bson_t* filter, std::size_t limit,
                                    const char* tie_break, Decode decode) {
  auto lease = client.lease();
  auto collection = client.collection(lease, name);
  auto opts = owned(BCON_NEW("sort", "{", "timestamp", BCON_INT32(-1), tie_break, BCON_INT32(-1), "}", "limit",
                             BCON_INT64(static_cast<int64_t>(limit))));
  auto cursor = std::unique_ptr<mongoc_cursor_t, decltype(&mongoc_cursor_destroy)>(
      mongoc_collection_find_with_opts(collection.get(), filter, opts.get(), nullptr), &mongoc_cursor_destroy);
  std::vector<Item> out;
  const bson_t* doc;
  while (mongoc_cursor_next(cursor.get(), &doc)) out.push_back(decode(doc));
  bson_error_t error;
  if (mongoc_cursor_error(cursor.get(), &error)) return sdk::fail(classify(error, "querying " + name));
  return out;
}

}  // namespace

MongoAudit::MongoAudit(const sdk::PluginContext& context)
    : client_(read_connection(context.config), context.log),
      events_(context.config.get<std::string>("collections.audit")),
      metrics_(context.config.get<std::string>("collections.metrics")) {
  if (auto days = context.config.find<std::int64_t>("retention_days")) {
    if (*days < 1) throw sdk::Error{ErrorCode::invalid_argument, "retention_days must be at least 1", {}, false};
    retention_days_ = days;
  }
}

sdk::Result<std::string> MongoAudit::sink_identity() { return client_.destination() + "/" + events_; }

sdk::ConfigSchema MongoAudit::config_schema() {
  auto schema = connection_schema();
  schema.push_back(sdk::field("collections.audit", ConfigType::string, "events (the seed's AuditLog model)")
                       .or_default("auditlogs"));
  schema.push_back(sdk::field("collections.metrics", ConfigType::string, "metric samples (the seed's Metric model)")
                       .or_default("metrics"));
  schema.push_back(sdk::field("retention_days", ConfigType::integer,
                              "delete events and metrics older than this (TTL index); absent: keep forever"));
  return schema;
}

sdk::Result<void> MongoAudit::ensure_indexes() {
  std::string retention;
  if (retention_days_)
    retention = R"({"name": "retention_ttl", "key": {"timestamp": 1}, "expireAfterSeconds": )" +
                std::to_string(*retention_days_ * 86400) + "}";
  if (auto ok = client_.ensure_indexes("audit", events_, retention); !ok) return ok;
  return client_.ensure_indexes("metrics", metrics_, retention);
}

sdk::Result<void> MongoAudit::health() {
  if (auto ok = client_.ping(); !ok) return ok;
  return ensure_indexes();
}

sdk::Result<void> MongoAudit::insert(const std::string& name, std::vector<Bson>& documents, bool ignore_duplicates) {
  if (documents.empty()) return {};
  if (auto ok = ensure_indexes(); !ok) return ok;
  std::vector<const bson_t*> pointers;
  for (const auto& d : documents) pointers.push_back(d.get());
  auto opts = owned(BCON_NEW("ordered", BCON_BOOL(false)));
  client_.add_write_concern(opts.get());
  auto lease = client_.lease();
  auto collection = client_.collection(lease, name);
  bson_t reply;
  bson_error_t error;
  bool ok = mongoc_collection_insert_many(collection.get(), pointers.data(), pointers.size(), opts.get(), &reply, &error);
  bool retried_batch = !ok && ignore_duplicates && only_duplicates(reply);
  bson_destroy(&reply);
  if (!ok && !retried_batch) return sdk::fail(classify(error, "appending to " + name));
  return {};
}

sdk::Result<void> MongoAudit::append(std::span<const sdk::AuditEvent> events) {
  std::vector<Bson> documents;
  for (const auto& e : events) {  // validate all before sending any: a bad batch stores nothing
    auto doc = event_document(e);
    if (!doc) return sdk::fail(doc.error());
    documents.push_back(std::move(*doc));
  }
  return insert(events_, documents, true);
}

sdk::Result<void> MongoAudit::append_metrics(std::span<const sdk::Metric> metrics) {
  std::vector<Bson> documents;
  for (const auto& m : metrics) {
    if (m.name.empty()) return fail(ErrorCode::invalid_argument, "a metric needs a name");
    auto doc = owned(bson_new());
    BSON_APPEND_DATE_TIME(doc.get(), "timestamp", to_ms(m.timestamp));
    bson_append_utf8(doc.get(), "name", -1, m.name.data(), static_cast<int>(m.name.size()));
    BSON_APPEND_DOUBLE(doc.get(), "value", m.value);
    bson_t labels;
    BSON_APPEND_DOCUMENT_BEGIN(doc.get(), "labels", &labels);
    for (const auto& [k, v] : m.labels)
      bson_append_utf8(&labels, k.data(), static_cast<int>(k.size()), v.data(), static_cast<int>(v.size()));
    bson_append_document_end(doc.get(), &labels);
    documents.push_back(std::move(doc));
  }
  return insert(metrics_, documents, false);
}

sdk::Result<std::vector<sdk::AuditEvent>> MongoAudit::query(const sdk::AuditQuery& q) {
  auto filter = event_filter(q);
  return find<sdk::AuditEvent>(client_, events_, filter.get(), q.limit, "eventId", event_from);
}

sdk::Result<std::uint64_t> MongoAudit::count(const sdk::AuditQuery& q) {
  auto filter = event_filter(q);
  auto lease = client_.lease();
  auto collection = client_.collection(lease, events_);
  bson_error_t error;
  int64_t n = mongoc_collection_count_documents(collection.get(), filter.get(), nullptr, nullptr, nullptr, &error);
  if (n < 0) return sdk::fail(classify(error, "counting " + events_));
  return static_cast<std::uint64_t>(n);
}

sdk::Result<std::vector<sdk::Metric>> MongoAudit::query_metrics(const sdk::MetricQuery& q) {
  auto filter = owned(bson_new());
  if (q.name) bson_append_utf8(filter.get(), "name", -1, q.name->data(), static_cast<int>(q.name->size()));
  append_time_range(filter.get(), q.from, q.to);
  return find<sdk::Metric>(client_, metrics_, filter.get(), q.limit, "_id", metric_from);
}

// ---- backup (SDK 1.2) --------------------------------------------------------

sdk::Result<sdk::BackupReport> MongoAudit::backup(const std::filesystem::path& dir) {
  sdk::BackupReport report;
  for (const auto& name : {events_, metrics_}) {
    auto n = dump_collection(client_, name, dir, report.files);
    if (!n) return sdk::fail(n.error());
    report.counts[name] = *n;
  }
  return report;
}

sdk::Result<sdk::BackupReport> MongoAudit::restore(const std::filesystem::path& dir) {
  sdk::BackupReport report;
  for (const auto& name : {events_, metrics_}) {
    auto n = restore_collection(client_, name, dir);
    if (!n) return sdk::fail(n.error());
    report.counts[name] = *n;
  }
  return report;
}

sdk::Result<bool> MongoAudit::has_data() {
  for (const auto& name : {events_, metrics_}) {
    auto any = collection_has_documents(client_, name);
    if (!any || *any) return any;
  }
  return false;
}

}  // namespace strata::mongodb
