#pragma once
// Raw libpq for the benchmarks' reference paths and scratch databases on
// the test server tools/services.sh starts (user postgres). Failures throw.

#include <libpq-fe.h>

#include <stdexcept>
#include <string>

#include "test_servers.hpp"

namespace strata::bench {

inline PGconn* pg_connect(const std::string& dbname) {
  PGconn* c = PQconnectdb(
      ("host=127.0.0.1 port=" + std::to_string(test::postgres_port()) + " user=postgres dbname=" + dbname).c_str());
  if (PQstatus(c) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(c));
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
  return c;
}

/// Runs SQL; a COPY ... FROM STDIN leaves the connection ready for PQputCopyData.
inline void pg_exec(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  auto status = PQresultStatus(r);
  std::string error = PQresultErrorMessage(r);
  PQclear(r);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_COPY_IN)
    throw std::runtime_error(sql + ": " + error);
}

/// A database created empty and dropped (WITH FORCE) when it goes.
struct ScratchDatabase {
  std::string name;
  explicit ScratchDatabase(std::string n) : name(std::move(n)) {
    PGconn* admin = pg_connect("postgres");
    pg_exec(admin, "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    pg_exec(admin, "CREATE DATABASE " + name);
    PQfinish(admin);
  }
  ~ScratchDatabase() {
    PGconn* admin = pg_connect("postgres");
    PQclear(PQexec(admin, ("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)").c_str()));
    PQfinish(admin);
  }
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;
};

}  // namespace strata::bench
