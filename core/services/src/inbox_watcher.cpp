#include "inbox_watcher.hpp"

#include <vector>

#include "strata/services/messages.hpp"

namespace strata {
namespace {

// Pages one subscription reads per turn before the others get theirs.
constexpr int pages_per_turn = 16;

}  // namespace

InboxSubscription::Registry::Registry(std::shared_ptr<sdk::Storage> storage, std::chrono::milliseconds poll_interval,
                                      std::size_t threads, Metrics& metrics, sdk::Logger log)
    : storage_(std::move(storage)),
      poll_interval_(poll_interval),
      thread_count_(std::max<std::size_t>(1, threads)),
      log_(std::move(log)),
      hints_received_(metrics.counter("strata_inbox_hints_received_total",
                                      "New-message hints received for recipients this process follows.")),
      fetches_(metrics.counter("strata_inbox_reads_total",
                               "Reads of a followed inbox after its cursor (catch-up, hint or poll).")),
      poll_found_(metrics.counter("strata_inbox_poll_found_total",
                                  "Followed inboxes the poll found ahead of their cursor: hints lost or late.")),
      gaps_(metrics.counter("strata_inbox_gaps_total",
                            "Subscriptions told to re-read the inbox: their cursor's messages are gone.")),
      fetch_errors_(metrics.counter("strata_inbox_read_errors_total",
                                    "Failed reads of a followed inbox (retried at the next hint or poll).")),
      lag_(metrics.operation("services", "delivery", "notification_lag")) {}

InboxSubscription::Registry::~Registry() { stop(); }

void InboxSubscription::Registry::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  hinted_.notify_all();
  for (auto& thread : threads_)
    if (thread.joinable() && thread.get_id() != std::this_thread::get_id()) thread.join();
}

void InboxSubscription::Registry::start_locked() {
  if (!threads_.empty() || stopping_) return;
  next_poll_ = std::chrono::steady_clock::now() + poll_interval_;
  for (std::size_t i = 0; i < thread_count_; ++i) threads_.emplace_back([this] { run(); });
}

void InboxSubscription::Registry::hint(const sdk::Uuid& recipient) {
  {
    std::lock_guard lock(mutex_);
    auto subscribed = by_recipient_.find(recipient);
    auto waiting = waiters_.find(recipient);
    if (subscribed == by_recipient_.end() && waiting == waiters_.end()) return;  // nobody here follows them
    hints_received_.add();
    if (subscribed != by_recipient_.end()) due_.insert(subscribed->second.begin(), subscribed->second.end());
    if (waiting != waiters_.end()) ++waiting->second.hints;
  }
  wake_.notify_all();
  hinted_.notify_all();
}

std::uint64_t InboxSubscription::Registry::add(const sdk::Uuid& recipient, InboxCursor cursor, Fetch fetch,
                                               Callback callback) {
  std::uint64_t id;
  {
    std::lock_guard lock(mutex_);
    id = next_id_++;
    subscriptions_.emplace(id, Subscription{recipient, std::move(cursor), std::make_shared<Fetch>(std::move(fetch)),
                                            std::make_shared<Callback>(std::move(callback))});
    by_recipient_[recipient].insert(id);
    due_.insert(id);
    start_locked();
  }
  wake_.notify_one();
  return id;
}

InboxCursor InboxSubscription::Registry::remove(std::uint64_t id) {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [&] {
    auto it = delivering_.find(id);
    return it == delivering_.end() || it->second == std::this_thread::get_id();  // from its own callback: no wait
  });
  auto it = subscriptions_.find(id);
  if (it == subscriptions_.end()) return {};
  InboxCursor last = it->second.cursor;
  auto& ids = by_recipient_[it->second.recipient];
  ids.erase(id);
  if (ids.empty()) by_recipient_.erase(it->second.recipient);
  due_.erase(id);
  subscriptions_.erase(it);
  return last;
}

InboxCursor InboxSubscription::Registry::cursor(std::uint64_t id) const {
  std::lock_guard lock(mutex_);
  auto it = subscriptions_.find(id);
  return it == subscriptions_.end() ? InboxCursor{} : it->second.cursor;
}

std::uint64_t InboxSubscription::Registry::watch(const sdk::Uuid& recipient) {
  std::lock_guard lock(mutex_);
  auto& w = waiters_[recipient];
  ++w.count;
  return w.hints;
}

void InboxSubscription::Registry::wait_hint(const sdk::Uuid& recipient, std::uint64_t seen,
                                            std::chrono::steady_clock::time_point until) {
  std::unique_lock lock(mutex_);
  hinted_.wait_until(lock, until, [&] { return stopping_ || waiters_[recipient].hints != seen; });
}

std::uint64_t InboxSubscription::Registry::hint_count(const sdk::Uuid& recipient) const {
  std::lock_guard lock(mutex_);
  auto it = waiters_.find(recipient);
  return it == waiters_.end() ? 0 : it->second.hints;
}

void InboxSubscription::Registry::unwatch(const sdk::Uuid& recipient) {
  std::lock_guard lock(mutex_);
  auto it = waiters_.find(recipient);
  if (it != waiters_.end() && --it->second.count == 0) waiters_.erase(it);
}

std::uint64_t InboxSubscription::Registry::take_due_locked() {
  for (auto it = due_.begin(); it != due_.end(); ++it)
    if (!delivering_.contains(*it)) {
      std::uint64_t id = *it;
      due_.erase(it);
      delivering_.emplace(id, std::this_thread::get_id());
      return id;
    }
  return 0;
}

void InboxSubscription::Registry::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (std::chrono::steady_clock::now() >= next_poll_) {
      next_poll_ = std::chrono::steady_clock::now() + poll_interval_;  // this thread polls; the others go on
      lock.unlock();
      poll();
      lock.lock();
      continue;
    }
    if (std::uint64_t id = take_due_locked()) {
      lock.unlock();
      deliver(id);
      lock.lock();
      delivering_.erase(id);
      idle_.notify_all();
      if (due_.contains(id)) wake_.notify_one();  // hinted meanwhile: another turn
      continue;
    }
    wake_.wait_until(lock, next_poll_);
  }
}

void InboxSubscription::Registry::poll() {
  std::vector<sdk::Uuid> recipients;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [recipient, ids] : by_recipient_) recipients.push_back(recipient);
  }
  if (recipients.empty()) return;
  auto heads = storage_->inbox_heads(recipients);
  if (!heads) {
    fetch_errors_.add();
    if (log_) log_(sdk::LogLevel::warning, "inbox poll failed (retried next interval): " + heads.error().describe());
    return;
  }
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < recipients.size(); ++i) {
    auto ids = by_recipient_.find(recipients[i]);
    if (ids == by_recipient_.end()) continue;
    for (auto id : ids->second) {
      const auto& cursor = subscriptions_.at(id).cursor;
      if (cursor.epoch != heads->epoch || heads->heads[i] > cursor.seq) {
        if (!due_.contains(id)) poll_found_.add();
        due_.insert(id);
      }
    }
  }
  wake_.notify_all();
}

void InboxSubscription::Registry::deliver(std::uint64_t id) {
  for (int page = 0; page < pages_per_turn; ++page) {
    InboxCursor cursor;
    std::shared_ptr<Fetch> fetch;
    std::shared_ptr<Callback> callback;
    {
      std::lock_guard lock(mutex_);
      auto it = subscriptions_.find(id);
      if (it == subscriptions_.end() || stopping_) return;
      cursor = it->second.cursor;
      fetch = it->second.fetch;
      callback = it->second.callback;
    }
    auto update = (*fetch)(cursor);
    fetches_.add();
    const bool moved = update && (update->gap || update->next != cursor);
    if (!update) {
      fetch_errors_.add();
      if (log_) log_(sdk::LogLevel::warning, "inbox read failed (retried at the next hint or poll): " +
                                                 update.error().describe());
    } else {
      if (update->gap) gaps_.add();
      const auto now = sdk::Timestamp::now();
      for (const auto& entry : update->entries)
        lag_.record(std::chrono::microseconds(std::max<std::int64_t>(0, now.micros() - entry.envelope.created_at.micros())),
                    std::nullopt);
      if (update->gap || !update->entries.empty()) {
        try {
          (*callback)(*update);
        } catch (...) {  // an application's callback must not take the delivery thread down
        }
      }
    }
    {
      std::lock_guard lock(mutex_);
      auto it = subscriptions_.find(id);
      if (it != subscriptions_.end() && update) it->second.cursor = update->next;
    }
    if (!moved) return;
  }
  std::lock_guard lock(mutex_);  // more to read: due again, after the others' turn
  if (subscriptions_.contains(id)) due_.insert(id);
}

InboxSubscription::InboxSubscription(std::shared_ptr<Registry> registry, std::uint64_t id)
    : registry_(std::move(registry)), id_(id) {}

InboxSubscription::~InboxSubscription() { cancel(); }

void InboxSubscription::cancel() {
  if (registry_ && !final_) final_ = registry_->remove(id_);
}

InboxCursor InboxSubscription::cursor() const {
  if (final_) return *final_;
  return registry_ ? registry_->cursor(id_) : InboxCursor{};
}

}  // namespace strata
