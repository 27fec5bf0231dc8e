#pragma once
// Following an inbox: a recipient's messages in the order they committed,
// from a cursor, each exactly once (the storage's per-recipient sequence,
// SDK 1.10). Hints ("something new for R") make it prompt; a bounded poll
// makes it complete: a lost hint costs latency, never a message.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "strata/export.hpp"
#include "strata/sdk/sdk.hpp"

namespace strata {

struct MessageEntry;

/// A position in a recipient's sequence: just after number `seq` of `epoch`.
/// The default, {"", 0}, is the start of whatever the storage keeps.
struct STRATA_API InboxCursor {
  std::string epoch;
  std::uint64_t seq = 0;

  bool operator==(const InboxCursor&) const = default;
  /// "<epoch>:<seq>", what a reader stores between runs.
  std::string str() const;
  /// Reads str()'s form; `invalid_argument` naming what is wrong otherwise.
  static sdk::Result<InboxCursor> parse(std::string_view text);
};

/// What the inbox holds after a cursor.
struct InboxUpdate {
  /// Messages the cursor had not passed are gone (purged, or the numbers
  /// restarted: a restore, another database): re-read the inbox from the
  /// start, then continue from `next`. `entries` is empty.
  bool gap = false;
  /// The visible messages after the cursor, in sequence order, each opened
  /// (deleted and expired ones are passed over).
  std::vector<MessageEntry> entries;
  /// Where to continue: past everything read here.
  InboxCursor next;
};

/// Carries "new message for R" hints from the process that committed to
/// the processes following R. Only a hint: a transport may lose, repeat,
/// delay or reorder them, and subscribers still get every message.
class HintTransport {
 public:
  virtual ~HintTransport() = default;
  using Receiver = std::function<void(const sdk::Uuid& recipient)>;
  /// Sends a hint; never blocks for long and never fails the caller.
  virtual void publish(const sdk::Uuid& recipient) = 0;
  /// Where hints received go (set once, before the first publish).
  virtual void listen(Receiver receiver) = 0;
};

/// A subscription's handle: while it lives, its callback runs (on Strata's
/// delivery threads, never two calls at once) with each update; destroying it or cancel() stops it.
class STRATA_API InboxSubscription {
 public:
  class Registry;
  InboxSubscription(std::shared_ptr<Registry> registry, std::uint64_t id);
  ~InboxSubscription();
  InboxSubscription(const InboxSubscription&) = delete;
  InboxSubscription& operator=(const InboxSubscription&) = delete;
  /// Stops it: once this returns, the callback does not run again (called
  /// from the callback itself, after that call returns).
  void cancel();
  /// Past everything delivered so far. While it runs, a delivery may be
  /// under way: to resume elsewhere without a repeat, cancel() first, then
  /// ask; after cancel() it is the final position (cancelled from inside a
  /// callback: the position before that callback's update).
  InboxCursor cursor() const;

 private:
  std::shared_ptr<Registry> registry_;
  std::uint64_t id_;
  std::optional<InboxCursor> final_;  // set by cancel()
};

}  // namespace strata
