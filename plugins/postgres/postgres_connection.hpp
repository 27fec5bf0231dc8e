#pragma once
// One libpq connection: connect within a deadline, prepared statements,
// parameters always bound (never spliced into SQL), errors mapped to SDK codes.

#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "postgres_settings.hpp"
#include "strata/sdk/bytes.hpp"
#include "strata/sdk/error.hpp"

namespace strata::postgres {

/// A result, freed with PQclear.
using PgResult = std::unique_ptr<PGresult, decltype(&PQclear)>;

/// One bound parameter: text, binary (a BYTEA value, sent as raw bytes in
/// libpq's binary format, so no hex or escape round trip), or NULL.
struct Param {
  std::optional<std::string> value;  ///< NULL when absent
  bool binary = false;

  Param() = default;
  Param(std::nullopt_t) {}
  Param(std::string text) : value(std::move(text)) {}
  Param(const char* text) : value(text) {}
  Param(std::optional<std::string> text) : value(std::move(text)) {}
  /// A BYTEA parameter.
  static Param bytes(sdk::BytesView raw) {
    Param p(std::string(raw.begin(), raw.end()));
    p.binary = true;
    return p;
  }
};

/// A named statement prepared on first use on each connection.
struct Statement {
  const char* name;
  const char* sql;
};

class Connection {
 public:
  /// Connects within settings.connect_timeout; `unavailable`/`timeout`/`auth_failed` otherwise.
  static sdk::Result<std::unique_ptr<Connection>> open(const Settings& settings);
  ~Connection();

  /// Runs a prepared statement (prepared here the first time); its rows come
  /// back in libpq's binary format (read them with Row).
  sdk::Result<PgResult> run(const Statement& statement, const std::vector<Param>& params);
  /// Runs SQL without parameters (BEGIN, COMMIT, DDL).
  sdk::Result<PgResult> exec(std::string_view sql);
  /// Runs SQL with parameters, unprepared (rare statements); rows in text format.
  sdk::Result<PgResult> exec(std::string_view sql, const std::vector<Param>& params);

  /// Copies rows in PostgreSQL's binary COPY format; `copy_sql` is "COPY t (cols) FROM STDIN (FORMAT binary)".
  sdk::Result<void> copy_in(std::string_view copy_sql, const std::string& data);

  /// False once the connection is unusable: lost, killed by the server, or
  /// on a server that is no longer a primary (demoted in a failover).
  bool healthy() const noexcept { return !demoted_ && !given_up_ && PQstatus(conn_) == CONNECTION_OK; }
  /// False when the server closed the connection while it sat idle (restart,
  /// pg_terminate_backend): checked before reuse, so no call fails for it.
  bool idle_and_alive();
  PGconn* raw() noexcept { return conn_; }
  /// host:port/database, for messages.
  const std::string& display() const noexcept { return display_; }

 private:
  Connection(PGconn* conn, std::string display, std::chrono::milliseconds command_timeout)
      : conn_(conn), display_(std::move(display)), command_timeout_(command_timeout) {}
  sdk::Result<PgResult> check(PGresult* result, std::string_view what);
  /// The outcome of the query just sent (`sent`: what PQsend* returned), as
  /// PQexec would give it, waiting at most command_timeout_.
  sdk::Result<PgResult> await(int sent, std::string_view what);
  /// Waits until a result can be read without blocking; false past `deadline`.
  bool wait_readable(std::chrono::steady_clock::time_point deadline);

  PGconn* conn_;
  std::string display_;
  std::set<std::string> prepared_;
  std::chrono::milliseconds command_timeout_;  // 0: none
  bool given_up_ = false;                      // no answer within command_timeout_: the pool drops it
  bool demoted_ = false;  // a write met a read-only server: reconnect (libpq's target_session_attrs finds the primary)
};

/// The SDK error for a failed result or connection: unique violation is
/// `already_exists`, foreign key `invalid_argument`, a cancelled statement
/// `timeout`, a lost connection or a read-only server (a demoted primary
/// mid-failover) `unavailable`.
sdk::Error classify(PGconn* conn, const PGresult* result, const std::string& display);

}  // namespace strata::postgres
