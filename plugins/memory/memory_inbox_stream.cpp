// The per-recipient sequence (SDK 1.10) in memory: add_message numbers each
// message under the writer lock; these read the numbers.

#include <mutex>

#include "memory_storage.hpp"

namespace strata::memory {

sdk::Result<sdk::InboxStream> MemoryStorage::inbox_since(const sdk::Uuid& recipient, std::uint64_t after,
                                                         std::size_t limit) {
  if (limit == 0 || limit > sdk::max_page_limit)
    return sdk::fail(sdk::ErrorCode::invalid_argument,
                     "limit must be between 1 and " + std::to_string(sdk::max_page_limit));
  std::shared_lock lock(mutex_);
  sdk::InboxStream out{epoch_, 0, {}};
  if (auto head = inbox_heads_.find(recipient); head != inbox_heads_.end()) out.head = head->second;
  for (auto it = sequence_index_.upper_bound({recipient, after});
       it != sequence_index_.end() && it->first.first == recipient && out.items.size() < limit; ++it)
    out.items.push_back({it->first.second, messages_.at(it->second)});
  return out;
}

sdk::Result<sdk::InboxHeads> MemoryStorage::inbox_heads(std::span<const sdk::Uuid> recipients) {
  std::shared_lock lock(mutex_);
  sdk::InboxHeads out{epoch_, {}};
  for (const auto& recipient : recipients) {
    auto head = inbox_heads_.find(recipient);
    out.heads.push_back(head == inbox_heads_.end() ? 0 : head->second);
  }
  return out;
}

}  // namespace strata::memory
