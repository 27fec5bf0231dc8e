// The metrics registry and its Prometheus text rendering.

#include "strata/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>

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

constexpr std::string_view calls_name = "strata_plugin_calls_total";
constexpr std::string_view seconds_name = "strata_plugin_call_duration_seconds";

}  // namespace

void OperationStats::record(std::chrono::nanoseconds elapsed, std::optional<sdk::ErrorCode> error) noexcept {
  std::size_t outcome = error ? static_cast<std::size_t>(*error) + 1 : 0;
  if (outcome >= outcome_count) outcome = static_cast<std::size_t>(sdk::ErrorCode::internal) + 1;
  outcomes_[outcome].fetch_add(1, std::memory_order_relaxed);
  double seconds = std::chrono::duration<double>(elapsed).count();
  std::size_t bucket = static_cast<std::size_t>(
      std::lower_bound(bucket_bounds.begin(), bucket_bounds.end(), seconds) - bucket_bounds.begin());
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  total_ns_.fetch_add(static_cast<std::uint64_t>(elapsed.count()), std::memory_order_relaxed);
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

std::string Metrics::prometheus() const {
  std::lock_guard lock(mutex_);
  std::string out;
  out += fmt::format("# HELP {} Plugin calls by role, instance, operation and outcome.\n# TYPE {} counter\n",
                     calls_name, calls_name);
  for (const auto& [key, op] : operations_)
    for (std::size_t i = 0; i < outcome_count; ++i)
      if (auto n = op->outcomes_[i].load(std::memory_order_relaxed))
        out += fmt::format("{}{} {}\n", calls_name,
                           labels_text({{"role", op->role_}, {"instance", op->instance_},
                                        {"operation", op->operation_}, {"outcome", std::string(outcome_name(i))}}),
                           n);
  out += fmt::format("# HELP {} Plugin call latency.\n# TYPE {} histogram\n", seconds_name, seconds_name);
  for (const auto& [key, op] : operations_) {
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < op->buckets_.size(); ++b) cumulative += op->buckets_[b].load(std::memory_order_relaxed);
    if (cumulative == 0) continue;
    std::map<std::string, std::string> labels{
        {"role", op->role_}, {"instance", op->instance_}, {"operation", op->operation_}};
    std::uint64_t running = 0;
    for (std::size_t b = 0; b < op->buckets_.size(); ++b) {
      running += op->buckets_[b].load(std::memory_order_relaxed);
      auto with_le = labels;
      with_le["le"] = b < OperationStats::bucket_bounds.size() ? number(OperationStats::bucket_bounds[b]) : "+Inf";
      out += fmt::format("{}_bucket{} {}\n", seconds_name, labels_text(with_le), running);
    }
    out += fmt::format("{}_sum{} {}\n", seconds_name, labels_text(labels),
                       number(static_cast<double>(op->total_ns_.load(std::memory_order_relaxed)) / 1e9));
    out += fmt::format("{}_count{} {}\n", seconds_name, labels_text(labels), running);
  }
  for (const auto& [name, family] : counters_) {
    out += fmt::format("# HELP {} {}\n# TYPE {} counter\n", name, family.help, name);
    for (const auto& [labels, counter] : family.series)
      out += fmt::format("{}{} {}\n", name, labels_text(labels), counter->value());
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
      std::uint64_t n = op->outcomes_[i].load(std::memory_order_relaxed);
      if (n == op->drained_outcomes_[i]) continue;
      auto with_outcome = labels;
      with_outcome["outcome"] = std::string(outcome_name(i));
      out.push_back(sdk::Metric{now, std::string(calls_name), static_cast<double>(n - op->drained_outcomes_[i]),
                                std::move(with_outcome)});
      op->drained_outcomes_[i] = n;
    }
    std::uint64_t ns = op->total_ns_.load(std::memory_order_relaxed);
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
