#include "mongodb_cache.hpp"

#include "mongodb_backup.hpp"

#include <charconv>
#include <map>

namespace strata::mongodb {
namespace {

using sdk::ConfigType;
using sdk::ErrorCode;
using sdk::fail;

void append_key(bson_t* doc, std::string_view key) {
  bson_append_utf8(doc, "key", 3, key.data(), static_cast<int>(key.size()));
}

// {$set: {value: <binary>, expiresAt, createdAt}}
Bson set_document(sdk::BytesView value, sdk::Timestamp expires, sdk::Timestamp now) {
  auto update = owned(bson_new());
  bson_t set;
  BSON_APPEND_DOCUMENT_BEGIN(update.get(), "$set", &set);
  bson_append_binary(&set, "value", 5, BSON_SUBTYPE_BINARY, value.data(), static_cast<uint32_t>(value.size()));
  BSON_APPEND_DATE_TIME(&set, "expiresAt", to_ms(expires));
  BSON_APPEND_DATE_TIME(&set, "createdAt", to_ms(now));
  bson_append_document_end(update.get(), &set);
  return update;
}

std::string key_of(const bson_t* doc) {
  bson_iter_t it;
  if (!bson_iter_init_find(&it, doc, "key") || !BSON_ITER_HOLDS_UTF8(&it)) return {};
  uint32_t length = 0;
  const char* text = bson_iter_utf8(&it, &length);
  return std::string(text, length);
}

}  // namespace

MongoCache::MongoCache(const sdk::PluginContext& context)
    : clock_(context.clock),
      client_(read_connection(context.config), context.log),
      collection_(context.config.get<std::string>("collection")),
      default_ttl_(std::chrono::seconds(context.config.get<std::int64_t>("default_ttl_s"))) {
  if (default_ttl_.count() <= 0)
    throw sdk::Error{ErrorCode::invalid_argument, "default_ttl_s must be positive: every entry has an expiresAt", {}, false};
}

sdk::ConfigSchema MongoCache::config_schema() {
  auto schema = connection_schema();
  schema.push_back(sdk::field("collection", ConfigType::string, "the instance's collection: its namespace")
                       .or_default("caches"));
  schema.push_back(sdk::field("default_ttl_s", ConfigType::integer, "TTL of values stored without one (positive)")
                       .or_default(3600));
  return schema;
}

sdk::Result<void> MongoCache::health() {
  if (auto ok = client_.ping(); !ok) return ok;
  return client_.ensure_indexes("cache", collection_);
}

sdk::Result<sdk::Timestamp> MongoCache::deadline(std::optional<sdk::Ttl> ttl) const {
  sdk::Ttl t = ttl.value_or(default_ttl_);
  if (t.count() <= 0) return fail(ErrorCode::invalid_argument, "TTL must be positive, got " + std::to_string(t.count()) + " ms");
  return clock_->now() + t;
}

Bson MongoCache::live_filter(std::string_view key) const {
  auto filter = owned(bson_new());
  append_key(filter.get(), key);
  bson_t after;
  BSON_APPEND_DOCUMENT_BEGIN(filter.get(), "expiresAt", &after);
  BSON_APPEND_DATE_TIME(&after, "$gt", to_ms(clock_->now()));
  bson_append_document_end(filter.get(), &after);
  return filter;
}

sdk::Result<std::optional<MongoCache::Entry>> MongoCache::find_live(std::string_view key) {
  if (auto ok = client_.ensure_indexes("cache", collection_); !ok) return sdk::fail(ok.error());
  auto filter = live_filter(key);
  auto lease = client_.lease();
  auto collection = client_.collection(lease, collection_);
  auto opts = owned(BCON_NEW("limit", BCON_INT64(1)));
  auto cursor = std::unique_ptr<mongoc_cursor_t, decltype(&mongoc_cursor_destroy)>(
      mongoc_collection_find_with_opts(collection.get(), filter.get(), opts.get(), nullptr), &mongoc_cursor_destroy);
  const bson_t* doc;
  if (!mongoc_cursor_next(cursor.get(), &doc)) {
    bson_error_t error;
    if (mongoc_cursor_error(cursor.get(), &error)) return sdk::fail(classify(error, "reading " + collection_));
    return std::optional<Entry>();
  }
  Entry entry;
  bson_iter_t it;
  bson_iter_init(&it, doc);
  while (bson_iter_next(&it)) {
    std::string_view field = bson_iter_key(&it);
    if (field == "expiresAt" && BSON_ITER_HOLDS_DATE_TIME(&it)) {
      entry.expires_ms = bson_iter_date_time(&it);
    } else if (field == "value") {
      if (BSON_ITER_HOLDS_BINARY(&it)) {
        bson_subtype_t subtype;
        uint32_t length;
        const uint8_t* data;
        bson_iter_binary(&it, &subtype, &length, &data);
        entry.value = sdk::Bytes(data, data + length);
      } else if (BSON_ITER_HOLDS_INT64(&it) || BSON_ITER_HOLDS_INT32(&it)) {
        entry.counter = bson_iter_as_int64(&it);
        entry.value = sdk::to_bytes(std::to_string(*entry.counter));
      } else if (BSON_ITER_HOLDS_UTF8(&it)) {
        uint32_t length;
        const char* text = bson_iter_utf8(&it, &length);
        entry.value = sdk::Bytes(text, text + length);
      } else {
        // A document or other value the seed stored (mongoose Mixed): its JSON.
        bson_t wrapper = BSON_INITIALIZER;
        bson_append_iter(&wrapper, "v", 1, &it);
        char* json = bson_as_relaxed_extended_json(&wrapper, nullptr);
        std::string text(json);
        bson_free(json);
        bson_destroy(&wrapper);
        // {"v" : X } -> X
        auto colon = text.find(':');
        text = text.substr(colon + 1, text.rfind('}') - colon - 1);
        while (!text.empty() && text.front() == ' ') text.erase(text.begin());
        while (!text.empty() && text.back() == ' ') text.pop_back();
        entry.value = sdk::to_bytes(text);
      }
    }
  }
  return std::optional<Entry>(std::move(entry));
}

sdk::Result<std::int64_t> MongoCache::update(const bson_t* filter, const bson_t* update, bool upsert) {
  if (auto ok = client_.ensure_indexes("cache", collection_); !ok) return sdk::fail(ok.error());
  auto opts = owned(BCON_NEW("upsert", BCON_BOOL(upsert)));
  client_.add_write_concern(opts.get());
  auto lease = client_.lease();
  auto collection = client_.collection(lease, collection_);
  bson_t reply;
  bson_error_t error;
  bool ok = mongoc_collection_update_one(collection.get(), filter, update, opts.get(), &reply, &error);
  std::int64_t touched = 0;
  bson_iter_t it;
  if (ok && bson_iter_init_find(&it, &reply, "matchedCount")) touched += bson_iter_as_int64(&it);
  if (ok && bson_iter_init_find(&it, &reply, "upsertedCount")) touched += bson_iter_as_int64(&it);
  bson_destroy(&reply);
  if (!ok) return sdk::fail(classify(error, "writing " + collection_));
  return touched;
}

sdk::Result<std::int64_t> MongoCache::remove_where(const bson_t* filter, bool many) {
  auto opts = owned(bson_new());
  client_.add_write_concern(opts.get());
  auto lease = client_.lease();
  auto collection = client_.collection(lease, collection_);
  bson_t reply;
  bson_error_t error;
  bool ok = many ? mongoc_collection_delete_many(collection.get(), filter, opts.get(), &reply, &error)
                 : mongoc_collection_delete_one(collection.get(), filter, opts.get(), &reply, &error);
  std::int64_t deleted = 0;
  bson_iter_t it;
  if (ok && bson_iter_init_find(&it, &reply, "deletedCount")) deleted = bson_iter_as_int64(&it);
  bson_destroy(&reply);
  if (!ok) return sdk::fail(classify(error, "deleting from " + collection_));
  return deleted;
}

sdk::Result<std::optional<sdk::Bytes>> MongoCache::get(std::string_view key) {
  auto entry = find_live(key);
  if (!entry) return sdk::fail(entry.error());
  if (!*entry) return std::optional<sdk::Bytes>();
  return (*entry)->value;
}

void MongoCache::sweep_if_due() {
  // Without a TTL index nothing deletes expired entries: every 1,000 writes,
  // delete them here so the collection stays bounded.
  if (client_.ttl_supported() || ++writes_ % 1000 != 0) return;
  auto expired = owned(bson_new());
  bson_t until;
  BSON_APPEND_DOCUMENT_BEGIN(expired.get(), "expiresAt", &until);
  BSON_APPEND_DATE_TIME(&until, "$lte", to_ms(clock_->now()));
  bson_append_document_end(expired.get(), &until);
  (void)remove_where(expired.get(), true);
}

sdk::Result<void> MongoCache::set(std::string_view key, sdk::BytesView value, std::optional<sdk::Ttl> ttl) {
  auto expires = deadline(ttl);
  if (!expires) return sdk::fail(expires.error());
  sweep_if_due();
  auto filter = owned(bson_new());
  append_key(filter.get(), key);
  auto written = update(filter.get(), set_document(value, *expires, clock_->now()).get(), true);
  if (!written) return sdk::fail(written.error());
  return {};
}

sdk::Result<bool> MongoCache::set_if_absent(std::string_view key, sdk::BytesView value, std::optional<sdk::Ttl> ttl) {
  auto expires = deadline(ttl);
  if (!expires) return sdk::fail(expires.error());
  // Matches only an expired entry; with no entry at all the upsert inserts.
  // A live entry makes the upsert collide with the unique key: not stored.
  auto filter = owned(bson_new());
  append_key(filter.get(), key);
  bson_t until;
  BSON_APPEND_DOCUMENT_BEGIN(filter.get(), "expiresAt", &until);
  BSON_APPEND_DATE_TIME(&until, "$lte", to_ms(clock_->now()));
  bson_append_document_end(filter.get(), &until);
  auto written = update(filter.get(), set_document(value, *expires, clock_->now()).get(), true);
  if (!written) {
    if (written.error().code == ErrorCode::already_exists) return false;
    return sdk::fail(written.error());
  }
  return *written > 0;
}

sdk::Result<bool> MongoCache::remove(std::string_view key) {
  auto live = remove_where(live_filter(key).get(), false);
  if (!live) return sdk::fail(live.error());
  if (*live == 0) {  // an expired leftover the server has not collected yet
    auto any = owned(bson_new());
    append_key(any.get(), key);
    (void)remove_where(any.get(), false);
  }
  return *live > 0;
}

sdk::Result<bool> MongoCache::exists(std::string_view key) {
  auto entry = find_live(key);
  if (!entry) return sdk::fail(entry.error());
  return entry->has_value();
}

sdk::Result<bool> MongoCache::expire(std::string_view key, sdk::Ttl ttl) {
  if (ttl.count() <= 0) return fail(ErrorCode::invalid_argument, "TTL must be positive, got " + std::to_string(ttl.count()) + " ms");
  auto change = owned(bson_new());
  bson_t set;
  BSON_APPEND_DOCUMENT_BEGIN(change.get(), "$set", &set);
  BSON_APPEND_DATE_TIME(&set, "expiresAt", to_ms(clock_->now() + ttl));
  bson_append_document_end(change.get(), &set);
  auto matched = update(live_filter(key).get(), change.get(), false);
  if (!matched) return sdk::fail(matched.error());
  return *matched > 0;
}

sdk::Result<sdk::KeyTtl> MongoCache::ttl(std::string_view key) {
  auto entry = find_live(key);
  if (!entry) return sdk::fail(entry.error());
  if (!*entry) return sdk::KeyTtl{false, std::nullopt};
  return sdk::KeyTtl{true, sdk::Ttl((*entry)->expires_ms - to_ms(clock_->now()))};
}

sdk::Result<std::vector<std::optional<sdk::Bytes>>> MongoCache::get_many(std::span<const std::string> keys) {
  using Values = std::vector<std::optional<sdk::Bytes>>;
  if (keys.empty()) return Values{};
  if (auto ok = client_.ensure_indexes("cache", collection_); !ok) return sdk::fail(ok.error());
  // One query: {key: {$in: [...]}, expiresAt: {$gt: now}}.
  auto filter = owned(bson_new());
  bson_t in, list, after;
  BSON_APPEND_DOCUMENT_BEGIN(filter.get(), "key", &in);
  BSON_APPEND_ARRAY_BEGIN(&in, "$in", &list);
  for (std::size_t i = 0; i < keys.size(); ++i)
    bson_append_utf8(&list, std::to_string(i).c_str(), -1, keys[i].data(), static_cast<int>(keys[i].size()));
  bson_append_array_end(&in, &list);
  bson_append_document_end(filter.get(), &in);
  BSON_APPEND_DOCUMENT_BEGIN(filter.get(), "expiresAt", &after);
  BSON_APPEND_DATE_TIME(&after, "$gt", to_ms(clock_->now()));
  bson_append_document_end(filter.get(), &after);
  auto lease = client_.lease();
  auto collection = client_.collection(lease, collection_);
  auto cursor = std::unique_ptr<mongoc_cursor_t, decltype(&mongoc_cursor_destroy)>(
      mongoc_collection_find_with_opts(collection.get(), filter.get(), nullptr, nullptr), &mongoc_cursor_destroy);
  std::map<std::string, sdk::Bytes> found;
  const bson_t* doc;
  while (mongoc_cursor_next(cursor.get(), &doc)) {
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc, "value")) continue;
    if (BSON_ITER_HOLDS_BINARY(&it)) {
      bson_subtype_t subtype;
      uint32_t length;
      const uint8_t* data;
      bson_iter_binary(&it, &subtype, &length, &data);
      found[key_of(doc)] = sdk::Bytes(data, data + length);
    } else if (BSON_ITER_HOLDS_INT64(&it) || BSON_ITER_HOLDS_INT32(&it)) {
      found[key_of(doc)] = sdk::to_bytes(std::to_string(bson_iter_as_int64(&it)));
    }
  }
  bson_error_t error;
  if (mongoc_cursor_error(cursor.get(), &error)) return sdk::fail(classify(error, "reading " + collection_));
  Values out;
  for (const auto& key : keys) {
    auto it = found.find(key);
    out.push_back(it == found.end() ? std::nullopt : std::optional<sdk::Bytes>(it->second));
  }
  return out;
}

sdk::Result<void> MongoCache::set_many(std::span<const std::pair<std::string, sdk::Bytes>> entries,
                                       std::optional<sdk::Ttl> ttl) {
  if (entries.empty()) return {};
  auto expires = deadline(ttl);
  if (!expires) return sdk::fail(expires.error());
  if (auto ok = client_.ensure_indexes("cache", collection_); !ok) return ok;
  // One unordered bulk write of upserts: one round trip.
  auto opts = owned(BCON_NEW("ordered", BCON_BOOL(false)));
  client_.add_write_concern(opts.get());
  auto lease = client_.lease();
  auto collection = client_.collection(lease, collection_);
  auto bulk = std::unique_ptr<mongoc_bulk_operation_t, decltype(&mongoc_bulk_operation_destroy)>(
      mongoc_collection_create_bulk_operation_with_opts(collection.get(), opts.get()), &mongoc_bulk_operation_destroy);
  auto upsert = owned(BCON_NEW("upsert", BCON_BOOL(true)));
  bson_error_t error;
  for (const auto& [key, value] : entries) {
    auto filter = owned(bson_new());
    append_key(filter.get(), key);
    if (!mongoc_bulk_operation_update_one_with_opts(bulk.get(), filter.get(),
                                                    set_document(value, *expires, clock_->now()).get(), upsert.get(),
                                                    &error))
      return sdk::fail(classify(error, "preparing a bulk write"));
  }
  bson_t reply;
  bool ok = mongoc_bulk_operation_execute(bulk.get(), &reply, &error) != 0;
  bson_destroy(&reply);
  if (!ok) return sdk::fail(classify(error, "bulk writing to " + collection_));
  return {};
}

sdk::Result<std::int64_t> MongoCache::increment(std::string_view key, std::int64_t delta, std::optional<sdk::Ttl> ttl) {
  auto expires = deadline(ttl);
  if (!expires) return sdk::fail(expires.error());
  if (auto ok = client_.ensure_indexes("cache", collection_); !ok) return sdk::fail(ok.error());
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto current = find_live(key);
    if (!current) return sdk::fail(current.error());
    auto filter = owned(bson_new());
    append_key(filter.get(), key);
    std::int64_t start = 0;
    Bson change = owned(bson_new());
    if (*current && !(*current)->counter) {
      // A value stored as text ("5"): convert it, but only if it is still that value.
      const auto& text = *(*current)->value;
      auto [end, ec] = std::from_chars(reinterpret_cast<const char*>(text.data()),
                                       reinterpret_cast<const char*>(text.data() + text.size()), start);
      if (text.empty() || ec != std::errc() || end != reinterpret_cast<const char*>(text.data() + text.size()))
        return fail(ErrorCode::invalid_argument, "the value is not a decimal integer");
      bson_append_binary(filter.get(), "value", 5, BSON_SUBTYPE_BINARY, text.data(), static_cast<uint32_t>(text.size()));
      std::int64_t result;
      if (__builtin_add_overflow(start, delta, &result))
        return fail(ErrorCode::invalid_argument, "increment would overflow a 64-bit integer");
      change = owned(BCON_NEW("$set", "{", "value", BCON_INT64(result), "}"));
      auto written = update(filter.get(), change.get(), false);
      if (!written) return sdk::fail(written.error());
      if (*written > 0) return result;
      continue;  // changed underneath: try again
    }
    if (!*current) {
      // Absent or expired: start from zero with this TTL. Only an expired
      // leftover is deleted, never a live entry another caller just created.
      auto expired = owned(bson_new());
      append_key(expired.get(), key);
      bson_t until;
      BSON_APPEND_DOCUMENT_BEGIN(expired.get(), "expiresAt", &until);
      BSON_APPEND_DATE_TIME(&until, "$lte", to_ms(clock_->now()));
      bson_append_document_end(expired.get(), &until);
      (void)remove_where(expired.get(), false);
      change = owned(BCON_NEW("$inc", "{", "value", BCON_INT64(delta), "}", "$setOnInsert", "{", "expiresAt",
                              BCON_DATE_TIME(to_ms(*expires)), "createdAt", BCON_DATE_TIME(to_ms(clock_->now())), "}"));
    } else {
      change = owned(BCON_NEW("$inc", "{", "value", BCON_INT64(delta), "}"));
    }
    // $inc is atomic on the server; the result comes back with the new value.
    auto lease = client_.lease();
    auto collection = client_.collection(lease, collection_);
    auto opts = std::unique_ptr<mongoc_find_and_modify_opts_t, decltype(&mongoc_find_and_modify_opts_destroy)>(
        mongoc_find_and_modify_opts_new(), &mongoc_find_and_modify_opts_destroy);
    mongoc_find_and_modify_opts_set_update(opts.get(), change.get());
    mongoc_find_and_modify_opts_set_flags(
        opts.get(), static_cast<mongoc_find_and_modify_flags_t>(MONGOC_FIND_AND_MODIFY_UPSERT | MONGOC_FIND_AND_MODIFY_RETURN_NEW));
    bson_t reply;
    bson_error_t error;
    bool ok = mongoc_collection_find_and_modify_with_opts(collection.get(), filter.get(), opts.get(), &reply, &error);
    std::optional<std::int64_t> value;
    bson_iter_t it, inner;
    if (ok && bson_iter_init_find(&it, &reply, "value") && BSON_ITER_HOLDS_DOCUMENT(&it) &&
        bson_iter_recurse(&it, &inner) && bson_iter_find(&inner, "value") && BSON_ITER_HOLDS_NUMBER(&inner))
      value = bson_iter_as_int64(&inner);
    bson_destroy(&reply);
    if (!ok) {
      sdk::Error e = classify(error, "incrementing in " + collection_);
      if (e.code == ErrorCode::already_exists) continue;  // two upserts raced on the unique key: retry
      if (e.code == ErrorCode::invalid_argument || std::string(error.message).find("non-numeric") != std::string::npos)
        return fail(ErrorCode::invalid_argument, "the value is not a decimal integer");
      return sdk::fail(e);
    }
    if (value) return *value;
  }
  return fail(ErrorCode::conflict, "the value kept changing during the increment; try again");
}

sdk::Result<std::uint64_t> MongoCache::clear() {
  auto everything = owned(bson_new());
  auto deleted = remove_where(everything.get(), true);
  if (!deleted) return sdk::fail(deleted.error());
  return static_cast<std::uint64_t>(*deleted);
}

// ---- backup (SDK 1.2) --------------------------------------------------------

// Documents keep their absolute expiry, so a restored entry expires when the original would have.
sdk::Result<sdk::BackupReport> MongoCache::backup(const std::filesystem::path& dir) {
  sdk::BackupReport report;
  auto n = dump_collection(client_, collection_, dir, report.files);
  if (!n) return sdk::fail(n.error());
  report.counts[collection_] = *n;
  return report;
}

sdk::Result<sdk::BackupReport> MongoCache::restore(const std::filesystem::path& dir) {
  auto n = restore_collection(client_, collection_, dir);
  if (!n) return sdk::fail(n.error());
  return sdk::BackupReport{{}, {{collection_, *n}}, ""};
}

sdk::Result<bool> MongoCache::has_data() { return collection_has_documents(client_, collection_); }

}  // namespace strata::mongodb
