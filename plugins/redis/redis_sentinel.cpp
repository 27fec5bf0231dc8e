#include "redis_sentinel.hpp"

namespace strata::redis {

using sdk::ErrorCode;
using sdk::fail;

sdk::Result<Endpoint> PrimaryLocator::ask(const std::pair<std::string, int>& sentinel) {
  auto c = Connection::open(settings_, sentinel.first, sentinel.second, false);
  if (!c) return sdk::fail(c.error());
  if (settings_.sentinel_password)
    if (auto ok = (*c)->run({"AUTH", *settings_.sentinel_password}); !ok) return sdk::fail(ok.error());
  auto reply = (*c)->run({"SENTINEL", "get-master-addr-by-name", settings_.master_name});
  if (!reply) return sdk::fail(reply.error());
  const redisReply& r = **reply;
  if (r.type != REDIS_REPLY_ARRAY || r.elements != 2)
    return fail(ErrorCode::unavailable, "sentinel " + sentinel.first + ":" + std::to_string(sentinel.second) +
                                            " does not know a master named '" + settings_.master_name + "'");
  Endpoint e{std::string(r.element[0]->str, r.element[0]->len), std::atoi(r.element[1]->str)};
  return e;
}

sdk::Result<Endpoint> PrimaryLocator::primary() {
  {
    std::lock_guard lock(mutex_);
    if (cached_) return *cached_;
  }
  std::string why;
  for (const auto& sentinel : settings_.sentinels) {
    auto found = ask(sentinel);
    if (found) {
      std::lock_guard lock(mutex_);
      cached_ = *found;
      return *found;
    }
    why += (why.empty() ? "" : "; ") + found.error().message;
  }
  return fail(ErrorCode::unavailable, "no sentinel named the primary of '" + settings_.master_name + "': " + why);
}

void PrimaryLocator::invalidate() {
  std::lock_guard lock(mutex_);
  cached_.reset();
}

sdk::Result<std::unique_ptr<Connection>> PrimaryLocator::connect() {
  auto where = primary();
  if (!where) return sdk::fail(where.error());
  auto c = Connection::open(settings_, where->host, where->port);
  if (!c) {
    invalidate();
    return c;
  }
  auto role = (*c)->run({"ROLE"});
  if (!role) {
    invalidate();
    return sdk::fail(role.error());
  }
  const redisReply& r = **role;
  if (r.type != REDIS_REPLY_ARRAY || r.elements == 0 || std::string_view(r.element[0]->str, r.element[0]->len) != "master") {
    invalidate();
    return fail(ErrorCode::unavailable, "Redis at " + where->str() + ", named primary of '" + settings_.master_name +
                                            "' by a sentinel, is not (yet) a primary: a failover is under way");
  }
  return c;
}

std::pair<int, std::optional<Endpoint>> PrimaryLocator::survey() {
  int answering = 0;
  std::optional<Endpoint> named;
  for (const auto& sentinel : settings_.sentinels)
    if (auto found = ask(sentinel)) {
      ++answering;
      named = *found;
    }
  return {answering, named};
}

}  // namespace strata::redis
