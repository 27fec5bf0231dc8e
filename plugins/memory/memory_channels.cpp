// Publish and listen (SDK 1.10) on the memory cache: within one instance,
// so within one process (what the in-memory configs need for inbox hints).
// The listener runs on the publisher's thread, outside any lock.

#include "memory_cache.hpp"

namespace strata::memory {

sdk::Result<void> MemoryCache::publish(std::string_view channel, sdk::BytesView message) {
  std::shared_ptr<sdk::ChannelListener> listener;
  {
    std::lock_guard lock(channels_mutex_);
    auto it = channels_.find(channel);
    if (it == channels_.end()) return {};
    listener = it->second;
  }
  (*listener)(message);
  return {};
}

sdk::Result<void> MemoryCache::listen(std::string_view channel, sdk::ChannelListener listener) {
  std::lock_guard lock(channels_mutex_);
  if (!listener) {
    if (auto it = channels_.find(channel); it != channels_.end()) channels_.erase(it);
    return {};
  }
  channels_.insert_or_assign(std::string(channel), std::make_shared<sdk::ChannelListener>(std::move(listener)));
  return {};
}

}  // namespace strata::memory
