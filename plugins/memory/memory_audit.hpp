#pragma once
// Audit role in memory: events and metrics in vectors, queried by scanning.

#include <mutex>
#include <unordered_set>
#include <vector>

#include "strata/sdk/sdk.hpp"

namespace strata::memory {

/// Append-only events and metrics. Validates events as the MongoDB sink does
/// (ip, action and resource required) and skips ids already appended.
class MemoryAudit : public sdk::Audit {
 public:
  explicit MemoryAudit(const sdk::PluginContext& context);
  /// No keys.
  static sdk::ConfigSchema config_schema();

  sdk::Result<void> health() override;
  sdk::Result<void> append(std::span<const sdk::AuditEvent> events) override;
  sdk::Result<void> append_metrics(std::span<const sdk::Metric> metrics) override;
  sdk::Result<std::vector<sdk::AuditEvent>> query(const sdk::AuditQuery& query) override;
  sdk::Result<std::uint64_t> count(const sdk::AuditQuery& query) override;
  sdk::Result<std::vector<sdk::Metric>> query_metrics(const sdk::MetricQuery& query) override;

  sdk::Result<sdk::BackupReport> backup(const std::filesystem::path& dir) override;
  sdk::Result<sdk::BackupReport> restore(const std::filesystem::path& dir) override;
  sdk::Result<bool> has_data() override;
  /// "memory" (SDK 1.9): every process's memory sink counts as one sink, the
  /// outbox's events for it are relayed by whichever process has one.
  sdk::Result<std::string> sink_identity() override { return std::string("memory"); }
  sdk::Result<void> check_restore(const std::filesystem::path& dir) override;
 private:
  std::vector<const sdk::AuditEvent*> matching(const sdk::AuditQuery& query) const;

  std::mutex mutex_;
  std::vector<sdk::AuditEvent> events_;
  std::unordered_set<sdk::Uuid> event_ids_;
  std::vector<sdk::Metric> metrics_;
};

}  // namespace strata::memory
