#pragma once
// A PostgreSQL database of its own for one test: created on the test server
// (127.0.0.1:postgres_port()),
// dropped (connections and all) when the test is done.

#include <libpq-fe.h>

#include <memory>
#include <string>

#include "backends.hpp"
#include "strata/sdk/uuid.hpp"

namespace strata::test {

/// A libpq conninfo for `dbname` on the test server, as the `postgres` role.
inline std::string test_conninfo(const std::string& dbname) {
  return "host=127.0.0.1 port=" + std::to_string(postgres_port()) + " user=postgres dbname=" + dbname;
}

/// Runs SQL on the server's `postgres` database as the `postgres` role; fails the test on error.
inline std::string admin_sql(const std::string& sql, const std::string& dbname = "postgres") {
  PGconn* conn = PQconnectdb(test_conninfo(dbname).c_str());
  INFO(PQerrorMessage(conn));
  REQUIRE(PQstatus(conn) == CONNECTION_OK);
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  PGresult* result = PQexec(conn, sql.c_str());
  auto status = PQresultStatus(result);
  std::string value = status == PGRES_TUPLES_OK && PQntuples(result) > 0 ? PQgetvalue(result, 0, 0) : "";
  std::string error = PQresultErrorMessage(result);
  PQclear(result);
  PQfinish(conn);
  INFO(sql << ": " << error);
  REQUIRE((status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK));
  return value;
}

/// A fresh, empty database that is dropped when this object goes.
class TempDatabase {
 public:
  TempDatabase() : name_("strata_test_" + sdk::Uuid::generate().str().substr(0, 8)) {
    require_postgres();
    admin_sql("CREATE DATABASE " + name_);
  }
  ~TempDatabase() {
    PGconn* conn = PQconnectdb(test_conninfo("postgres").c_str());
    PQclear(PQexec(conn, ("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)").c_str()));
    PQfinish(conn);
  }
  TempDatabase(const TempDatabase&) = delete;
  TempDatabase& operator=(const TempDatabase&) = delete;

  const std::string& name() const { return name_; }
  /// A libpq conninfo for this database.
  std::string conninfo() const { return test_conninfo(name_); }
  /// A [storage] table on this database, with extra keys.
  std::string storage_table(const std::string& extra = "") const {
    return "[storage]\nplugin = \"postgres\"\nhost = \"127.0.0.1\"\nport = " + std::to_string(postgres_port()) +
           "\nuser = \"postgres\"\ndbname = \"" + name_ + "\"\n" + extra;
  }
  /// Runs SQL in this database as `postgres`.
  std::string sql(const std::string& statement) const { return admin_sql(statement, name_); }

 private:
  std::string name_;
};

}  // namespace strata::test
