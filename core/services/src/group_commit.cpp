// GroupCommit: the writer threads and the one-batch-one-transaction rule.

#include "group_commit.hpp"

#include <algorithm>
#include <future>

namespace strata {

GroupCommit::GroupCommit(std::shared_ptr<sdk::Storage> storage, GroupCommitSettings settings, bool outbox,
                         Metrics& metrics)
    : storage_(std::move(storage)),
      settings_(settings),
      outbox_(outbox),
      // An empty batch stores nothing: it only asks whether the method exists.
      checks_users_(storage_->insert_sends({}, {}).has_value()),
      batches_(metrics.counter("strata_group_commit_batches_total", "Transactions the group commit wrote.")),
      writes_(metrics.counter("strata_group_commit_writes_total", "Writes the group commit coalesced into them.")),
      retried_one_by_one_(metrics.counter("strata_group_commit_split_batches_total",
                                          "Batches that failed and were retried one write at a time.")),
      retries_(metrics.counter("strata_group_commit_unknown_outcome_retries_total",
                               "Retries of writes cut off by a lost connection (failover, restart).")),
      found_committed_(metrics.counter("strata_group_commit_found_committed_total",
                                       "Writes whose retry found them already committed with the same content.")) {
  for (std::size_t i = 0; i < settings_.writers; ++i) writers_.emplace_back([this] { run(); });
}

GroupCommit::~GroupCommit() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  queued_.notify_all();
  for (auto& writer : writers_) writer.join();
}

void GroupCommit::submit(std::vector<sdk::Message> messages, std::vector<sdk::AuditEvent> events, Done done) {
  if (!outbox_ && !events.empty()) {
    done(sdk::fail(sdk::ErrorCode::internal, "group commit: events given to a storage without an audit outbox"));
    return;
  }
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(Write{std::move(messages), std::move(events), std::move(done)});
  }
  queued_.notify_one();
}

sdk::Result<void> GroupCommit::write(std::vector<sdk::Message> messages, std::vector<sdk::AuditEvent> events) {
  std::promise<sdk::Result<void>> outcome;
  submit_and_wait(std::move(messages), std::move(events), [&](sdk::Result<void> r) {
    outcome.set_value(std::move(r));
  });
  return outcome.get_future().get();
}

void GroupCommit::submit_and_wait(std::vector<sdk::Message> messages, std::vector<sdk::AuditEvent> events, Done done) {
  {
    std::unique_lock lock(mutex_);
    if (!queue_.empty() || committing_ >= settings_.writers || (!outbox_ && !events.empty())) {
      lock.unlock();
      return submit(std::move(messages), std::move(events), std::move(done));
    }
    ++committing_;
    ++in_flight_;
  }
  std::vector<Write> batch;
  batch.push_back(Write{std::move(messages), std::move(events), std::move(done)});
  commit(batch);
  {
    std::lock_guard lock(mutex_);
    --committing_;
    --in_flight_;
    finished_.notify_all();
  }
  queued_.notify_one();  // what queued meanwhile may now take the freed slot
}

void GroupCommit::flush() {
  std::unique_lock lock(mutex_);
  finished_.wait(lock, [&] { return queue_.empty() && in_flight_ == 0; });
}

void GroupCommit::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    queued_.wait(lock, [&] { return (stopping_ || !queue_.empty()) && committing_ < settings_.writers; });
    if (queue_.empty()) return;  // stopping, and nothing left to write
    // Optional linger: a little latency traded for larger batches.
    if (settings_.linger.count() > 0 && queue_.size() < settings_.max_batch && !stopping_)
      queued_.wait_for(lock, settings_.linger, [&] { return stopping_ || queue_.size() >= settings_.max_batch; });
    if (queue_.empty()) continue;  // another writer took it while this one lingered
    std::size_t n = std::min(queue_.size(), settings_.max_batch);
    std::vector<Write> batch(std::make_move_iterator(queue_.begin()),
                             std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(n)));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    // What is left is another writer's next batch, gathering while this one commits.
    if (!queue_.empty()) queued_.notify_one();
    in_flight_ += n;
    ++committing_;
    lock.unlock();
    commit(batch);
    lock.lock();
    in_flight_ -= n;
    --committing_;
    finished_.notify_all();
    queued_.notify_one();
  }
}

sdk::Result<void> GroupCommit::store(std::span<const sdk::Message> messages, std::span<const sdk::AuditEvent> events) {
  if (checks_users_) return storage_->insert_sends(messages, events);  // events: empty without an outbox
  if (outbox_) return storage_->insert_with_outbox(messages, events);
  if (messages.size() == 1) return storage_->insert_message(messages.front());
  return storage_->insert_messages(messages);
}

namespace {

bool outcome_unknown(const sdk::Error& e) {
  return e.code == sdk::ErrorCode::unavailable || e.code == sdk::ErrorCode::timeout;
}

// The backend answered and refused the whole write (read-only, disk full,
// out of memory): nothing was written, and waiting may help.
bool refused_for_now(const sdk::Error& e) { return e.code == sdk::ErrorCode::conflict && e.retryable; }

// The fields a send wrote; read state and timestamps' precision may differ.
bool same_content(const sdk::Message& stored, const sdk::Message& ours) {
  return stored.sender_id == ours.sender_id && stored.recipient_id == ours.recipient_id &&
         stored.encrypted_content == ours.encrypted_content && stored.iv == ours.iv && stored.key_id == ours.key_id;
}

}  // namespace

sdk::Result<bool> GroupCommit::all_stored_as(std::span<const sdk::Message> messages) {
  for (const auto& ours : messages) {
    auto stored = storage_->get_message(ours.id);
    if (!stored) {
      if (stored.error().code == sdk::ErrorCode::not_found) return false;
      return sdk::fail(stored.error());
    }
    if (!same_content(*stored, ours)) return false;
  }
  return true;
}

sdk::Result<void> GroupCommit::store_retrying(std::span<const sdk::Message> messages,
                                              std::span<const sdk::AuditEvent> events) {
  using namespace std::chrono_literals;
  auto stored = store(messages, events);
  if (stored || settings_.retry.count() == 0) return stored;
  if (!outcome_unknown(stored.error()) && !refused_for_now(stored.error())) return stored;
  bool maybe_stored = outcome_unknown(stored.error());  // some attempt may have committed
  const auto deadline = std::chrono::steady_clock::now() + settings_.retry;
  for (auto pause = 20ms; std::chrono::steady_clock::now() + pause < deadline; pause = std::min(pause * 2, 500ms)) {
    std::this_thread::sleep_for(pause);
    retries_.add();
    auto again = store(messages, events);
    if (again) return again;
    if (again.error().code == sdk::ErrorCode::already_exists && !messages.empty()) {
      // The ids are ours (generated before the first attempt): rows under
      // them with our content are the first attempt, committed after all.
      auto committed = all_stored_as(messages);
      if (committed && *committed) {
        found_committed_.add(messages.size());
        return {};
      }
      if (committed) return again;  // a genuine duplicate id: not ours
      stored = sdk::fail(committed.error());
      continue;
    }
    if (!outcome_unknown(again.error()) && !refused_for_now(again.error())) return again;
    maybe_stored = maybe_stored || outcome_unknown(again.error());
    stored = std::move(again);
  }
  const std::string retried = "; retried for " + std::to_string(settings_.retry.count()) + " ms ([group_commit] retry_ms)";
  if (!maybe_stored) {
    stored.error().message += retried + ", refused each time: nothing was stored";
    return stored;
  }
  if (!outcome_unknown(stored.error()))  // refused now, but an earlier attempt may have committed
    stored.error() = sdk::Error{sdk::ErrorCode::unavailable, stored.error().message, stored.error().plugin, true};
  stored.error().message += retried + ": the outcome is unknown, the rows may be stored under their ids";
  return stored;
}

void GroupCommit::commit(std::vector<Write>& batch) {
  auto finish = [this](Write& w, sdk::Result<void> r) {
    try {
      if (r && committed_ && !w.messages.empty()) committed_(w.messages);
      w.done(std::move(r));
    } catch (...) {  // a caller's callback must not take a writer thread down
    }
  };
  batches_.add();
  writes_.add(batch.size());
  if (batch.size() == 1) return finish(batch.front(), store_retrying(batch.front().messages, batch.front().events));

  std::vector<sdk::Message> messages;
  std::vector<sdk::AuditEvent> events;
  for (auto& w : batch) {
    messages.insert(messages.end(), w.messages.begin(), w.messages.end());
    events.insert(events.end(), w.events.begin(), w.events.end());
  }
  auto stored = store_retrying(messages, events);
  // Success, or the backend away past the retries (each write would fail
  // alike, and the batch may have committed), goes to every write.
  if (stored || outcome_unknown(stored.error()) || refused_for_now(stored.error())) {
    for (auto& w : batch) finish(w, stored);
    return;
  }
  // A bad row (a duplicate id, a vanished user) failed the transaction:
  // nothing of it was written, so each write goes again on its own.
  retried_one_by_one_.add();
  for (auto& w : batch) {
    batches_.add();
    finish(w, store_retrying(w.messages, w.events));
  }
}

}  // namespace strata
