// The memory store's session revocations (SDK 1.9): the latest "revoked
// before" per subject, kept as long as the process (the contract the durable
// backends keep in a table of their own).

#include "memory_storage.hpp"

#include <algorithm>
#include <mutex>

namespace strata::memory {

sdk::Result<void> MemoryStorage::revoke_sessions(std::string_view subject, sdk::Timestamp before,
                                                 sdk::Timestamp keep_until) {
  std::unique_lock lock(mutex_);
  std::erase_if(revocations_, [&](const auto& entry) { return entry.second.keep_until < before; });
  auto [it, inserted] = revocations_.try_emplace(std::string(subject), SessionRevocation{before, keep_until});
  if (!inserted) {
    it->second.before = std::max(it->second.before, before);
    it->second.keep_until = std::max(it->second.keep_until, keep_until);
  }
  return {};
}

sdk::Result<std::optional<sdk::Timestamp>> MemoryStorage::sessions_revoked_before(
    std::span<const std::string> subjects) {
  std::shared_lock lock(mutex_);
  std::optional<sdk::Timestamp> latest;
  for (const auto& subject : subjects)
    if (auto it = revocations_.find(subject); it != revocations_.end())
      latest = std::max(latest.value_or(it->second.before), it->second.before);
  return latest;
}

}  // namespace strata::memory
