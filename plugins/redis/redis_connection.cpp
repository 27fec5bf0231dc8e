#include "redis_connection.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>

namespace strata::redis {
namespace {

using sdk::ErrorCode;
using sdk::fail;

timeval to_timeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

// RESP encoding of commands: "*<argc>\r\n" then "$<len>\r\n<arg>\r\n" per argument.
// Encoding a whole pipeline into one buffer, appended to hiredis once, costs
// a fraction of formatting each command through redisAppendCommandArgv.
void encode(const Command& command, std::string& out) {
  out += '*';
  out += std::to_string(command.size());
  out += "\r\n";
  for (auto arg : command) {
    out += '$';
    out += std::to_string(arg.size());
    out += "\r\n";
    out.append(arg);
    out += "\r\n";
  }
}

// "MOVED 3999 127.0.0.1:6381" / "ASK 3999 127.0.0.1:6381"; an empty host
// ("MOVED 3999 :6381") means the host this connection reached.
std::optional<Redirect> parse_redirect(std::string_view text, const std::string& this_host) {
  bool ask = starts_with(text, "ASK ");
  if (!ask && !starts_with(text, "MOVED ")) return std::nullopt;
  text.remove_prefix(ask ? 4 : 6);
  auto space = text.find(' ');
  auto colon = text.rfind(':');
  if (space == std::string_view::npos || colon == std::string_view::npos || colon < space) return std::nullopt;
  try {
    Redirect out{ask, std::stoi(std::string(text.substr(0, space))),
                 {std::string(text.substr(space + 1, colon - space - 1)), std::stoi(std::string(text.substr(colon + 1)))}};
    if (out.to.host.empty()) out.to.host = this_host;
    return out;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

sdk::Error reply_error(const redisReply& reply, const std::string& address) {
  std::string text(reply.str, reply.len);
  std::string message = "Redis at " + address + " answered: " + text;
  if (starts_with(text, "WRONGPASS") || starts_with(text, "NOAUTH") || text.find("invalid password") != std::string::npos ||
      text.find("invalid username-password") != std::string::npos)
    return sdk::Error{ErrorCode::auth_failed, message, {}, false};
  // Out of memory under maxmemory-policy noeviction: answered and refused, nothing written.
  if (starts_with(text, "OOM"))
    return sdk::Error{ErrorCode::conflict, "Redis at " + address + " refused the write, nothing was written: " + text,
                      {}, true};
  if (starts_with(text, "LOADING") || starts_with(text, "BUSY") || starts_with(text, "MASTERDOWN") ||
      starts_with(text, "READONLY") || starts_with(text, "TRYAGAIN") ||
      starts_with(text, "CLUSTERDOWN") || starts_with(text, "MOVED") || starts_with(text, "ASK ") ||
      starts_with(text, "UNBLOCKED"))
    return sdk::Error{ErrorCode::unavailable, message, {}, true};
  if (starts_with(text, "WRONGTYPE") || text.find("not an integer") != std::string::npos ||
      text.find("out of range") != std::string::npos || text.find("invalid expire") != std::string::npos ||
      text.find("overflow") != std::string::npos)
    return sdk::Error{ErrorCode::invalid_argument, message, {}, false};
  if (starts_with(text, "NOPERM")) return sdk::Error{ErrorCode::auth_failed, message, {}, false};
  return sdk::Error{ErrorCode::internal, message, {}, false};
}

sdk::Result<std::unique_ptr<Connection>> Connection::open(const Settings& settings) {
  return open(settings, settings.host, settings.port);
}

sdk::Result<std::unique_ptr<Connection>> Connection::open(const Settings& settings, const std::string& host, int port,
                                                          bool database) {
  redisContext* context = redisConnectWithTimeout(host.c_str(), port, to_timeval(settings.connect_timeout));
  if (!context) return fail(ErrorCode::internal, "cannot allocate a Redis connection");
  std::string address = host + ":" + std::to_string(port) + (database ? "/" + std::to_string(settings.db) : "");
  if (context->err) {
    std::string why = context->errstr;
    // hiredis 0.14 has no distinct timeout code: its message says so.
    bool timed_out = why.find("timed out") != std::string::npos;
    redisFree(context);
    return fail(timed_out ? ErrorCode::timeout : ErrorCode::unavailable,
                "cannot connect to Redis at " + address + ": " + why);
  }
  std::unique_ptr<Connection> connection(new Connection(context, host, address));
  redisSetTimeout(context, to_timeval(settings.command_timeout));
  redisEnableKeepAlive(context);

  if (!database) return connection;
  if (settings.password) {
    Command auth = settings.username ? Command{"AUTH", *settings.username, *settings.password}
                                     : Command{"AUTH", *settings.password};
    if (auto ok = connection->run(auth); !ok) return sdk::fail(ok.error());
  }
  if (settings.db != 0) {
    std::string db = std::to_string(settings.db);
    if (auto ok = connection->run({"SELECT", db}); !ok) {
      sdk::Error e = ok.error();
      if (e.message.find("DB index is out of range") != std::string::npos) {
        e.code = ErrorCode::invalid_argument;
        e.message = "Redis at " + address + " has no database " + db + " (DB index is out of range)";
      }
      return sdk::fail(e);
    }
  }
  return connection;
}

Connection::~Connection() { redisFree(context_); }

void Connection::interrupt() noexcept { ::shutdown(context_->fd, SHUT_RDWR); }

bool Connection::idle_and_alive() const noexcept {
  if (broken()) return false;
  pollfd fd{context_->fd, POLLIN | POLLRDHUP, 0};
  // An idle connection has nothing to read: readable means EOF or a reset.
  return ::poll(&fd, 1, 0) == 0;
}

sdk::Unexpected Connection::io_error() const {
  std::string why = context_->errstr;
  // hiredis reports a read that hit the socket timeout as an I/O error with EAGAIN.
  if (context_->err == REDIS_ERR_IO && (why.find("temporarily unavailable") != std::string::npos ||
                                        why.find("timed out") != std::string::npos))
    return fail(ErrorCode::timeout, "Redis at " + address_ + " did not answer in time");
  if (context_->err == REDIS_ERR_EOF)
    return fail(ErrorCode::unavailable, "Redis at " + address_ + " closed the connection");
  return fail(ErrorCode::unavailable, "lost the connection to Redis at " + address_ + ": " + why);
}

sdk::Result<Reply> Connection::read_reply() {
  void* raw = nullptr;
  last_redirect_.reset();
  if (redisGetReply(context_, &raw) != REDIS_OK || !raw) return io_error();
  Reply reply(static_cast<redisReply*>(raw), &freeReplyObject);
  if (reply->type == REDIS_REPLY_ERROR) {
    std::string_view text(reply->str, reply->len);
    // A write that met a replica, or a WAIT cut short because its server was
    // just demoted ("UNBLOCKED … master -> replica"): the connection now
    // points at a replica, so it is dropped and the call retried (if
    // repeatable) wherever the primary is now.
    if (starts_with(text, "READONLY") || starts_with(text, "UNBLOCKED")) demoted_ = true;
    last_redirect_ = parse_redirect(text, host_);
    if (!redirect_) redirect_ = last_redirect_;
    return sdk::fail(reply_error(*reply, address_));
  }
  return reply;
}

sdk::Result<Reply> Connection::run(const Command& command) {
  if (auto sent = pipeline(std::span<const Command>(&command, 1)); !sent) {
    return sdk::fail(sent.error());
  } else {
    return std::move(sent->front());
  }
}

sdk::Result<std::vector<Reply>> Connection::pipeline(std::span<const Command> commands) {
  if (auto sent = send(commands); !sent) return sdk::fail(sent.error());
  return receive(commands.size());
}

sdk::Result<void> Connection::send(std::span<const Command> commands) {
  redirect_.reset();
  std::string wire;
  for (const auto& command : commands) encode(command, wire);
  if (redisAppendFormattedCommand(context_, wire.data(), wire.size()) != REDIS_OK) return io_error();
  for (int done = 0; !done;)
    if (redisBufferWrite(context_, &done) != REDIS_OK) return io_error();
  return {};
}

sdk::Result<std::vector<Reply>> Connection::receive(std::size_t count) {
  // Read every reply even after an error reply, so the connection stays in step.
  std::vector<Reply> replies;
  replies.reserve(count);
  std::optional<sdk::Error> first_error;
  for (std::size_t i = 0; i < count; ++i) {
    auto reply = read_reply();
    if (!reply) {
      if (broken()) return sdk::fail(reply.error());
      if (!first_error) first_error = reply.error();
      replies.emplace_back(nullptr, &freeReplyObject);
      continue;
    }
    replies.push_back(std::move(*reply));
  }
  if (first_error) return sdk::fail(*first_error);
  return replies;
}

}  // namespace strata::redis
