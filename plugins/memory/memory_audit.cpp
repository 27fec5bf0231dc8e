#include "memory_audit.hpp"

#include "memory_backup.hpp"
#include <algorithm>

namespace strata::memory {
namespace {

using sdk::ErrorCode;
using sdk::fail;

bool in_range(sdk::Timestamp t, const std::optional<sdk::Timestamp>& from,
              const std::optional<sdk::Timestamp>& to) {
  return (!from || t >= *from) && (!to || t < *to);
}

}  // namespace

MemoryAudit::MemoryAudit(const sdk::PluginContext&) {}

sdk::ConfigSchema MemoryAudit::config_schema() { return {}; }

sdk::Result<void> MemoryAudit::health() { return {}; }

sdk::Result<void> MemoryAudit::append(std::span<const sdk::AuditEvent> events) {
  for (const auto& e : events)
    if (auto ok = sdk::validate(e); !ok) return ok;  // nothing appended from a bad batch
  std::lock_guard lock(mutex_);
  for (const auto& e : events)
    if (event_ids_.insert(e.id).second) events_.push_back(e);
  return {};
}

sdk::Result<void> MemoryAudit::append_metrics(std::span<const sdk::Metric> metrics) {
  for (const auto& m : metrics)
    if (m.name.empty()) return fail(ErrorCode::invalid_argument, "a metric needs a name");
  std::lock_guard lock(mutex_);
  metrics_.insert(metrics_.end(), metrics.begin(), metrics.end());
  return {};
}

std::vector<const sdk::AuditEvent*> MemoryAudit::matching(const sdk::AuditQuery& q) const {
  std::vector<const sdk::AuditEvent*> out;
  for (const auto& e : events_) {
    if (!in_range(e.timestamp, q.from, q.to)) continue;
    if (q.user_id && e.user_id != q.user_id) continue;
    if (q.action && e.action != *q.action) continue;
    if (q.status && e.status != *q.status) continue;
    out.push_back(&e);
  }
  return out;
}

sdk::Result<std::vector<sdk::AuditEvent>> MemoryAudit::query(const sdk::AuditQuery& q) {
  std::lock_guard lock(mutex_);
  auto found = matching(q);
  std::sort(found.begin(), found.end(), [](const auto* a, const auto* b) {
    return std::tie(a->timestamp, a->id) > std::tie(b->timestamp, b->id);
  });
  std::vector<sdk::AuditEvent> out;
  for (std::size_t i = 0; i < found.size() && i < q.limit; ++i) out.push_back(*found[i]);
  return out;
}

sdk::Result<std::uint64_t> MemoryAudit::count(const sdk::AuditQuery& q) {
  std::lock_guard lock(mutex_);
  return static_cast<std::uint64_t>(matching(q).size());
}

sdk::Result<std::vector<sdk::Metric>> MemoryAudit::query_metrics(const sdk::MetricQuery& q) {
  std::lock_guard lock(mutex_);
  std::vector<sdk::Metric> out;
  for (const auto& m : metrics_)
    if ((!q.name || m.name == *q.name) && in_range(m.timestamp, q.from, q.to)) out.push_back(m);
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.timestamp > b.timestamp; });
  if (out.size() > q.limit) out.resize(q.limit);
  return out;
}

// ---- snapshot (SDK 1.2) ----------------------------------------------------

sdk::Result<sdk::BackupReport> MemoryAudit::backup(const std::filesystem::path& dir) {
  std::lock_guard lock(mutex_);
  nlohmann::json events = nlohmann::json::array(), metrics = nlohmann::json::array();
  for (const auto& e : events_) events.push_back(to_json(e));
  for (const auto& m : metrics_) metrics.push_back(to_json(m));
  return write_snapshot(dir, {{"events", events}, {"metrics", metrics}},
                        {{"events", events_.size()}, {"metrics", metrics_.size()}});
}

namespace {

struct AuditSnapshot {
  std::vector<sdk::AuditEvent> events;
  std::vector<sdk::Metric> metrics;
};

sdk::Result<AuditSnapshot> read_audit_snapshot(const std::filesystem::path& dir) {
  auto snapshot = read_snapshot(dir);
  if (!snapshot) return sdk::fail(snapshot.error());
  AuditSnapshot out;
  try {
    for (const auto& j : snapshot->at("events")) out.events.push_back(event_from(j));
    for (const auto& j : snapshot->at("metrics")) out.metrics.push_back(metric_from(j));
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorCode::invalid_argument, "the audit snapshot is malformed: " + std::string(e.what()));
  }
  return out;
}

}  // namespace

sdk::Result<void> MemoryAudit::check_restore(const std::filesystem::path& dir) {
  auto readable = read_audit_snapshot(dir);
  if (!readable) return sdk::fail(readable.error());
  return {};
}

sdk::Result<sdk::BackupReport> MemoryAudit::restore(const std::filesystem::path& dir) {
  auto snapshot = read_audit_snapshot(dir);
  if (!snapshot) return sdk::fail(snapshot.error());
  auto& [events, metrics] = *snapshot;
  std::lock_guard lock(mutex_);
  events_ = std::move(events);
  metrics_ = std::move(metrics);
  event_ids_.clear();
  for (const auto& e : events_) event_ids_.insert(e.id);
  return sdk::BackupReport{{}, {{"events", events_.size()}, {"metrics", metrics_.size()}}, ""};
}

sdk::Result<bool> MemoryAudit::has_data() {
  std::lock_guard lock(mutex_);
  return !events_.empty() || !metrics_.empty();
}

}  // namespace strata::memory
