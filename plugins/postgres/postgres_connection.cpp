#include "postgres_connection.hpp"

#include <poll.h>

#include <cerrno>
#include <cstring>

namespace strata::postgres {
namespace {

using sdk::ErrorCode;
using sdk::fail;
using Clock = std::chrono::steady_clock;

std::string trimmed(const char* text) {
  std::string out = text ? text : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// Text parameters go to libpq as C strings: a NUL would silently cut the
// value short, so it is refused instead. Binary ones carry their length.
sdk::Result<void> check_params(const std::vector<Param>& params) {
  for (std::size_t i = 0; i < params.size(); ++i)
    if (params[i].value && !params[i].binary && params[i].value->find('\0') != std::string::npos)
      return fail(ErrorCode::invalid_argument,
                  "parameter " + std::to_string(i + 1) + " contains a NUL byte, which PostgreSQL text cannot hold");
  return {};
}

// The parallel arrays libpq takes: values, lengths (binary only) and formats.
struct ParamArrays {
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
  explicit ParamArrays(const std::vector<Param>& params) {
    for (const auto& p : params) {
      values.push_back(p.value ? p.value->data() : nullptr);
      lengths.push_back(p.value ? static_cast<int>(p.value->size()) : 0);
      formats.push_back(p.binary ? 1 : 0);
    }
  }
  int size() const { return static_cast<int>(values.size()); }
};

constexpr int text_rows = 0;
constexpr int binary_rows = 1;

}  // namespace

sdk::Error classify(PGconn* conn, const PGresult* result, const std::string& display) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string sqlstate = state ? state : "";
  std::string message = trimmed(result ? PQresultErrorMessage(result) : PQerrorMessage(conn));
  if (message.empty()) message = trimmed(PQerrorMessage(conn));
  if (PQstatus(conn) != CONNECTION_OK || sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "57P02" ||
      sqlstate == "57P03")
    return sdk::Error{ErrorCode::unavailable, "lost the connection to PostgreSQL at " + display + ": " + message, {}, true};
  // The server answered and refused: nothing was written (conflict, not an
  // unknown outcome); retryable, since a failover may bring a writable primary.
  if (sqlstate == "25006")
    return sdk::Error{ErrorCode::conflict,
                      "PostgreSQL at " + display + " refused the write, nothing was written: it is read-only (a "
                          "standby, a primary demoted by a failover, or default_transaction_read_only): " + message,
                      {}, true};
  if (sqlstate == "53100")  // disk_full
    return sdk::Error{ErrorCode::conflict,
                      "PostgreSQL at " + display + " refused the write, nothing was written: its disk is full: " + message,
                      {}, true};
  if (sqlstate == "23505") return sdk::Error{ErrorCode::already_exists, message, {}, false};
  if (sqlstate == "23503") return sdk::Error{ErrorCode::invalid_argument, message, {}, false};
  if (sqlstate == "57014") return sdk::Error{ErrorCode::timeout, "statement timed out: " + message, {}, true};
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03")
    return sdk::Error{ErrorCode::conflict, message, {}, true};
  if (sqlstate.starts_with("28")) return sdk::Error{ErrorCode::auth_failed, message, {}, false};
  if (sqlstate.starts_with("22") || sqlstate.starts_with("23"))
    return sdk::Error{ErrorCode::invalid_argument, message, {}, false};
  if (sqlstate == "42P01" || sqlstate == "42703" || sqlstate == "42883")
    return sdk::Error{ErrorCode::unavailable, message + " (is the schema migrated? run `strata migrate up`)", {}, false};
  return sdk::Error{ErrorCode::internal, message + (sqlstate.empty() ? "" : " [SQLSTATE " + sqlstate + "]"), {}, false};
}

sdk::Result<std::unique_ptr<Connection>> Connection::open(const Settings& settings) {
  std::vector<const char*> keys, values;
  for (const auto& [k, v] : settings.keywords) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  // Asynchronous connect, so the timeout is honoured to the millisecond
  // (libpq's own connect_timeout counts whole seconds, at least two).
  PGconn* conn = PQconnectStartParams(keys.data(), values.data(), settings.expand_conninfo ? 1 : 0);
  if (!conn) return fail(ErrorCode::internal, "out of memory starting a PostgreSQL connection");
  std::unique_ptr<Connection> connection(new Connection(conn, settings.display, settings.command_timeout));
  const auto deadline = Clock::now() + settings.connect_timeout;
  PostgresPollingStatusType status = PGRES_POLLING_WRITING;
  while (PQstatus(conn) != CONNECTION_BAD && status != PGRES_POLLING_OK && status != PGRES_POLLING_FAILED) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0)
      return fail(ErrorCode::timeout, "could not connect to PostgreSQL at " + settings.display + " within " +
                                          std::to_string(settings.connect_timeout.count()) + " ms");
    pollfd fd{PQsocket(conn), static_cast<short>(status == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0};
    if (::poll(&fd, 1, static_cast<int>(left)) > 0) status = PQconnectPoll(conn);
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string why = trimmed(PQerrorMessage(conn));
    bool auth = why.find("password authentication failed") != std::string::npos ||
                why.find("no password supplied") != std::string::npos;
    return fail(auth ? ErrorCode::auth_failed : ErrorCode::unavailable,
                "cannot connect to PostgreSQL at " + settings.display + ": " + why);
  }
  // Server NOTICEs ("relation already exists, skipping") are not the
  // caller's business: libpq would print them to stderr.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  if (settings.statement_timeout.count() > 0) {
    auto set = connection->exec("SET statement_timeout = " + std::to_string(settings.statement_timeout.count()));
    if (!set) return sdk::fail(set.error());
  }
  return connection;
}

Connection::~Connection() { PQfinish(conn_); }

bool Connection::idle_and_alive() {
  if (!healthy()) return false;
  // An idle connection that does not LISTEN has nothing to read. Anything
  // readable is the server's goodbye (restart, pg_terminate_backend) or,
  // rarely, a parameter change: either way, cheaper to reconnect than to
  // risk a call on it. (Over SSL, libpq only notices the close on a later read.)
  pollfd fd{PQsocket(conn_), POLLIN, 0};
  return ::poll(&fd, 1, 0) == 0;
}

sdk::Result<PgResult> Connection::check(PGresult* raw, std::string_view what) {
  PgResult result(raw, &PQclear);
  ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_COPY_IN) return result;
  sdk::Error error = classify(conn_, result.get(), display_);
  // 25006: a write reached a server in recovery, i.e. the primary this
  // connection was opened to has been demoted by a failover.
  if (const char* state = result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
      state && std::string_view(state) == "25006")
    demoted_ = true;
  if (error.code == ErrorCode::internal) error.message = std::string(what) + ": " + error.message;
  return sdk::fail(std::move(error));
}

bool Connection::wait_readable(Clock::time_point deadline) {
  if (command_timeout_.count() == 0) return true;  // PQgetResult blocks as long as the server takes
  while (PQisBusy(conn_)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd fd{PQsocket(conn_), POLLIN, 0};
    int ready = ::poll(&fd, 1, static_cast<int>(left));
    if (ready < 0 && errno != EINTR) return true;          // PQgetResult reports the broken socket
    if (ready > 0 && !PQconsumeInput(conn_)) return true;  // the connection is lost: likewise
  }
  return true;
}

// A server that stops answering (a partition, a black-holed route, a hung
// host) would hold a blocking PQexec until TCP gives up, many minutes on.
// With command_timeout_ms the wait ends there and the connection is given
// up: the pool drops it (PQcancel is not tried: it would wait on the same
// silent server), the server rolls back what it had not committed when it
// notices, and the caller hears `timeout`, retryable, the outcome of a
// write unknown, as after a connection cut.
sdk::Result<PgResult> Connection::await(int sent, std::string_view what) {
  if (!sent) return check(nullptr, what);
  const auto deadline = Clock::now() + command_timeout_;
  PGresult* last = nullptr;  // as PQexec: the last result (an error ends the query)
  for (;;) {
    if (!wait_readable(deadline)) {
      if (last) PQclear(last);
      given_up_ = true;
      return fail(ErrorCode::timeout,
                  "PostgreSQL at " + display_ + " did not answer within command_timeout_ms (" +
                      std::to_string(command_timeout_.count()) + " ms) to " + std::string(what) +
                      ": the connection is given up, and a write's outcome is unknown");
    }
    PGresult* next = PQgetResult(conn_);
    if (!next) break;
    if (last) PQclear(last);
    last = next;
    auto status = PQresultStatus(last);
    if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT || PQstatus(conn_) == CONNECTION_BAD) break;
  }
  return check(last, what);
}

sdk::Result<PgResult> Connection::run(const Statement& statement, const std::vector<Param>& params) {
  if (auto ok = check_params(params); !ok) return sdk::fail(ok.error());
  if (!prepared_.contains(statement.name)) {
    auto prepared =
        await(PQsendPrepare(conn_, statement.name, statement.sql, static_cast<int>(params.size()), nullptr),
              statement.name);
    if (!prepared) return prepared;
    prepared_.insert(statement.name);
  }
  ParamArrays arrays(params);
  return await(PQsendQueryPrepared(conn_, statement.name, arrays.size(), arrays.values.data(),
                                   arrays.lengths.data(), arrays.formats.data(), binary_rows),
               statement.name);
}

sdk::Result<PgResult> Connection::exec(std::string_view sql) {
  return await(PQsendQuery(conn_, std::string(sql).c_str()), sql.substr(0, 40));
}

sdk::Result<PgResult> Connection::exec(std::string_view sql, const std::vector<Param>& params) {
  if (auto ok = check_params(params); !ok) return sdk::fail(ok.error());
  ParamArrays arrays(params);
  return await(
      PQsendQueryParams(conn_, std::string(sql).c_str(), arrays.size(), nullptr, arrays.values.data(),
                        arrays.lengths.data(), arrays.formats.data(), text_rows),
      sql.substr(0, 40));
}

sdk::Result<void> Connection::copy_in(std::string_view copy_sql, const std::string& data) {
  auto started = exec(copy_sql);
  if (!started) return sdk::fail(started.error());
  if (PQputCopyData(conn_, data.data(), static_cast<int>(data.size())) != 1 || PQputCopyEnd(conn_, nullptr) != 1)
    return sdk::fail(classify(conn_, nullptr, display_));
  // The COPY's own outcome (a foreign key violation shows up here).
  auto done = await(1, "COPY");
  if (!done) return sdk::fail(done.error());
  return {};
}

}  // namespace strata::postgres
