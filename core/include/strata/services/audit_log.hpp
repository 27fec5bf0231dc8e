#pragma once
// AuditLog: the services' audit pipeline. Events go into a bounded queue; a
// background flusher appends them to the audit role in batches. When the
// sink fails, [audit].on_failure decides:
//   block  record() appends synchronously and returns the sink's error, so
//          the audited operation fails (fail closed);
//   spool  (default) the batch is appended to an fsync'd local file, and the
//          file is replayed in order, before anything newer, once the sink
//          answers again; event ids make a replay after a crash idempotent;
//   drop   the batch is dropped and counted.
// Destruction flushes what is queued.

#include "strata/export.hpp"
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "strata/metrics.hpp"
#include "strata/sdk/audit.hpp"
#include "strata/sdk/clock.hpp"
#include "strata/sdk/log.hpp"
#include "strata/settings.hpp"

namespace strata {

/// Where a request came from, for the audit trail.
struct Origin {
  std::string ip = "local";  ///< the client's address; "local" for the CLI
};

/// One event to record; the pipeline adds the id and the time.
struct AuditRecord {
  std::optional<sdk::Uuid> user_id;
  std::string action;    ///< e.g. "user.login"
  std::string resource;  ///< e.g. "user:<id>"
  sdk::AuditStatus status = sdk::AuditStatus::success;
  nlohmann::json metadata = nlohmann::json::object();  ///< never secrets: no passwords, tokens or plaintext
};

class STRATA_API AuditLog {
 public:
  /// `sink` may be null (no [audit] in the config): events are then counted as dropped.
  AuditLog(std::shared_ptr<sdk::Audit> sink, AuditLogSettings settings, std::shared_ptr<const sdk::Clock> clock,
           std::shared_ptr<Metrics> metrics, sdk::Logger log);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  /// Records an event from `origin`. Under `block`, returns once the sink
  /// stored it, or the sink's error; otherwise returns at once (waiting only
  /// while the queue is full, under `spool`).
  sdk::Result<void> record(const AuditRecord& record, const Origin& origin);
  /// Waits until every event recorded so far was written, spooled or dropped.
  void flush();
  /// Tries to replay the spool now; the number of events replayed.
  sdk::Result<std::size_t> replay_spool();
  /// Events waiting in the spool file.
  std::size_t spooled() const;
  /// Whether the sink failed recently, in this process or another using the
  /// same spool: until the pause ends, nothing waits on it (events are
  /// spooled or dropped at once, metrics kept).
  bool sink_paused() const { return !sink_may_answer(); }
  const AuditLogSettings& settings() const { return settings_; }

 private:
  void run();
  void deliver(std::vector<sdk::AuditEvent>& batch);
  sdk::Result<void> append_to_spool(const std::vector<sdk::AuditEvent>& batch);
  sdk::Result<std::size_t> replay_locked();

  std::shared_ptr<sdk::Audit> sink_;
  AuditLogSettings settings_;
  std::shared_ptr<const sdk::Clock> clock_;
  std::shared_ptr<Metrics> metrics_;
  sdk::Logger log_;
  Counter &written_, &spooled_, &replayed_, &dropped_, &failed_;

  mutable std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::deque<sdk::AuditEvent> queue_;
  std::size_t in_flight_ = 0;  // taken by the flusher, not yet delivered
  std::size_t flush_waiters_ = 0;
  bool stopping_ = false;

  mutable std::mutex spool_mutex_;  // one spool writer/replayer in this process (flock across processes)
  std::atomic<std::size_t> spool_pending_{0};  // events in the spool file, as last seen
  // After a sink failure the flusher spools without asking the sink until
  // this time (system-clock microseconds), so a dead sink costs one timeout
  // a second, not one per batch. The pause is also written beside the spool
  // (<spool>.paused) for the processes that start meanwhile: a CLI command
  // during an outage then spools at once instead of waiting for the sink's
  // timeout (each once paid it twice, some 4 s with MongoDB down).
  std::atomic<std::int64_t> retry_after_{0};
  std::filesystem::path pause_marker() const;
  bool sink_may_answer() const;
  void pause_sink();
  void sink_answered();
  std::thread flusher_;
};

}  // namespace strata
