#include "postgres_replicas.hpp"

#include <libpq-fe.h>

#include <cstdio>

#include "postgres_rows.hpp"

namespace strata::postgres {
namespace {

using Clock = std::chrono::steady_clock;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// A replica's position is asked again at most this often while it is
// behind: under a steady write load each read would otherwise pay the question.
constexpr std::int64_t refresh_interval_ns = 1'000'000;  // 1 ms

// "host:port/dbname" of a conninfo, never its password.
std::string display_of(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (!options) {
    PQfreemem(error);
    return "a replica";
  }
  std::string host, port, dbname;
  for (auto* o = options; o->keyword; ++o) {
    std::string_view key = o->keyword;
    if (!o->val) continue;
    if (key == "host") host = o->val;
    else if (key == "port") port = o->val;
    else if (key == "dbname") dbname = o->val;
  }
  PQconninfoFree(options);
  return (host.empty() ? "localhost" : host) + ":" + (port.empty() ? "5432" : port) + (dbname.empty() ? "" : "/" + dbname);
}

Settings replica_settings(const Settings& base, const std::string& conninfo, const std::string& display) {
  Settings s = base;
  s.keywords = {{"dbname", conninfo}};
  for (const auto& [key, value] : base.keywords)
    if (key == "application_name" || key == "options") s.keywords.emplace_back(key, value);
  s.expand_conninfo = true;
  s.display = display;
  return s;
}

}  // namespace

Lsn parse_lsn(const char* text) {
  unsigned high = 0, low = 0;
  if (!text || std::sscanf(text, "%X/%X", &high, &low) != 2) return 0;
  return (static_cast<Lsn>(high) << 32) | low;
}

ReplicaSet::ReplicaSet(Pool& primary, const std::vector<std::string>& conninfos, std::chrono::milliseconds retry,
                       sdk::Logger log)
    : primary_(primary), retry_(retry), log_(std::move(log)) {
  const Settings& base = primary.settings();
  for (const auto& conninfo : conninfos) {
    auto name = display_of(conninfo);
    replicas_.push_back(std::make_unique<Replica>(name, replica_settings(base, conninfo, name)));
  }
}

void ReplicaSet::wrote(Lsn lsn) noexcept {
  Lsn seen = written_.load(std::memory_order_relaxed);
  while (lsn > seen && !written_.compare_exchange_weak(seen, lsn, std::memory_order_relaxed)) {
  }
}

void ReplicaSet::note_write(Connection& c) noexcept {
  // After the COMMIT, so the position covers it. A failure here only means
  // the next reads go to the primary: the position stays where it was.
  auto r = c.exec("SELECT pg_current_wal_lsn()");
  if (!r || PQntuples(r->get()) != 1) {
    position_unknown_ = true;  // the next read asks the primary where it is: never a guess
    return;
  }
  wrote(parse_lsn(PQgetvalue(r->get(), 0, 0)));
}

sdk::Result<Lsn> ReplicaSet::primary_position() {
  return primary_.run<Lsn>(Repeatable::yes, [](Connection& c) -> sdk::Result<Lsn> {
    auto r = c.exec("SELECT pg_current_wal_lsn()");
    if (!r) return sdk::fail(r.error());
    return parse_lsn(PQgetvalue(r->get(), 0, 0));
  });
}

bool ReplicaSet::refresh(Replica& replica) {
  replica.refreshed_ns = now_ns();
  position_checks_.fetch_add(1, std::memory_order_relaxed);
  auto lsn = replica.pool.run<Lsn>(Repeatable::yes, [](Connection& c) -> sdk::Result<Lsn> {
    auto r = c.exec("SELECT pg_last_wal_replay_lsn()");
    if (!r) return sdk::fail(r.error());
    if (PQgetisnull(r->get(), 0, 0))
      return sdk::fail(sdk::ErrorCode::unavailable, "not a standby (promoted?): reads stay on the primary");
    return parse_lsn(PQgetvalue(r->get(), 0, 0));
  });
  if (!lsn) {
    failed(replica, lsn.error());
    return false;
  }
  Lsn seen = replica.replayed.load();
  while (*lsn > seen && !replica.replayed.compare_exchange_weak(seen, *lsn)) {
  }
  if (replica.down_until_ns.exchange(0) != 0)
    log_(sdk::LogLevel::info, "postgres replica " + replica.name + " answers again: reads may go to it");
  return true;
}

Replica* ReplicaSet::pick() {
  if (position_unknown_.exchange(false)) {
    auto head = primary_position();
    if (!head) {
      position_unknown_ = true;
      primary_reads_.fetch_add(1, std::memory_order_relaxed);
      return nullptr;
    }
    wrote(*head);
  }
  const Lsn needed = written_.load(std::memory_order_relaxed);
  const std::size_t n = replicas_.size();
  const std::size_t first = next_.fetch_add(1, std::memory_order_relaxed);
  for (std::size_t i = 0; i < n; ++i) {
    Replica& r = *replicas_[(first + i) % n];
    if (auto down = r.down_until_ns.load(); down != 0) {
      // Re-admitted only by a probe that answers; one reader probes (it
      // moves the deadline on first), the others keep skipping the replica.
      const auto now = now_ns();
      if (now < down) continue;
      const auto next = now + std::chrono::duration_cast<std::chrono::nanoseconds>(retry_).count();
      if (!r.down_until_ns.compare_exchange_strong(down, next) || !refresh(r)) continue;
    }
    if (r.replayed.load() >= needed) return &r;
    if (now_ns() - r.refreshed_ns.load() >= refresh_interval_ns && refresh(r) && r.replayed.load() >= needed)
      return &r;
  }
  primary_reads_.fetch_add(1, std::memory_order_relaxed);
  return nullptr;
}

void ReplicaSet::failed(Replica& replica, const sdk::Error& error) {
  auto until = now_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(retry_).count();
  if (replica.down_until_ns.exchange(until) == 0)
    log_(sdk::LogLevel::warning, "postgres replica " + replica.name + " skipped for " +
                                     std::to_string(retry_.count()) + " ms: " + error.message);
}

std::vector<sdk::Metric> ReplicaSet::gauges() {
  std::vector<sdk::Metric> out;
  auto now = sdk::Timestamp::now();
  auto metric = [&](std::string name, double value, std::map<std::string, std::string> labels) {
    out.push_back(sdk::Metric{now, std::move(name), value, std::move(labels)});
  };
  auto head = primary_position();
  for (auto& r : replicas_) {
    std::map<std::string, std::string> labels{{"replica", r->name}};
    // The replica's own view: how far it has replayed, and the age of the last transaction it replayed.
    auto seen = r->pool.run<std::pair<Lsn, double>>(
        Repeatable::yes, [](Connection& c) -> sdk::Result<std::pair<Lsn, double>> {
          auto q = c.exec(
              "SELECT pg_last_wal_replay_lsn(), "
              "COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)");
          if (!q) return sdk::fail(q.error());
          if (PQgetisnull(q->get(), 0, 0)) return sdk::fail(sdk::ErrorCode::unavailable, "not a standby");
          return std::pair{parse_lsn(PQgetvalue(q->get(), 0, 0)), std::atof(PQgetvalue(q->get(), 0, 1))};
        });
    bool up = seen.has_value() && r->down_until_ns.load() == 0;
    metric("strata_postgres_replica_up", up ? 1 : 0, labels);
    if (seen && head) {
      metric("strata_postgres_replica_lag_bytes", *head > seen->first ? static_cast<double>(*head - seen->first) : 0,
             labels);
      // The replay timestamp ages while the primary is idle: lag in time only when bytes are behind.
      metric("strata_postgres_replica_lag_seconds", *head > seen->first ? seen->second : 0, labels);
    }
    metric("strata_postgres_replica_reads_total", static_cast<double>(r->reads.load()), labels);
    for (auto& g : sdk::connection_pool_metrics(r->pool.usage(), r->name)) out.push_back(std::move(g));
  }
  metric("strata_postgres_primary_fallback_reads_total", static_cast<double>(primary_reads_.load()), {});
  metric("strata_postgres_replica_position_checks_total", static_cast<double>(position_checks_.load()), {});
  return out;
}

}  // namespace strata::postgres
