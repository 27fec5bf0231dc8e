#pragma once
// Audit role as append-only JSON-lines files.

#include <mutex>
#include <unordered_set>

#include "file_audit_json_lines.hpp"
#include "strata/sdk/sdk.hpp"

namespace strata::file_audit {

/// One event per line with the seed's field names (_id, timestamp, userId,
/// ip, action, resource, status, metadata), metrics in a second file. Each
/// batch is one write, fsync'd before append returns (fsync = "every_batch").
/// Queries scan every file, newest first: fine at embedded scale, documented
/// as such; appends and opening do not. A torn or corrupt line (a crash mid-write) is skipped with a
/// warning, never fatal.
class FileAudit : public sdk::Audit {
 public:
  explicit FileAudit(const sdk::PluginContext& context);
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
  /// "file:" and the events file's absolute path, links resolved (SDK 1.9).
  sdk::Result<std::string> sink_identity() override;

 private:
  sdk::Result<std::map<std::string, std::uint64_t>> line_counts();
  struct Settings {
    std::filesystem::path path, metrics_path;
    std::uintmax_t rotate_bytes;
    int keep;
    bool fsync_every_batch;
    bool refuse_unbacked_rotation;
  };
  static Settings read_settings(const sdk::ConfigView& config);
  FileAudit(const sdk::PluginContext& context, const Settings& settings);
  sdk::Result<std::vector<sdk::AuditEvent>> matching(const sdk::AuditQuery& query);
  // Before rotation deletes the oldest events file: says (or refuses, with
  // unbacked_rotation = "refuse") when it holds events no backup holds.
  sdk::Result<void> before_drop(const std::filesystem::path& file, std::uintmax_t backed_up_bytes, bool refuse);

  sdk::Logger log_;
  std::mutex mutex_;
  JsonLines events_;
  JsonLines metrics_;
  // Ids this instance wrote, and once an event older than the instance comes
  // (a spool replay, a batch retried by another process), every id on disk:
  // a retried batch never duplicates, and opening never reads the history
  // (every CLI command once paid a scan of the whole log).
  sdk::Result<void> load_ids_on_disk();
  std::unordered_set<sdk::Uuid> ids_;
  // An event stamped no later than this may already be on disk: the later
  // of the host's clock at opening and the newest timestamp near the file's
  // end (newest_recent_timestamp), so that a clock stepped back since, or
  // another process's clock running ahead, does not hide a stored event.
  sdk::Timestamp opened_at_;
  bool all_ids_loaded_ = false;
};

}  // namespace strata::file_audit
