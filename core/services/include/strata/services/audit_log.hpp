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
//
// With a transactional outbox (a storage implementing SDK 1.5, and a policy
// other than block) events do not wait in memory at all: each is committed
// to the storage's outbox — in the same transaction as the row it describes,
// when the service writes one (GroupCommit) — before the operation returns,
// so it survives a crash at any instant. The flusher thread then relays the
// outbox to the sink in batches, deleting what the sink took; event ids make
// a hand-over repeated after a crash idempotent. While the sink is down,
// `spool` leaves the events in the outbox (it is the spool), `drop` drops and
// counts them. An event whose outbox write fails (the storage is down) takes
// the in-memory path above.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include "strata/export.hpp"

#include <nlohmann/json.hpp>

#include "strata/metrics.hpp"
#include "strata/sdk/audit.hpp"
#include "strata/sdk/clock.hpp"
#include "strata/sdk/log.hpp"
#include "strata/sdk/storage.hpp"
#include "strata/settings.hpp"
#include "strata/tracing.hpp"

namespace strata {

class DataKeys;
class GroupCommit;
class PersonalFields;

/// The outbox the pipeline writes events to and relays from (see above).
struct AuditOutbox {
  std::shared_ptr<sdk::Storage> storage;  ///< implements the SDK 1.5 outbox methods
  std::shared_ptr<GroupCommit> writes;    ///< commits events (with their rows) to it
};

/// Where a request came from, for the audit trail.
struct Origin {
  Origin() = default;
  Origin(std::string ip, std::string traceparent = {}) : ip(std::move(ip)), traceparent(std::move(traceparent)) {}

  std::string ip = "local";  ///< the client's address; "local" for the CLI
  /// The W3C `traceparent` of the request being served, if any: the services
  /// call's span continues that trace, and its audit events carry it
  /// (metadata "traceparent"). Malformed: ignored, as the W3C rules say.
  std::string traceparent;
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
  /// `outbox`: empty for none (no storage with one, no sink, or `block`).
  /// `data_keys`: when it seals under users' data keys ([erasure]
  /// per_user_keys), events' personal fields are sealed or pseudonymised
  /// (erasure/personal_fields.hpp); null or not sealing: kept in clear.
  AuditLog(std::shared_ptr<sdk::Audit> sink, AuditLogSettings settings, std::shared_ptr<const sdk::Clock> clock,
           std::shared_ptr<Metrics> metrics, sdk::Logger log, AuditOutbox outbox = {},
           std::shared_ptr<DataKeys> data_keys = {});
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  /// Records an event from `origin`. Under `block`, returns once the sink
  /// stored it, or the sink's error; otherwise returns at once (waiting only
  /// while the queue is full, under `spool`).
  sdk::Result<void> record(const AuditRecord& record, const Origin& origin);
  /// The event record() would write: a fresh id, the time, the origin's address.
  sdk::AuditEvent event(const AuditRecord& record, const Origin& origin) const;
  /// Opens the personal fields record() sealed in a stored event, in place:
  /// their clear value, or "[erased]" once the user was erased.
  void reveal(sdk::AuditEvent& event) const;
  /// The pseudonym a value gets in an event's `field` ("ip", "username",
  /// "email") when there is no user to seal it for: what an operator looks
  /// up in the trail. `invalid_argument` without per_user_keys.
  sdk::Result<std::string> pseudonym(std::string_view field, std::string_view value) const;
  /// Whether events' personal fields are sealed or pseudonymised.
  bool protects_personal_fields() const { return personal_ != nullptr; }
  /// Whether events go through the transactional outbox; then a service
  /// writing a row commits the row's event with it (GroupCommit) and calls
  /// outbox_written() afterwards.
  bool uses_outbox() const { return outbox_.writes != nullptr; }
  /// Tells the relay that `n` events were committed to the outbox.
  void outbox_written(std::size_t n);
  /// Waits until every event recorded so far was written, spooled or
  /// dropped, and relays what the outbox holds (unless the sink is down).
  void flush();
  /// Tries to replay the spool now; the number of events replayed.
  sdk::Result<std::size_t> replay_spool();
  /// Events waiting in the spool file.
  std::size_t spooled() const;
  /// Events this process recorded and then lost under `spool`: the sink and
  /// the spool file both refused them (each loss is also logged, "LOST n
  /// audit events"). An application checks it after flush(); the CLI exits
  /// non-zero when a command's events were lost. Counted in
  /// strata_audit_events_total{outcome="lost"} too.
  std::uint64_t lost() const { return lost_.value(); }
  /// Whether the sink failed recently, in this process or another using the
  /// same spool: until the pause ends, nothing waits on it (events are
  /// spooled or dropped at once, metrics kept).
  bool sink_paused() const { return !sink_may_answer(); }
  /// Whether there is a sink at all (the config has an [audit]).
  bool has_sink() const { return sink_ != nullptr; }
  /// Writes metric records to the sink (Audit::append_metrics): the
  /// maintenance flush's way out, through the same sink the events take.
  /// Not spooled or queued: a caller keeps what was refused for a later try.
  sdk::Result<void> append_metrics(std::span<const sdk::Metric> metrics);
  const AuditLogSettings& settings() const { return settings_; }

 private:
  void run();
  void deliver(std::vector<sdk::AuditEvent>& batch);
  sdk::Result<void> append_to_spool(const std::vector<sdk::AuditEvent>& batch);
  sdk::Result<std::size_t> replay_locked();
  // Hands the outbox to the sink batch by batch until it is empty or the sink
  // fails (audit_outbox_relay.cpp). Unless `always`, only when events were
  // written since the last relay or a backlog was left.
  void relay_outbox(bool always);

  std::shared_ptr<sdk::Audit> sink_;
  AuditLogSettings settings_;
  std::shared_ptr<const sdk::Clock> clock_;
  std::shared_ptr<Metrics> metrics_;
  sdk::Logger log_;
  Counter &written_, &spooled_, &replayed_, &dropped_, &failed_, &lost_;

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
  AuditOutbox outbox_;
  std::shared_ptr<PersonalFields> personal_;  // null: personal fields in clear
  std::mutex relay_mutex_;                   // one relay at a time in this process
  std::atomic<std::size_t> outbox_hint_{0};  // events committed since the last relay
  std::atomic<bool> outbox_backlog_{true};  // events may wait there: at start, and after a failed relay
  std::thread flusher_;
};

}  // namespace strata
