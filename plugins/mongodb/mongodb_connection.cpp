#include "mongodb_connection.hpp"

#include <algorithm>
#include <cstring>

namespace strata::mongodb {
namespace {

using sdk::ErrorCode;

[[noreturn]] void refuse(const std::string& message) {
  throw sdk::Error{ErrorCode::invalid_argument, message, {}, false};
}

}  // namespace

namespace {

// The driver's log handler is process-wide, and ours lives in this library:
// when the host unloads the plugin, put the default back, or the next log
// line of another driver user (the application, another plugin) would jump
// into unmapped code.
struct DefaultLogHandlerAtUnload {
  bool installed = false;
  ~DefaultLogHandlerAtUnload() {
    if (installed) mongoc_log_set_handler(mongoc_log_default_handler, nullptr);
  }
};
DefaultLogHandlerAtUnload log_handler_guard;

}  // namespace

std::string Client::destination() const {
  std::string hosts;
  for (const mongoc_host_list_t* host = mongoc_uri_get_hosts(uri_); host; host = host->next)
    hosts += (hosts.empty() ? "" : ",") + std::string(host->host_and_port);
  return "mongodb://" + hosts + "/" + settings_.database;
}

sdk::DatabaseInfo Client::database_info() const {
  sdk::DatabaseInfo info{"mongodb", settings_.database, {}, 0};
  if (const mongoc_host_list_t* first = mongoc_uri_get_hosts(uri_)) {
    info.server_address = first->host;
    info.server_port = first->port;
  }
  return info;
}

Client::Client(const Settings& settings, sdk::Logger log) : settings_(settings), log_(std::move(log)) {
  static std::once_flag initialized;
  std::call_once(initialized, [] {
    log_handler_guard.installed = true;
    mongoc_init();  // never cleaned up: other users may share the driver
    // FerretDB has no endSessions; the driver warns about it on every client
    // it closes. That one warning is noise, and so are the driver's debug
    // and info lines (its monitor's "network error" on every command while
    // the server is down: the call's own error says so once); warnings and
    // errors still show.
    mongoc_log_set_handler(
        [](mongoc_log_level_t level, const char* domain, const char* message, void* data) {
          if (level > MONGOC_LOG_LEVEL_WARNING || std::strstr(message, "endSessions")) return;
          mongoc_log_default_handler(level, domain, message, data);
        },
        nullptr);
  });
  bson_error_t error;
  uri_ = mongoc_uri_new_with_error(settings_.uri.c_str(), &error);
  if (!uri_) refuse(std::string("uri is not a valid MongoDB URI: ") + error.message);
  mongoc_uri_set_option_as_int32(uri_, MONGOC_URI_SERVERSELECTIONTIMEOUTMS,
                                 static_cast<int32_t>(settings_.server_selection_timeout.count()));
  mongoc_uri_set_option_as_int32(uri_, MONGOC_URI_CONNECTTIMEOUTMS,
                                 static_cast<int32_t>(settings_.server_selection_timeout.count()));
  mongoc_uri_set_option_as_int32(uri_, MONGOC_URI_SOCKETTIMEOUTMS, static_cast<int32_t>(settings_.socket_timeout.count()));
  if (settings_.database.empty()) {
    const char* from_uri = mongoc_uri_get_database(uri_);
    settings_.database = from_uri && *from_uri ? from_uri : "strata";
  }
  pool_ = mongoc_client_pool_new(uri_);
  mongoc_client_pool_set_error_api(pool_, MONGOC_ERROR_API_VERSION_2);
  mongoc_client_pool_set_appname(pool_, "strata");
  write_concern_ = mongoc_write_concern_new();
  if (settings_.write_w == "majority") {
    mongoc_write_concern_set_wmajority(write_concern_, 0);
  } else {
    int w = 0;
    try {
      w = std::stoi(settings_.write_w);
    } catch (...) {
      refuse("write_concern.w must be \"majority\" or a number, got \"" + settings_.write_w + "\"");
    }
    mongoc_write_concern_set_w(write_concern_, w);
  }
  mongoc_write_concern_set_journal(write_concern_, settings_.journal);
}

Client::~Client() {
  if (write_concern_) mongoc_write_concern_destroy(write_concern_);
  if (pool_) mongoc_client_pool_destroy(pool_);
  if (uri_) mongoc_uri_destroy(uri_);
}

Collection Client::collection(const Lease& lease, const std::string& name) const {
  return Collection(mongoc_client_get_collection(lease.get(), settings_.database.c_str(), name.c_str()),
                    &mongoc_collection_destroy);
}

void Client::add_write_concern(bson_t* opts) const { mongoc_write_concern_append(write_concern_, opts); }

sdk::Result<void> Client::ping() {
  auto lease = this->lease();
  bson_error_t error;
  auto command = owned(BCON_NEW("ping", BCON_INT32(1)));
  if (!mongoc_client_command_simple(lease.get(), "admin", command.get(), nullptr, nullptr, &error))
    return sdk::fail(classify(error, "ping"));
  return {};
}

sdk::Result<void> Client::ensure_indexes(const std::string& logical, const std::string& collection,
                                         const std::string& extra_json) {
  {
    std::lock_guard lock(indexes_mutex_);
    if (std::find(indexed_.begin(), indexed_.end(), collection) != indexed_.end()) return {};
  }
  auto created = create_indexes(logical, collection, extra_json, ttl_supported_);
  // Several threads may get here at once: whichever saw the refusal retries
  // without TTL options; only the first one warns.
  if (!created && created.error().message.find("expireAfterSeconds") != std::string::npos) {
    if (ttl_supported_.exchange(false))
      log_(sdk::LogLevel::warning, "the server does not support TTL indexes (" + created.error().message +
                                       "); expired documents are hidden on read and swept by the plugin instead");
    created = create_indexes(logical, collection, extra_json, false);
  }
  if (!created) return created;
  std::lock_guard lock(indexes_mutex_);
  indexed_.push_back(collection);
  return {};
}

sdk::Result<void> Client::create_indexes(const std::string& logical, const std::string& collection,
                                         const std::string& extra_json, bool with_ttl) {
  bson_error_t error;
  auto all = owned(bson_new_from_json(reinterpret_cast<const uint8_t*>(indexes_json()), -1, &error));
  if (!all) return sdk::fail(ErrorCode::internal, std::string("indexes.json does not parse: ") + error.message);
  bson_iter_t it, list;
  if (!bson_iter_init_find(&it, all.get(), logical.c_str()) || !BSON_ITER_HOLDS_ARRAY(&it))
    return sdk::fail(ErrorCode::internal, "indexes.json has no list for " + logical);
  // {createIndexes: <collection>, indexes: [...the list..., ...extra]}
  auto existing = index_names(collection);
  if (!existing) return sdk::fail(existing.error());
  auto command = owned(bson_new());
  BSON_APPEND_UTF8(command.get(), "createIndexes", collection.c_str());
  bson_t indexes;
  BSON_APPEND_ARRAY_BEGIN(command.get(), "indexes", &indexes);
  int n = 0;
  auto add = [&](const bson_t& index) {
    if (!with_ttl && bson_has_field(&index, "expireAfterSeconds")) return;
    // Only the missing ones: FerretDB 1.24 drops the connection (a panic in
    // its createIndexes) when every one of several listed indexes exists.
    bson_iter_t name;
    if (bson_iter_init_find(&name, &index, "name") && existing->contains(bson_iter_utf8(&name, nullptr))) return;
    // BSON_APPEND_* evaluate the key twice: never pass an expression with a side effect.
    std::string position = std::to_string(n++);
    BSON_APPEND_DOCUMENT(&indexes, position.c_str(), &index);
  };
  bson_iter_recurse(&it, &list);
  while (bson_iter_next(&list)) {
    const uint8_t* data;
    uint32_t length;
    bson_iter_document(&list, &length, &data);
    bson_t index;
    bson_init_static(&index, data, length);
    add(index);
  }
  if (!extra_json.empty()) {
    auto extra = owned(bson_new_from_json(reinterpret_cast<const uint8_t*>(extra_json.c_str()), -1, &error));
    if (extra) add(*extra);
  }
  bson_append_array_end(command.get(), &indexes);
  if (n == 0) return {};
  auto lease = this->lease();
  if (!mongoc_client_write_command_with_opts(lease.get(), settings_.database.c_str(), command.get(), nullptr, nullptr,
                                             &error))
    return sdk::fail(classify(error, "creating indexes on " + collection));
  return {};
}

sdk::Result<std::set<std::string>> Client::index_names(const std::string& collection) {
  auto lease = this->lease();
  auto handle = this->collection(lease, collection);
  std::unique_ptr<mongoc_cursor_t, decltype(&mongoc_cursor_destroy)> cursor(
      mongoc_collection_find_indexes_with_opts(handle.get(), nullptr), &mongoc_cursor_destroy);
  std::set<std::string> names;
  const bson_t* doc = nullptr;
  while (mongoc_cursor_next(cursor.get(), &doc)) {
    bson_iter_t name;
    if (bson_iter_init_find(&name, doc, "name") && BSON_ITER_HOLDS_UTF8(&name)) names.insert(bson_iter_utf8(&name, nullptr));
  }
  bson_error_t error;
  // A collection that does not exist yet has no indexes.
  if (mongoc_cursor_error(cursor.get(), &error) && error.code != 26)
    return sdk::fail(classify(error, "listing the indexes of " + collection));
  return names;
}

sdk::Error classify(const bson_error_t& error, const std::string& what) {
  std::string message = what + ": " + error.message;
  if (error.domain == MONGOC_ERROR_SERVER_SELECTION || error.domain == MONGOC_ERROR_STREAM ||
      error.code == MONGOC_ERROR_STREAM_SOCKET || error.code == MONGOC_ERROR_STREAM_CONNECT)
    return sdk::Error{ErrorCode::unavailable, "MongoDB is unavailable (" + message + ")", {}, true};
  switch (error.code) {
    case 11000: return sdk::Error{ErrorCode::already_exists, message, {}, false};
    case 50: return sdk::Error{ErrorCode::timeout, message, {}, true};
    case 13:
    case 18: return sdk::Error{ErrorCode::auth_failed, message, {}, false};
    case 2:
    case 9:
    case 14: return sdk::Error{ErrorCode::invalid_argument, message, {}, false};
    default: return sdk::Error{ErrorCode::internal, message + " (code " + std::to_string(error.code) + ")", {}, false};
  }
}

}  // namespace strata::mongodb
