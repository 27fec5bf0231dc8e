// The metrics registry and its Prometheus text rendering.

#include "strata/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace strata {
namespace {

static_assert(outcome_count == static_cast<std::size_t>(sdk::ErrorCode::key_destroyed) + 2,
              "one outcome per error code, the last one included, plus ok");

std::string_view outcome_name(std::size_t index) {
  if (index == 0) return "ok";
  return sdk::to_string(static_cast<sdk::ErrorCode>(index - 1));
}

// Label values escaped as the exposition format requires (\\, \", \n).
std::string escape(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string labels_text(const std::map<std::string, std::string>& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (const auto& [k, v] : labels) {
    if (out.size() > 1) out += ",";
    out += k + "=\"" + escape(v) + "\"";
  }
  return out + "}";
}

std::string number(double v) { return fmt::format("{}", v); }

std::string_view type_name(MetricFamilySnapshot::Type type) {
  switch (type) {
    case MetricFamilySnapshot::Type::counter: return "counter";
    case MetricFamilySnapshot::Type::gauge: return "gauge";
    case MetricFamilySnapshot::Type::histogram: return "histogram";
  }
  return "untyped";
}

MetricFamilySnapshot::Series counter_series(std::map<std::string, std::string> labels, std::uint64_t value) {
  MetricFamilySnapshot::Series s;
  s.labels = std::move(labels);
  s.value = static_cast<double>(value);
  return s;
}

// A histogram series rendered at `bounds` (each one of OperationStats::bucket_bounds)
// from per-bucket counts over all of OperationStats::bucket_bounds.
template <std::size_t N>
MetricFamilySnapshot::Series histogram_series(
    std::map<std::string, std::string> labels,
    const std::array<std::uint64_t, OperationStats::bucket_bounds.size() + 1>& counts,
    const std::array<double, N>& bounds, std::uint64_t ns) {
  MetricFamilySnapshot::Series s;
  s.labels = std::move(labels);
  std::uint64_t running = 0;
  std::size_t b = 0;
  for (double bound : bounds) {
    for (; b < OperationStats::bucket_bounds.size() && OperationStats::bucket_bounds[b] <= bound; ++b) running += counts[b];
    s.buckets.emplace_back(bound, running);
  }
  for (; b < counts.size(); ++b) running += counts[b];
  s.buckets.emplace_back(std::numeric_limits<double>::infinity(), running);
  s.count = running;
  s.sum = static_cast<double>(ns) / 1e9;
  return s;
}

constexpr std::string_view calls_name = "strata_plugin_calls_total";
constexpr std::string_view seconds_name = "strata_plugin_call_duration_seconds";
// db.client.operation.duration (unit s) as the OpenTelemetry-to-Prometheus rules render it.
constexpr std::string_view convention_name = "db_client_operation_duration_seconds";

}  // namespace

void OperationStats::record(std::chrono::nanoseconds elapsed, std::optional<sdk::ErrorCode> error) noexcept {
  std::size_t outcome = error ? static_cast<std::size_t>(*error) + 1 : 0;
  if (outcome >= outcome_count) outcome = static_cast<std::size_t>(sdk::ErrorCode::internal) + 1;
  double seconds = std::chrono::duration<double>(elapsed).count();
  std::size_t bucket = static_cast<std::size_t>(
      std::lower_bound(bucket_bounds.begin(), bucket_bounds.end(), seconds) - bucket_bounds.begin());
  buckets_[outcome][bucket].fetch_add(1, std::memory_order_relaxed);
  ns_[outcome].fetch_add(static_cast<std::uint64_t>(elapsed.count()), std::memory_order_relaxed);
}

std::uint64_t OperationStats::calls(std::size_t outcome) const noexcept {
  std::uint64_t n = 0;
  for (const auto& b : buckets_[outcome]) n += b.load(std::memory_order_relaxed);
  return n;
}

std::uint64_t OperationStats::nanoseconds() const noexcept {
  std::uint64_t n = 0;
  for (const auto& t : ns_) n += t.load(std::memory_order_relaxed);
  return n;
}

OperationStats& Metrics::operation(std::string_view role, std::string_view instance, std::string_view operation) {
  std::string key = std::string(role) + '\0' + std::string(instance) + '\0' + std::string(operation);
  std::lock_guard lock(mutex_);
  auto& slot = operations_[key];
  if (!slot)
    slot = std::make_unique<OperationStats>(std::string(role), std::string(instance), std::string(operation));
  return *slot;
}

Counter& Metrics::counter(const std::string& name, const std::string& help,
                          const std::map<std::string, std::string>& labels) {
  std::lock_guard lock(mutex_);
  auto& family = counters_[name];
  if (family.help.empty()) family.help = help;
  auto& slot = family.series[labels];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

void Metrics::describe_database(std::string_view role, std::string_view instance, sdk::DatabaseInfo database) {
  std::lock_guard lock(mutex_);
  databases_[std::string(role) + '\0' + std::string(instance)] = std::move(database);
}

std::vector<MetricFamilySnapshot> Metrics::snapshot() const {
  using Family = MetricFamilySnapshot;
  std::lock_guard lock(mutex_);
  std::vector<Family> out;
  Family calls{std::string(calls_name), "Plugin calls by role, instance, operation and outcome.", Family::Type::counter,
               {}};
  for (const auto& [key, op] : operations_)
    for (std::size_t i = 0; i < outcome_count; ++i)
      if (auto n = op->calls(i))
        calls.series.push_back(counter_series({{"role", op->role_},
                                               {"instance", op->instance_},
                                               {"operation", op->operation_},
                                               {"outcome", std::string(outcome_name(i))}},
                                              n));
  out.push_back(std::move(calls));

  Family seconds{std::string(seconds_name), "Plugin call latency.", Family::Type::histogram, {}};
  for (const auto& [key, op] : operations_) {
    std::array<std::uint64_t, OperationStats::bucket_bounds.size() + 1> merged{};
    for (std::size_t i = 0; i < outcome_count; ++i)
      for (std::size_t b = 0; b < merged.size(); ++b) merged[b] += op->buckets_[i][b].load(std::memory_order_relaxed);
    auto s = histogram_series({{"role", op->role_}, {"instance", op->instance_}, {"operation", op->operation_}},
                              merged, OperationStats::strata_bucket_bounds, op->nanoseconds());
    if (s.count > 0) seconds.series.push_back(std::move(s));
  }
  out.push_back(std::move(seconds));

  // The OpenTelemetry database convention's histogram, per outcome (error.type
  // on failures only), for the instances whose plugin named its database.
  Family convention{std::string(convention_name), "Duration of database client operations (plugin calls).",
                    Family::Type::histogram, {}};
  for (const auto& [key, op] : operations_) {
    auto database = databases_.find(op->role_ + '\0' + op->instance_);
    if (database == databases_.end()) continue;
    const auto& db = database->second;
    for (std::size_t i = 0; i < outcome_count; ++i) {
      std::map<std::string, std::string> labels{{"db_system_name", db.system},
                                                {"db_operation_name", op->operation_},
                                                {"strata_role", op->role_},
                                                {"strata_instance", op->instance_}};
      if (!db.namespace_name.empty()) labels["db_namespace"] = db.namespace_name;
      if (!db.server_address.empty()) labels["server_address"] = db.server_address;
      if (db.server_port != 0) labels["server_port"] = std::to_string(db.server_port);
      if (i != 0) labels["error_type"] = std::string(outcome_name(i));
      std::array<std::uint64_t, OperationStats::bucket_bounds.size() + 1> counts{};
      for (std::size_t b = 0; b < counts.size(); ++b) counts[b] = op->buckets_[i][b].load(std::memory_order_relaxed);
      auto s = histogram_series(std::move(labels), counts, OperationStats::convention_bucket_bounds,
                                op->ns_[i].load(std::memory_order_relaxed));
      if (s.count > 0) convention.series.push_back(std::move(s));
    }
  }
  out.push_back(std::move(convention));

  for (const auto& [name, family] : counters_) {
    Family f{name, family.help, Family::Type::counter, {}};
    for (const auto& [labels, counter] : family.series)
      f.series.push_back(counter_series(labels, counter->value()));
    out.push_back(std::move(f));
  }
  return out;
}

std::string Metrics::prometheus() const {
  std::string out;
  for (const auto& family : snapshot()) {
    if (family.series.empty()) continue;
    const bool histogram = family.type == MetricFamilySnapshot::Type::histogram;
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", family.name, family.help, family.name, type_name(family.type));
    for (const auto& s : family.series) {
      if (!histogram) {
        out += fmt::format("{}{} {}\n", family.name, labels_text(s.labels), number(s.value));
        continue;
      }
      for (const auto& [bound, cumulative] : s.buckets) {
        auto with_le = s.labels;
        with_le["le"] = std::isinf(bound) ? "+Inf" : number(bound);
        out += fmt::format("{}_bucket{} {}\n", family.name, labels_text(with_le), cumulative);
      }
      out += fmt::format("{}_sum{} {}\n", family.name, labels_text(s.labels), number(s.sum));
      out += fmt::format("{}_count{} {}\n", family.name, labels_text(s.labels), s.count);
    }
  }
  return out;
}

std::vector<sdk::Metric> Metrics::drain(sdk::Timestamp now) {
  std::lock_guard drain_lock(drain_mutex_);
  std::vector<sdk::Metric> out = std::move(pending_);
  pending_.clear();
  std::lock_guard lock(mutex_);
  for (auto& [key, op] : operations_) {
    std::map<std::string, std::string> labels{
        {"role", op->role_}, {"instance", op->instance_}, {"operation", op->operation_}};
    for (std::size_t i = 0; i < outcome_count; ++i) {
      std::uint64_t n = op->calls(i);
      if (n == op->drained_outcomes_[i]) continue;
      auto with_outcome = labels;
      with_outcome["outcome"] = std::string(outcome_name(i));
      out.push_back(sdk::Metric{now, std::string(calls_name), static_cast<double>(n - op->drained_outcomes_[i]),
                                std::move(with_outcome)});
      op->drained_outcomes_[i] = n;
    }
    std::uint64_t ns = op->nanoseconds();
    if (ns != op->drained_ns_) {
      out.push_back(sdk::Metric{now, std::string(seconds_name) + "_sum",
                                static_cast<double>(ns - op->drained_ns_) / 1e9, labels});
      op->drained_ns_ = ns;
    }
  }
  for (auto& [name, family] : counters_)
    for (auto& [labels, counter] : family.series) {
      std::uint64_t n = counter->value();
      if (n == counter->drained_) continue;
      out.push_back(sdk::Metric{now, name, static_cast<double>(n - counter->drained_), labels});
      counter->drained_ = n;
    }
  return out;
}

void Metrics::undrain(std::vector<sdk::Metric> records) {
  std::lock_guard lock(drain_mutex_);
  pending_.insert(pending_.begin(), std::make_move_iterator(records.begin()), std::make_move_iterator(records.end()));
}

std::string prometheus_from_records(const std::vector<sdk::Metric>& records) {
  std::map<std::string, std::map<std::map<std::string, std::string>, double>> sums;
  for (const auto& r : records) sums[r.name][r.labels] += r.value;
  std::string out;
  for (const auto& [name, series] : sums) {
    bool is_sum = name.ends_with("_sum");
    out += fmt::format("# TYPE {} {}\n", name, is_sum ? "untyped" : "counter");
    for (const auto& [labels, value] : series) out += fmt::format("{}{} {}\n", name, labels_text(labels), number(value));
  }
  return out;
}

}  // namespace strata
