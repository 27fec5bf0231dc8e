#pragma once
// Metrics: every plugin call counted and timed by role, instance, operation
// and outcome, plus the services' own counters. Printed in the Prometheus
// text format, and drained as the seed's Metric records (deltas since the
// last drain) so that they can be written through the audit role.

#include "strata/export.hpp"
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "strata/sdk/audit.hpp"
#include "strata/sdk/database_info.hpp"
#include "strata/sdk/error.hpp"
#include "strata/sdk/timestamp.hpp"

namespace strata {

/// The outcome label of a call: "ok" or an error code's name.
inline constexpr std::size_t outcome_count = 11;  // ok + the ten ErrorCodes

/// Latency histograms of one (role, instance, operation), one per outcome.
/// Lock-free: recording is two relaxed atomic adds.
class STRATA_API OperationStats {
 public:
  /// Upper bounds of the buckets, in seconds: Strata's own histogram's
  /// (strata_bucket_bounds) and the OpenTelemetry database convention's
  /// (convention_bucket_bounds) together, so both are rendered exactly from one.
  static constexpr std::array<double, 16> bucket_bounds = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                           0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
                                                           0.5,     1.0,    5.0,     10.0};
  /// strata_plugin_call_duration_seconds's bounds (Prometheus `le`).
  static constexpr std::array<double, 14> strata_bucket_bounds = {
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0};
  /// db.client.operation.duration's, as the OpenTelemetry database semantic conventions list them.
  static constexpr std::array<double, 9> convention_bucket_bounds = {0.001, 0.005, 0.01, 0.05, 0.1,
                                                                     0.5,   1.0,   5.0,  10.0};

  OperationStats(std::string role, std::string instance, std::string operation)
      : role_(std::move(role)), instance_(std::move(instance)), operation_(std::move(operation)) {}

  /// Records one call: its duration and its error code (none: success).
  void record(std::chrono::nanoseconds elapsed, std::optional<sdk::ErrorCode> error) noexcept;

  const std::string& role() const { return role_; }
  const std::string& instance() const { return instance_; }
  const std::string& operation() const { return operation_; }

 private:
  friend class Metrics;
  using Buckets = std::array<std::atomic<std::uint64_t>, bucket_bounds.size() + 1>;  // last: +Inf
  std::uint64_t calls(std::size_t outcome) const noexcept;
  std::uint64_t nanoseconds() const noexcept;

  std::string role_, instance_, operation_;
  std::array<Buckets, outcome_count> buckets_{};              // per outcome: calls per bucket
  std::array<std::atomic<std::uint64_t>, outcome_count> ns_{};  // per outcome: time spent
  // What the last drain saw, to emit deltas (guarded by Metrics::drain_mutex_).
  std::array<std::uint64_t, outcome_count> drained_outcomes_{};
  std::uint64_t drained_ns_ = 0;
};

/// A monotonically increasing counter with fixed labels.
class STRATA_API Counter {
 public:
  void add(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  friend class Metrics;
  std::atomic<std::uint64_t> value_{0};
  std::uint64_t drained_ = 0;
};

/// One family of series as the registry holds it now (Metrics::snapshot):
/// what both the text rendering and the /metrics endpoint are made from.
struct MetricFamilySnapshot {
  enum class Type { counter, gauge, histogram };
  struct Series {
    std::map<std::string, std::string> labels;
    double value = 0;  ///< a counter's or a gauge's value
    /// A histogram's cumulative count at each upper bound (the last +Inf), its sum and count.
    std::vector<std::pair<double, std::uint64_t>> buckets;
    double sum = 0;
    std::uint64_t count = 0;
  };
  std::string name;
  std::string help;
  Type type = Type::counter;
  std::vector<Series> series;
};

/// The registry. Operations and counters are created once and live as long
/// as the registry; callers keep references to them.
class STRATA_API Metrics {
 public:
  /// The stats of one plugin operation (created on first use).
  OperationStats& operation(std::string_view role, std::string_view instance, std::string_view operation);
  /// A counter `name` with `labels` (created on first use); `help` describes the family.
  Counter& counter(const std::string& name, const std::string& help,
                   const std::map<std::string, std::string>& labels = {});

  /// Names the database behind a role instance (Storage::database_info &c.):
  /// its calls are then also rendered as the OpenTelemetry convention's
  /// db_client_operation_duration_seconds, labelled with it.
  void describe_database(std::string_view role, std::string_view instance, sdk::DatabaseInfo database);

  /// Everything in the Prometheus text exposition format (version 0.0.4).
  /// Series that never counted anything are left out.
  std::string prometheus() const;
  /// The same, as families (series that never counted anything left out).
  std::vector<MetricFamilySnapshot> snapshot() const;

  /// What changed since the last drain, as Metric records stamped `now`:
  /// strata_plugin_calls_total and strata_plugin_call_duration_seconds_sum per
  /// operation and outcome, and each counter. Nothing for what did not change.
  std::vector<sdk::Metric> drain(sdk::Timestamp now);
  /// Puts drained records back, for when writing them failed (they go out with the next drain).
  void undrain(std::vector<sdk::Metric> records);

 private:
  struct CounterFamily {
    std::string help;
    std::map<std::map<std::string, std::string>, std::unique_ptr<Counter>> series;
  };
  mutable std::mutex mutex_;  // guards the maps, not the values
  std::map<std::string, std::unique_ptr<OperationStats>> operations_;  // key: role\0instance\0operation
  std::map<std::string, CounterFamily> counters_;
  std::map<std::string, sdk::DatabaseInfo> databases_;  // key: role\0instance
  std::mutex drain_mutex_;
  std::vector<sdk::Metric> pending_;  // undrained records
};

/// Sums stored Metric records by name and labels and prints them as
/// Prometheus counters: what `strata metrics` shows from the audit sink.
STRATA_API std::string prometheus_from_records(const std::vector<sdk::Metric>& records);

}  // namespace strata
