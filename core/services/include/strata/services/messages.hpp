#pragma once
// Messages: encrypted at rest by the cipher role. Sending seals the text with
// associated data binding the message id, sender and recipient
// (aad = id ‖ sender ‖ recipient, 16 raw bytes each), so a ciphertext copied
// into another row, or a flipped byte, fails to open with `auth_failed` and
// an audit event — never garbage text.

#include "strata/export.hpp"
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "strata/services/context.hpp"
#include "strata/services/inbox_stream.hpp"
#include "strata/services/rewrap_progress.hpp"

namespace strata {

class Users;

/// One message to send.
struct Outgoing {
  sdk::Uuid from;
  sdk::Uuid to;
  std::string text;
  std::optional<std::chrono::seconds> ttl;  ///< sets expires_at; none: never expires
};

/// A stored message and its decrypted text.
struct ReadMessage {
  sdk::Message envelope;  ///< the stored row (ciphertext included)
  std::string text;
};

/// One inbox or conversation entry: the text, or why it could not be opened.
struct MessageEntry {
  sdk::Message envelope;
  sdk::Result<std::string> text;
};

class STRATA_API Messages {
 public:
  /// The largest message text accepted.
  static constexpr std::size_t max_text_bytes = 1 << 20;
  /// The longest message TTL accepted (100 years).
  static constexpr std::chrono::seconds max_ttl{100LL * 365 * 86400};

  Messages(ServiceContext& context, Users& users);
  /// Stops the delivery threads: no subscription's callback runs afterwards.
  ~Messages();

  /// Called once when an asynchronous send is durable, or failed.
  using SendDone = std::function<void(sdk::Result<sdk::Message>)>;

  /// Seals and stores one message; both users must exist and be active.
  /// With a storage that checks them inside the commit (SDK 1.8
  /// insert_sends: every bundled storage) nothing is looked up first: a
  /// send costs one round trip, and a user deactivated by another process
  /// is refused at the next send, whatever any cache holds. Otherwise both
  /// are looked up (through the default cache) before sealing.
  /// Returns once the message and its `message.send` audit event are durable
  /// (committed in one transaction when the storage has an audit outbox).
  /// Concurrent sends share transactions ([group_commit]). `unavailable` or
  /// `timeout` means the outcome is unknown: the message may be stored.
  sdk::Result<sdk::Message> send(const Outgoing& message, const Origin& origin);
  /// The same without waiting for the commit, for applications with an event
  /// loop: the text is sealed (and without insert_sends the users looked
  /// up) on the calling thread (errors there come back at once, through
  /// `done` too); `done` then runs
  /// on a group-commit writer thread once the message is durable or failed.
  /// It must be quick and must not throw; hand work back to your loop.
  void send_async(const Outgoing& message, const Origin& origin, SendDone done);
  /// send_async with a future instead of a callback.
  std::future<sdk::Result<sdk::Message>> send_async(const Outgoing& message, const Origin& origin);
  /// The same between users the caller has already looked up (by name, say):
  /// they are checked active as given, not looked up again.
  sdk::Result<sdk::Message> send(const sdk::User& from, const sdk::User& to, std::string text,
                                 std::optional<std::chrono::seconds> ttl, const Origin& origin);
  /// send_async between users already looked up: nothing is looked up on
  /// the calling thread, whatever the storage (a deactivated user is
  /// refused at once, through `done`).
  void send_async(const sdk::User& from, const sdk::User& to, std::string text,
                  std::optional<std::chrono::seconds> ttl, const Origin& origin, SendDone done);
  /// Seals and stores several messages atomically (the storage batch path).
  sdk::Result<std::vector<sdk::Message>> send_batch(std::span<const Outgoing> messages, const Origin& origin);
  /// Opens a message for its sender or recipient (`not_found` for anyone
  /// else, and for deleted or expired messages); the recipient's read marks it read.
  sdk::Result<ReadMessage> read(const sdk::Uuid& id, const sdk::Uuid& reader, const Origin& origin);
  /// A page of the user's inbox, newest first, each entry opened.
  sdk::Result<sdk::Page<MessageEntry>> inbox(const sdk::Uuid& user, const sdk::PageRequest& page, const Origin& origin);
  /// A page of the conversation between two users, newest first, each entry opened.
  sdk::Result<sdk::Page<MessageEntry>> conversation(const sdk::Uuid& a, const sdk::Uuid& b,
                                                    const sdk::PageRequest& page, const Origin& origin);
  // ---- following an inbox (strata/services/inbox_stream.hpp) -------------
  // Needs a storage with the per-recipient sequence (SDK 1.10: every bundled
  // one); otherwise these answer `unsupported`.

  /// Up to `limit` (1..1000) of the recipient's messages after `cursor`, in
  /// the order they committed, or a gap (re-read the inbox from the start).
  /// A message is never passed over: it is either here, after `next`, or
  /// gone (deleted, expired, purged). An `inbox`-style audit event records
  /// each read that returns messages.
  sdk::Result<InboxUpdate> since(const sdk::Uuid& recipient, const InboxCursor& cursor, std::size_t limit,
                                 const Origin& origin);
  /// since(), waiting up to `timeout` for something after `cursor`: returns
  /// as soon as a hint or the poll ([delivery] poll_interval_ms) finds it;
  /// an empty update (with `next`) when the time is up.
  sdk::Result<InboxUpdate> wait(const sdk::Uuid& recipient, const InboxCursor& cursor, std::chrono::milliseconds timeout,
                                const Origin& origin);
  /// Calls `on_update` (on a Strata delivery thread, one call at a time)
  /// with every message after `cursor`, exactly once and in order: what is
  /// stored now first (catch-up), then each new message shortly after it
  /// commits (a hint), or within a poll interval when hints are lost. A gap
  /// update means re-read the inbox, then continue. Keep the callback quick;
  /// an exception from it is ignored. Lives as long as the handle.
  sdk::Result<std::unique_ptr<InboxSubscription>> subscribe(const sdk::Uuid& recipient, InboxCursor cursor,
                                                            std::function<void(const InboxUpdate&)> on_update,
                                                            const Origin& origin);
  /// Where this process sends and hears hints; by default in-process only
  /// (subscribers in this process hear of this process's sends at once,
  /// others' within a poll interval). Set it before the first send.
  void use_hint_transport(std::shared_ptr<HintTransport> transport);

  /// Soft-deletes a message; only its sender or recipient may.
  sdk::Result<void> remove(const sdk::Uuid& id, const sdk::Uuid& by, const Origin& origin);
  /// Re-seals every message not under the cipher's primary key, `batch_size`
  /// at a time, calling `progress` after each batch. Each row is replaced by
  /// compare-and-set, so a crash loses nothing and a rerun resumes: rows
  /// already re-sealed no longer match.
  sdk::Result<RewrapProgress> rewrap(std::size_t batch_size, const std::function<void(const RewrapProgress&)>& progress,
                                     const Origin& origin);

  /// The cipher key id a row without one is opened with: rows the seed's
  /// services write name no key, and the seed has one key (DB_ENCRYPTION_KEY,
  /// which the aes_gcm plugin calls "default").
  static constexpr std::string_view unnamed_key_id = "default";

  /// The associated data a message is sealed with.
  static sdk::Bytes associated_data(const sdk::Uuid& id, const sdk::Uuid& sender, const sdk::Uuid& recipient);

 private:
  // `checked`: users already found active in this batch, not looked up again.
  sdk::Result<sdk::Message> seal(const Outgoing& message, std::set<sdk::Uuid>* checked = nullptr);
  // Seals `message` and hands it to the group commit; `done` gets the outcome.
  // `caller_waits`: the caller blocks on it anyway, so it may commit itself.
  void store(const Outgoing& message, std::set<sdk::Uuid>* checked, const Origin& origin, SendDone done,
             bool caller_waits);
  sdk::Result<std::string> open(const sdk::Message& message, const Origin& origin);
  sdk::Result<sdk::Page<MessageEntry>> open_page(sdk::Result<sdk::Page<sdk::Message>> page, const sdk::Uuid& user,
                                                 const char* action, const Origin& origin);

  ServiceContext& ctx_;
  Users& users_;
  std::shared_ptr<InboxSubscription::Registry> followers_;
  // Where commits send hints (inbox_stream.cpp); shared with the group
  // commit's callback, which may outlive this object.
  struct Hints;
  std::shared_ptr<Hints> hints_;
};

}  // namespace strata
