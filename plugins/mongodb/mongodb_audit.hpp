#pragma once
// Audit role on MongoDB: the seed's AuditLog and Metric collections.

#include "mongodb_connection.hpp"

namespace strata::mongodb {

/// Events in `auditlogs` and samples in `metrics`, shaped as the seed's
/// mongoose models, so the seed's services read them unchanged. Batches are
/// one unordered insert_many acknowledged per the write concern (journaled by
/// default); `_id` is the event's UUID, so a retried batch never duplicates.
class MongoAudit : public sdk::Audit {
 public:
  explicit MongoAudit(const sdk::PluginContext& context);
  /// See README.md.
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
  /// "<servers and database>/<events collection>" (SDK 1.9).
  sdk::Result<std::string> sink_identity() override;
  sdk::Result<sdk::DatabaseInfo> database_info() override { return client_.database_info(); }

 private:
  sdk::Result<void> ensure_indexes();
  sdk::Result<void> insert(const std::string& collection, std::vector<Bson>& documents, bool ignore_duplicates);

  Client client_;
  std::string events_;
  std::string metrics_;
  std::optional<std::int64_t> retention_days_;
};

}  // namespace strata::mongodb
