// Following an inbox: Messages::since, wait and subscribe over the storage's
// per-recipient sequence (SDK 1.10), and the hints that make them prompt.
//
// since() is the only reader: it never moves a cursor past a number it has
// not read, and answers `gap` whenever the numbers between the cursor and
// what is stored are not all there (purged, or another epoch). The storage
// numbers messages in commit order, so "not there yet" cannot happen: a
// higher number is never visible before a lower one.

#include <algorithm>
#include <array>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <thread>

#include "group_commit.hpp"
#include "inbox_watcher.hpp"
#include "strata/services/messages.hpp"

namespace strata {
namespace {

// Hints within this process, for a config whose cache cannot carry them: a
// send's commit reaches this process's subscribers at once; other
// processes' sends are found by the poll.
class InProcessHints final : public HintTransport {
 public:
  void publish(const sdk::Uuid& recipient) override {
    std::shared_ptr<Receiver> receiver;
    {
      std::lock_guard lock(mutex_);
      receiver = receiver_;
    }
    if (receiver && *receiver) (*receiver)(recipient);
  }
  void listen(Receiver receiver) override {
    std::lock_guard lock(mutex_);
    receiver_ = std::make_shared<Receiver>(std::move(receiver));
  }

 private:
  std::mutex mutex_;
  std::shared_ptr<Receiver> receiver_;
};

// Hints through the default cache's publish and listen (SDK 1.10; Redis
// pub/sub): every process on the same cache hears of every commit. A commit
// only queues its recipients; a thread of this transport sends what queued,
// up to 1,024 recipients (16 bytes each) per message, so a commit never
// waits for the cache, and a cache that is away costs hints, nothing else.
class CacheHints final : public HintTransport {
 public:
  static constexpr std::string_view channel = "strata:inbox-hints";
  static constexpr std::size_t per_message = 1024;

  CacheHints(std::shared_ptr<sdk::Cache> cache, Metrics& metrics)
      : cache_(std::move(cache)),
        sent_(metrics.counter("strata_inbox_hints_sent_total", "New-message hints published through the cache.")),
        lost_(metrics.counter("strata_inbox_hints_unsent_total",
                              "Hints the cache refused to publish (the poll delivers their messages).")),
        thread_([this] { run(); }) {}
  ~CacheHints() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    queued_.notify_one();
    thread_.join();
    (void)cache_->listen(channel, {});
  }

  void publish(const sdk::Uuid& recipient) override {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(recipient);
    }
    queued_.notify_one();
  }
  void listen(Receiver receiver) override {
    (void)cache_->listen(channel, [receiver = std::move(receiver)](sdk::BytesView message) {
      for (std::size_t at = 0; at + 16 <= message.size(); at += 16) {
        std::array<std::uint8_t, 16> id{};
        std::copy_n(message.begin() + static_cast<std::ptrdiff_t>(at), 16, id.begin());
        receiver(sdk::Uuid(id));
      }
    });
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      queued_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      std::vector<sdk::Uuid> batch;
      while (!queue_.empty() && batch.size() < per_message) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
      lock.unlock();
      std::sort(batch.begin(), batch.end());
      batch.erase(std::unique(batch.begin(), batch.end()), batch.end());
      sdk::Bytes message;
      for (const auto& id : batch) message.insert(message.end(), id.bytes().begin(), id.bytes().end());
      (cache_->publish(channel, message) ? sent_ : lost_).add(batch.size());
      lock.lock();
    }
  }

  std::shared_ptr<sdk::Cache> cache_;
  Counter &sent_, &lost_;
  std::mutex mutex_;
  std::condition_variable queued_;
  std::deque<sdk::Uuid> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

bool visible(const sdk::Message& m, sdk::Timestamp now) {
  return !m.is_deleted && (!m.expires_at || *m.expires_at > now);
}

constexpr std::size_t follow_page = 100;

}  // namespace

std::string InboxCursor::str() const { return epoch + ":" + std::to_string(seq); }

sdk::Result<InboxCursor> InboxCursor::parse(std::string_view text) {
  auto colon = text.rfind(':');
  auto bad = [&](const std::string& why) {
    return sdk::fail(sdk::ErrorCode::invalid_argument,
                     "inbox cursor '" + sdk::excerpt(text, 80) + "' " + why + " (expected <epoch>:<number>)");
  };
  if (colon == std::string_view::npos) return bad("has no ':'");
  InboxCursor out{std::string(text.substr(0, colon)), 0};
  auto digits = text.substr(colon + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out.seq);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) return bad("has no number after ':'");
  if (out.epoch.find_first_of(" \t\r\n") != std::string::npos) return bad("has white space in its epoch");
  return out;
}

// The transport commits publish on; replaced by use_hint_transport.
struct Messages::Hints {
  std::mutex mutex;
  std::shared_ptr<HintTransport> transport;

  void publish(std::span<const sdk::Message> messages) {
    std::shared_ptr<HintTransport> to;
    {
      std::lock_guard lock(mutex);
      to = transport;
    }
    // One hint per recipient of the write.
    std::vector<sdk::Uuid> recipients;
    for (const auto& m : messages) recipients.push_back(m.recipient_id);
    std::sort(recipients.begin(), recipients.end());
    recipients.erase(std::unique(recipients.begin(), recipients.end()), recipients.end());
    for (const auto& recipient : recipients) to->publish(recipient);
  }
};

Messages::Messages(ServiceContext& context, Users& users)
    : ctx_(context),
      users_(users),
      followers_(std::make_shared<InboxSubscription::Registry>(ctx_.storage, ctx_.settings.delivery.poll_interval,
                                                               ctx_.settings.delivery.threads, *ctx_.metrics, ctx_.log)),
      hints_(std::make_shared<Hints>()) {
  // Across processes through the default cache when it can (Redis), else within this one.
  const bool cache_carries_hints = ctx_.cache && ctx_.cache->listen(CacheHints::channel, {}).has_value();
  if (cache_carries_hints) use_hint_transport(std::make_shared<CacheHints>(ctx_.cache, *ctx_.metrics));
  else use_hint_transport(std::make_shared<InProcessHints>());
  ctx_.writes->on_committed([hints = std::weak_ptr<Hints>(hints_)](std::span<const sdk::Message> messages) {
    if (auto alive = hints.lock()) alive->publish(messages);
  });
}

Messages::~Messages() { followers_->stop(); }

void Messages::use_hint_transport(std::shared_ptr<HintTransport> transport) {
  std::weak_ptr<InboxSubscription::Registry> followers = followers_;
  transport->listen([followers](const sdk::Uuid& recipient) {
    if (auto registry = followers.lock()) registry->hint(recipient);
  });
  std::lock_guard lock(hints_->mutex);
  hints_->transport = std::move(transport);
}

sdk::Result<InboxUpdate> Messages::since(const sdk::Uuid& recipient, const InboxCursor& cursor, std::size_t limit,
                                         const Origin& origin) {
  auto read = ctx_.storage->inbox_since(recipient, cursor.seq, limit);
  if (!read) return sdk::fail(read.error());
  InboxUpdate out;
  const InboxCursor head{read->epoch, read->head};
  // The start ({"", 0}) takes whatever is kept; any other cursor must be
  // followed by the very next number, or by nothing with the head at it.
  const bool from_start = cursor.epoch.empty() && cursor.seq == 0;
  const std::uint64_t next_number = read->items.empty() ? read->head + 1 : read->items.front().seq;
  if (!from_start && (cursor.epoch != read->epoch || cursor.seq > read->head || next_number != cursor.seq + 1)) {
    out.gap = true;
    out.next = head;
    return out;
  }
  out.next = InboxCursor{read->epoch, cursor.seq};
  const sdk::Timestamp now = ctx_.clock->now();
  std::size_t refused = 0;
  for (auto& item : read->items) {
    // A hole inside the page (a purge): stop before it, the next read says gap.
    if (out.next.seq != 0 && item.seq != out.next.seq + 1) break;
    out.next.seq = item.seq;
    if (!visible(item.message, now)) continue;
    auto text = open(item.message, origin);
    if (!text) ++refused;
    out.entries.push_back(MessageEntry{std::move(item.message), std::move(text)});
  }
  if (out.entries.empty()) return out;
  auto recorded = ctx_.audit->record(
      AuditRecord{recipient, "message.follow", resource("user", recipient),
                  refused ? sdk::AuditStatus::failure : sdk::AuditStatus::success,
                  {{"count", out.entries.size()}, {"refused", refused}, {"through", out.next.seq}}},
      origin);
  if (!recorded) return sdk::fail(recorded.error());
  return out;
}

sdk::Result<InboxUpdate> Messages::wait(const sdk::Uuid& recipient, const InboxCursor& cursor,
                                        std::chrono::milliseconds timeout, const Origin& origin) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::uint64_t seen = followers_->watch(recipient);  // hints counted before each read: none slips between
  struct Unwatch {
    InboxSubscription::Registry& registry;
    const sdk::Uuid& recipient;
    ~Unwatch() { registry.unwatch(recipient); }
  } unwatch{*followers_, recipient};
  InboxCursor at = cursor;
  for (;;) {
    auto update = since(recipient, at, follow_page, origin);
    if (!update || update->gap || !update->entries.empty()) return update;
    at = update->next;  // past deleted and expired rows
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return update;
    followers_->wait_hint(recipient, seen, std::min(deadline, now + ctx_.settings.delivery.poll_interval));
    seen = followers_->hint_count(recipient);
  }
}

sdk::Result<std::unique_ptr<InboxSubscription>> Messages::subscribe(const sdk::Uuid& recipient, InboxCursor cursor,
                                                                    std::function<void(const InboxUpdate&)> on_update,
                                                                    const Origin& origin) {
  if (auto supported = ctx_.storage->inbox_heads({}); !supported) return sdk::fail(supported.error());
  auto id = followers_->add(
      recipient, std::move(cursor),
      [this, recipient, origin](const InboxCursor& at) { return since(recipient, at, follow_page, origin); },
      std::move(on_update));
  return std::make_unique<InboxSubscription>(followers_, id);
}

}  // namespace strata
