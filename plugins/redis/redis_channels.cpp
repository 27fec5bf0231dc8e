// Publish and listen (SDK 1.10) on Redis: PUBLISH and SUBSCRIBE, channel
// names under the instance's key_prefix so deployments sharing a server
// never hear each other.

#include "redis_cache.hpp"

namespace strata::redis {

sdk::Result<void> RedisCache::publish(std::string_view channel, sdk::BytesView message) {
  std::string name = full_key(channel);
  std::string_view payload(reinterpret_cast<const char*>(message.data()), message.size());
  // Not repeatable: a retried PUBLISH could deliver twice (harmless for hints, but not ours to decide).
  auto reply = command_on_key(name, Repeatable::no, {"PUBLISH", name, payload});
  if (!reply) return sdk::fail(reply.error());
  return {};
}

sdk::Result<void> RedisCache::listen(std::string_view channel, sdk::ChannelListener listener) {
  std::string name = full_key(channel);
  std::unique_ptr<Listener> stopped;  // destroyed (joined) outside the lock
  std::lock_guard lock(listeners_mutex_);
  if (auto it = listeners_.find(name); it != listeners_.end()) {
    stopped = std::move(it->second);
    listeners_.erase(it);
  }
  if (!listener) return {};
  Listener::Open open = [this]() -> sdk::Result<std::unique_ptr<Connection>> {
    if (pool_ && pool_->locator()) return pool_->locator()->connect();  // Sentinel: the primary
    if (!settings_.cluster_mode()) return Connection::open(settings_);
    sdk::Result<std::unique_ptr<Connection>> last = sdk::fail(sdk::ErrorCode::unavailable, "no cluster seed");
    for (const auto& seed : settings_.cluster)
      if ((last = Connection::open(settings_, seed.host, seed.port))) return last;
    return last;
  };
  listeners_.emplace(name, std::make_unique<Listener>(std::move(open), name, std::move(listener), log_));
  return {};
}

}  // namespace strata::redis
