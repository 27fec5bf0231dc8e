#pragma once
// One hiredis connection: binary-safe argument vectors, pipelines, and
// error classification into the SDK's portable codes.

#include <hiredis/hiredis.h>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "redis_settings.hpp"
#include "strata/sdk/error.hpp"

namespace strata::redis {

/// A reply, freed with freeReplyObject.
using Reply = std::unique_ptr<redisReply, decltype(&freeReplyObject)>;

/// One command as its arguments (binary-safe: NULs, newlines, anything).
using Command = std::vector<std::string_view>;

/// A cluster node's answer that a key's slot is served elsewhere: MOVED (from
/// now on: update the slot map) or ASK (this once, while the slot migrates:
/// send ASKING first). Either way the command was not run.
struct Redirect {
  bool ask = false;
  int slot = 0;
  Endpoint to;
};

/// A connected, authenticated connection on the configured db.
class Connection {
 public:
  /// Connects within connect_timeout, then AUTH and SELECT as configured.
  /// Refused connections are `unavailable`; a wrong password `auth_failed`;
  /// a db index the server does not have `invalid_argument`.
  static sdk::Result<std::unique_ptr<Connection>> open(const Settings& settings);
  /// The same at another address (the primary a sentinel named); `database`
  /// false skips AUTH and SELECT (a sentinel has neither).
  static sdk::Result<std::unique_ptr<Connection>> open(const Settings& settings, const std::string& host, int port,
                                                       bool database = true);
  ~Connection();

  /// Sends one command and reads its reply. A Redis error reply is an error
  /// value, but leaves the connection usable.
  sdk::Result<Reply> run(const Command& command);
  /// Sends every command, then reads every reply: one round trip.
  sdk::Result<std::vector<Reply>> pipeline(std::span<const Command> commands);
  /// The two halves of pipeline(), so that several servers can be sent their
  /// share before any reply is read (cluster mode's multi-key calls).
  sdk::Result<void> send(std::span<const Command> commands);
  sdk::Result<std::vector<Reply>> receive(std::size_t count);
  /// The next reply of what send() sent, alone (auto-pipelining: each
  /// command of a batch has its own caller); last_redirect() then tells
  /// whether it was a MOVED or ASK.
  sdk::Result<Reply> receive_one() { return read_reply(); }

  /// True once an I/O error or timeout made the connection unusable, or the
  /// server turned out to be a replica (READONLY, or UNBLOCKED for a WAIT:
  /// a primary demoted by a failover).
  bool broken() const noexcept { return demoted_ || context_->err != 0; }
  /// False when the server has closed an idle connection (for example after
  /// a restart): checked before reuse so that no command is sent into a dead socket.
  bool idle_and_alive() const noexcept;
  /// The first MOVED or ASK answered in the last run() or pipeline(), if any.
  const std::optional<Redirect>& redirect() const noexcept { return redirect_; }
  /// The MOVED or ASK of the last reply read, if it was one.
  const std::optional<Redirect>& last_redirect() const noexcept { return last_redirect_; }
  /// Pub/sub: no reply timeout from now on, so the next message may wait as
  /// long as it takes (TCP keepalive still finds a dead peer).
  void wait_without_timeout() noexcept { redisSetTimeout(context_, timeval{0, 0}); }
  /// Shuts the socket down from another thread: a read blocked on it returns.
  void interrupt() noexcept;
  /// "host:port/db", for messages.
  const std::string& address() const noexcept { return address_; }

 private:
  Connection(redisContext* context, std::string host, std::string address)
      : context_(context), host_(std::move(host)), address_(std::move(address)) {}
  sdk::Result<Reply> read_reply();
  sdk::Unexpected io_error() const;

  redisContext* context_;
  std::string host_;
  std::string address_;
  bool demoted_ = false;
  std::optional<Redirect> redirect_;       // the first since send()
  std::optional<Redirect> last_redirect_;  // the last reply's
};

/// The error for a Redis error reply ("WRONGPASS …", "ERR value is not an integer …").
sdk::Error reply_error(const redisReply& reply, const std::string& address);

}  // namespace strata::redis
