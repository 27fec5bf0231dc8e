#pragma once
// A MongoDB database of its own for one test, on the test server
// (127.0.0.1:mongodb_port())
// (FerretDB in the suite), dropped when the test is done.

#include <mongoc/mongoc.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "backends.hpp"
#include "strata/sdk/uuid.hpp"

namespace strata::test {

/// The FerretDB binary tools/install-ferretdb.sh builds.
inline std::filesystem::path ferretdb_binary() {
  if (const char* dir = std::getenv("STRATA_TOOLS_DIR")) return std::filesystem::path(dir) / "ferretdb-v1.24.2";
  // The same rule as tools/install-ferretdb.sh.
  const char* cache = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  std::filesystem::path base = cache ? cache : std::filesystem::path(home ? home : "/tmp") / ".cache";
  return base / "strata" / "bin" / "ferretdb-v1.24.2";
}

class TempMongoDatabase {
 public:
  explicit TempMongoDatabase(int port = mongodb_port())
      : name_("strata_test_" + sdk::Uuid::generate().str().substr(0, 8)), port_(port) {
    require_backend("MongoDB (FerretDB)", port);
    mongoc_init();
  }
  ~TempMongoDatabase() {
    mongoc_client_t* client = mongoc_client_new(("mongodb://127.0.0.1:" + std::to_string(port_)).c_str());
    if (!client) return;
    mongoc_database_t* db = mongoc_client_get_database(client, name_.c_str());
    bson_error_t error;
    mongoc_database_drop(db, &error);
    mongoc_database_destroy(db);
    mongoc_client_destroy(client);
  }
  TempMongoDatabase(const TempMongoDatabase&) = delete;
  TempMongoDatabase& operator=(const TempMongoDatabase&) = delete;

  const std::string& name() const { return name_; }
  std::string uri() const { return "mongodb://127.0.0.1:" + std::to_string(port_) + "/" + name_; }
  /// A role table on this database.
  std::string table(const std::string& header, const std::string& extra = "") const {
    return header + "\nplugin = \"mongodb\"\nuri = \"" + uri() + "\"\n" + extra;
  }

 private:
  std::string name_;
  int port_;
};

}  // namespace strata::test
