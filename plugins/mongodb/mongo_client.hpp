#pragma once
// What the audit and cache roles share: settings, the client pool, BSON
// ownership, error mapping, and index creation from schema/mongodb/indexes.json.

#include <mongoc/mongoc.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "strata/sdk/sdk.hpp"

namespace strata::mongodb {

/// An owned bson_t.
using Bson = std::unique_ptr<bson_t, decltype(&bson_destroy)>;
inline Bson owned(bson_t* b) { return Bson(b, &bson_destroy); }
/// An owned collection handle.
using Collection = std::unique_ptr<mongoc_collection_t, decltype(&mongoc_collection_destroy)>;

/// Connection settings common to both roles.
struct Settings {
  std::string uri;
  std::string database;
  std::chrono::milliseconds server_selection_timeout{2000};
  std::chrono::milliseconds socket_timeout{5000};
  std::string write_w = "1";  // "majority" or a number
  bool journal = true;
};

/// The keys both roles accept (uri, database, timeouts, write concern).
sdk::ConfigSchema connection_schema();
Settings read_connection(const sdk::ConfigView& config);

/// A mongoc_client_pool for one instance, and the client borrowed from it for one call.
class Client {
 public:
  Client(const Settings& settings, sdk::Logger log);
  ~Client();

  /// A client from the pool, returned when the lease ends.
  class Lease {
   public:
    Lease(mongoc_client_pool_t* pool) : pool_(pool), client_(mongoc_client_pool_pop(pool)) {}
    ~Lease() { mongoc_client_pool_push(pool_, client_); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    mongoc_client_t* get() const { return client_; }

   private:
    mongoc_client_pool_t* pool_;
    mongoc_client_t* client_;
  };

  Lease lease() { return Lease(pool_); }
  Collection collection(const Lease& lease, const std::string& name) const;
  const Settings& settings() const { return settings_; }
  /// Appends the configured write concern to `opts`.
  void add_write_concern(bson_t* opts) const;
  /// Pings the server.
  sdk::Result<void> ping();
  /// Creates the indexes indexes.json lists under `logical` on `collection`
  /// once per instance; extra indexes (e.g. retention TTL) may be added. A
  /// server without TTL indexes (FerretDB 1.x) gets them without the TTL
  /// option, and a warning; ttl_supported() then says false.
  sdk::Result<void> ensure_indexes(const std::string& logical, const std::string& collection,
                                   const std::string& extra_json = "");
  /// False once the server refused a TTL index: expired documents must then be swept by the plugin.
  bool ttl_supported() const { return ttl_supported_; }

 private:
  sdk::Result<void> create_indexes(const std::string& logical, const std::string& collection,
                                   const std::string& extra_json, bool with_ttl);
  sdk::Result<std::set<std::string>> index_names(const std::string& collection);

  Settings settings_;
  sdk::Logger log_;
  std::atomic<bool> ttl_supported_{true};
  mongoc_uri_t* uri_ = nullptr;
  mongoc_client_pool_t* pool_ = nullptr;
  mongoc_write_concern_t* write_concern_ = nullptr;
  std::mutex indexes_mutex_;
  std::vector<std::string> indexed_;  // collections whose indexes exist
};

/// The SDK error for a driver or server error.
sdk::Error classify(const bson_error_t& error, const std::string& what);
/// The index list embedded from schema/mongodb/indexes.json.
const char* indexes_json();
/// A BSON date from a timestamp (milliseconds) and back.
inline std::int64_t to_ms(sdk::Timestamp t) { return t.micros() / 1000; }
inline sdk::Timestamp from_ms(std::int64_t ms) { return sdk::Timestamp::from_micros(ms * 1000); }

}  // namespace strata::mongodb
