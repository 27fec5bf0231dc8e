#pragma once
// The delivery threads behind Messages::subscribe and Messages::wait.
//
// Each subscription has a cursor and a fetch (Messages::since for its
// recipient). A subscription is marked due when it starts (catch-up), when
// a hint for its recipient arrives, and when the poll finds its recipient's
// head past its cursor (one inbox_heads call for every recipient followed,
// each poll interval): so a hint that never comes delays a message by one
// poll interval at most. A due subscription is fetched until caught up, its
// callback called with each update, and its cursor moved past it. Several
// threads deliver (each read is a round trip); one subscription is only
// ever delivered by one thread at a time, so its callbacks never overlap.

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <vector>

#include "strata/metrics.hpp"
#include "strata/sdk/sdk.hpp"
#include "strata/services/inbox_stream.hpp"

namespace strata {

class InboxSubscription::Registry {
 public:
  using Fetch = std::function<sdk::Result<InboxUpdate>(const InboxCursor&)>;
  using Callback = std::function<void(const InboxUpdate&)>;

  Registry(std::shared_ptr<sdk::Storage> storage, std::chrono::milliseconds poll_interval, std::size_t threads,
           Metrics& metrics, sdk::Logger log);
  /// stop().
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  /// Joins the delivery threads: no callback or fetch runs after it returns.
  void stop();

  /// A hint: subscriptions to `recipient` are due, waiters wake.
  void hint(const sdk::Uuid& recipient);

  /// A new subscription, due at once (catch-up from `cursor`).
  std::uint64_t add(const sdk::Uuid& recipient, InboxCursor cursor, Fetch fetch, Callback callback);
  /// Ends a subscription and returns its final cursor; waits for its
  /// callback if it runs on another thread.
  InboxCursor remove(std::uint64_t id);
  InboxCursor cursor(std::uint64_t id) const;

  /// For Messages::wait: registers interest in `recipient` and returns its
  /// hint count; wait_hint returns once that count moved or at `until`.
  std::uint64_t watch(const sdk::Uuid& recipient);
  void wait_hint(const sdk::Uuid& recipient, std::uint64_t seen, std::chrono::steady_clock::time_point until);
  void unwatch(const sdk::Uuid& recipient);
  /// The hint count of a watched recipient.
  std::uint64_t hint_count(const sdk::Uuid& recipient) const;

 private:
  struct Subscription {
    sdk::Uuid recipient;
    InboxCursor cursor;
    std::shared_ptr<Fetch> fetch;
    std::shared_ptr<Callback> callback;
  };
  struct Waiters {
    int count = 0;
    std::uint64_t hints = 0;
  };
  void start_locked();
  void run();
  void poll();
  // A due subscription no other thread is delivering, taken; 0 if none.
  std::uint64_t take_due_locked();
  // Fetches and calls back until caught up (or a turn's pages are used up: due again).
  void deliver(std::uint64_t id);

  std::shared_ptr<sdk::Storage> storage_;
  const std::chrono::milliseconds poll_interval_;
  const std::size_t thread_count_;
  sdk::Logger log_;
  Counter &hints_received_, &fetches_, &poll_found_, &gaps_, &fetch_errors_;
  OperationStats& lag_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;    // the delivery threads: something is due, or stop
  std::condition_variable idle_;    // remove(): a callback finished
  std::condition_variable hinted_;  // wait_hint()
  std::map<std::uint64_t, Subscription> subscriptions_;
  std::unordered_map<sdk::Uuid, std::set<std::uint64_t>> by_recipient_;
  std::set<std::uint64_t> due_;
  std::unordered_map<sdk::Uuid, Waiters> waiters_;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, std::thread::id> delivering_;  // whose fetch or callback runs now, on which thread
  std::chrono::steady_clock::time_point next_poll_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace strata
