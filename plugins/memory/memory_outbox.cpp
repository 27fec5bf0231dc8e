// The memory store's audit outbox (SDK 1.5): events kept beside the rows
// they describe, under the same lock, so a batch and its events appear
// together or not at all — the contract the durable backends keep with one
// transaction. (In memory, "durable" lasts as long as the process.)

#include "memory_storage.hpp"

#include <algorithm>
#include <mutex>

namespace strata::memory {

sdk::Result<void> MemoryStorage::insert_with_outbox(std::span<const sdk::Message> messages,
                                                    std::span<const sdk::AuditEvent> events) {
  for (const auto& e : events)
    if (auto ok = sdk::validate(e); !ok) return ok;
  std::unique_lock lock(mutex_);
  if (auto inserted = insert_messages_locked(messages); !inserted) return inserted;
  for (const auto& e : events) add_to_outbox(e);
  return {};
}

sdk::Result<void> MemoryStorage::insert_sends(std::span<const sdk::Message> messages,
                                              std::span<const sdk::AuditEvent> events) {
  for (const auto& e : events)
    if (auto ok = sdk::validate(e); !ok) return ok;
  std::unique_lock lock(mutex_);  // the check and the insert under one lock, as one transaction
  for (const auto& m : messages)
    for (const auto* id : {&m.sender_id, &m.recipient_id}) {
      auto user = users_.find(*id);
      if (user == users_.end()) return sdk::fail(sdk::ErrorCode::invalid_argument, "no user with id " + id->str());
      if (!user->second.is_active)
        return sdk::fail(sdk::ErrorCode::invalid_argument,
                         "user " + sdk::excerpt(user->second.username, 80) + " is deactivated");
    }
  if (auto inserted = insert_messages_locked(messages); !inserted) return inserted;
  for (const auto& e : events) add_to_outbox(e);
  return {};
}

sdk::Result<std::size_t> MemoryStorage::drain_outbox(std::size_t limit, const sdk::OutboxDelivery& deliver) {
  std::vector<std::uint64_t> taken;
  std::vector<sdk::AuditEvent> batch;
  {
    std::unique_lock lock(mutex_);
    for (const auto& [seq, entry] : outbox_) {
      if (batch.size() >= limit) break;
      if (outbox_delivering_.contains(seq) || !outbox_mine(entry)) continue;
      taken.push_back(seq);
      batch.push_back(entry.event);
    }
    outbox_delivering_.insert(taken.begin(), taken.end());
  }
  if (batch.empty()) return std::size_t{0};
  // The sink is called without the lock: writers go on meanwhile.
  auto delivered = deliver(batch);
  std::unique_lock lock(mutex_);
  for (auto seq : taken) {
    outbox_delivering_.erase(seq);
    if (delivered) outbox_.erase(seq);
  }
  if (!delivered) return sdk::fail(delivered.error());
  return batch.size();
}

sdk::Result<std::uint64_t> MemoryStorage::outbox_size() {
  std::shared_lock lock(mutex_);
  return static_cast<std::uint64_t>(
      std::count_if(outbox_.begin(), outbox_.end(), [&](const auto& entry) { return outbox_mine(entry.second); }));
}

sdk::Result<std::optional<sdk::Timestamp>> MemoryStorage::outbox_oldest() {
  std::shared_lock lock(mutex_);
  std::optional<sdk::Timestamp> oldest;
  for (const auto& [seq, entry] : outbox_)
    if (outbox_mine(entry)) oldest = oldest ? std::min(*oldest, entry.event.timestamp) : entry.event.timestamp;
  return oldest;
}

sdk::Result<void> MemoryStorage::set_outbox_sink(std::string_view identity) {
  std::unique_lock lock(mutex_);
  outbox_sink_ = identity;
  return {};
}

}  // namespace strata::memory
