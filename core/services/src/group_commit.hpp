#pragma once
// GroupCommit: concurrent writes coalesce into one storage transaction.
//
// Callers queue writes (messages, and the audit events that describe them);
// a few writer threads each take everything queued (up to max_batch) and
// commit it as one batch — one COPY or multi-row statement, one fsync — while
// the next batch gathers behind it. A lone writer waits for nobody (no
// linger unless configured). With an outbox (storage SDK 1.5) a write's
// events are committed in the same transaction as its rows; without one
// only messages are batched and the caller records the events itself.
//
// With a storage that has insert_sends (SDK 1.8) every batch is stored
// with it: a message whose sender or recipient is missing or deactivated
// fails the transaction, and the split below gives that write alone the
// storage's reason.
//
// One bad row never fails its neighbours: a batch that fails for a reason
// other than the backend being away is retried one write at a time, so only
// the bad write gets its error. A batch cut off by a lost connection (a
// failover, a restart) is retried under the same ids for up to retry_ms: the
// ids are generated here, so a retry that finds them stored with the same
// content has found the first attempt committed, which is success, never a
// duplicate. Past retry_ms each writer gets `unavailable`, "outcome unknown".
// A write the backend answered and refused as a whole (`conflict`,
// retryable: a read-only server, a full disk, a store out of memory) is
// retried the same way, for every write of the batch at once; past retry_ms
// it fails with that refusal and "nothing was stored" — a definite failure,
// unless an earlier attempt's outcome was unknown.

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "strata/metrics.hpp"
#include "strata/sdk/sdk.hpp"
#include "strata/settings.hpp"

namespace strata {

class GroupCommit {
 public:
  /// Called once per write, on a writer thread, when it is durable or failed.
  using Done = std::function<void(sdk::Result<void>)>;

  /// `outbox`: write events with insert_with_outbox; otherwise only messages
  /// (insert_messages), and a write carrying events is refused.
  GroupCommit(std::shared_ptr<sdk::Storage> storage, GroupCommitSettings settings, bool outbox, Metrics& metrics);
  /// Commits what is queued, then stops the writers.
  ~GroupCommit();
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  /// Queues one write; `done` runs once it is committed or failed.
  void submit(std::vector<sdk::Message> messages, std::vector<sdk::AuditEvent> events, Done done);
  /// The same, waiting for the outcome. When nothing is queued and a writer
  /// slot is free, the write commits on the calling thread: a lone caller
  /// pays no hand-over to another thread (two context switches, which on a
  /// small VM cost as much as the INSERT).
  sdk::Result<void> write(std::vector<sdk::Message> messages, std::vector<sdk::AuditEvent> events);
  /// submit() for a caller that will wait anyway: commits here when idle, as write() does.
  void submit_and_wait(std::vector<sdk::Message> messages, std::vector<sdk::AuditEvent> events, Done done);
  /// Called on the writer thread with each write's messages once they
  /// committed, before the writer hears of it (the inbox hints). Set once,
  /// before the first write; it must be quick and must not throw.
  using Committed = std::function<void(std::span<const sdk::Message>)>;
  void on_committed(Committed committed) { committed_ = std::move(committed); }
  /// Waits until every write queued so far has finished (its `done` returned).
  void flush();
  /// Whether events are committed with the rows (the storage has an outbox).
  bool outbox() const { return outbox_; }
  /// Whether the storage checks each message's users inside the commit
  /// (SDK 1.8 insert_sends): senders need not look them up first.
  bool checks_users() const { return checks_users_; }

 private:
  struct Write {
    std::vector<sdk::Message> messages;
    std::vector<sdk::AuditEvent> events;
    Done done;
  };
  void run();
  void commit(std::vector<Write>& batch);
  sdk::Result<void> store(std::span<const sdk::Message> messages, std::span<const sdk::AuditEvent> events);
  /// store(), retrying an unknown outcome (see above) until settings_.retry has passed.
  sdk::Result<void> store_retrying(std::span<const sdk::Message> messages, std::span<const sdk::AuditEvent> events);
  /// Whether every message is stored with the content we sent.
  sdk::Result<bool> all_stored_as(std::span<const sdk::Message> messages);

  std::shared_ptr<sdk::Storage> storage_;
  Committed committed_;
  GroupCommitSettings settings_;
  bool outbox_;
  bool checks_users_;
  Counter &batches_, &writes_, &retried_one_by_one_, &retries_, &found_committed_;

  std::mutex mutex_;
  std::condition_variable queued_, finished_;
  std::deque<Write> queue_;
  std::size_t in_flight_ = 0;  // writes taken by a writer (or a caller), not yet finished
  std::size_t committing_ = 0;  // transactions in flight, at most settings_.writers
  bool stopping_ = false;
  std::vector<std::thread> writers_;
};

}  // namespace strata
