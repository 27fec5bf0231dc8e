#pragma once
// One instance's connection to MongoDB: the client pool, the client borrowed
// for a call, error mapping, and index creation from schema/mongodb/indexes.json.

#include <mongoc/mongoc.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "mongodb_bson.hpp"
#include "mongodb_settings.hpp"
#include "strata/sdk/sdk.hpp"

namespace strata::mongodb {

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
  /// The servers and the database, without credentials or options:
  /// "mongodb://host:port,host:port/database" (hosts in the URI's order).
  std::string destination() const;
  /// db.system.name "mongodb", the database, and the URI's first server (SDK 1.12).
  sdk::DatabaseInfo database_info() const;
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

}  // namespace strata::mongodb
