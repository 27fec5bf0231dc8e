// Users' data keys (SDK 1.11): the keys erasure destroys. They are not part
// of the stub's backup (memory_backup.cpp) and a restore leaves them alone:
// the services back them up apart (core/README.md, "Erasure").

#include <algorithm>
#include <mutex>

#include "memory_storage.hpp"

namespace strata::memory {
namespace {

using sdk::ErrorCode;
using sdk::fail;

bool newer(const sdk::DataKey* a, const sdk::DataKey* b) {
  return std::tie(a->created_at, a->id) > std::tie(b->created_at, b->id);
}

}  // namespace

sdk::Result<void> MemoryStorage::insert_data_key(const sdk::DataKey& key) {
  std::unique_lock lock(mutex_);
  auto it = data_keys_.find(key.id);
  if (key.destroyed_at) {  // a tombstone: destroys the id, whatever is stored
    if (it == data_keys_.end()) {
      sdk::DataKey tombstone = key;
      tombstone.wrapped.clear();
      data_keys_.emplace(key.id, std::move(tombstone));
    } else if (!it->second.destroyed_at) {
      it->second.wrapped.clear();
      it->second.destroyed_at = key.destroyed_at;
    }
    return {};
  }
  if (it != data_keys_.end() && it->second.destroyed_at)
    return fail(ErrorCode::key_destroyed, "data key " + key.id.str() + " was destroyed; it is never stored again");
  if (it != data_keys_.end()) return fail(ErrorCode::already_exists, "data key " + key.id.str() + " exists");
  if (key.wrapped.empty()) return fail(ErrorCode::invalid_argument, "data key " + key.id.str() + " has no key");
  data_keys_.emplace(key.id, key);
  return {};
}

sdk::Result<sdk::DataKey> MemoryStorage::get_data_key(const sdk::Uuid& id) {
  std::shared_lock lock(mutex_);
  auto it = data_keys_.find(id);
  if (it == data_keys_.end()) return fail(ErrorCode::not_found, "no data key with id " + id.str());
  return it->second;
}

sdk::Result<std::vector<sdk::DataKey>> MemoryStorage::data_keys_for_user(const sdk::Uuid& user_id) {
  std::shared_lock lock(mutex_);
  std::vector<const sdk::DataKey*> live;
  for (const auto& [id, key] : data_keys_)
    if (key.user_id == user_id && !key.destroyed_at) live.push_back(&key);
  std::sort(live.begin(), live.end(), newer);
  std::vector<sdk::DataKey> out;
  for (const auto* key : live) out.push_back(*key);
  return out;
}

sdk::Result<std::vector<sdk::Uuid>> MemoryStorage::destroy_data_keys(const sdk::Uuid& user_id, sdk::Timestamp at) {
  std::unique_lock lock(mutex_);
  std::vector<sdk::Uuid> destroyed;
  for (auto& [id, key] : data_keys_)
    if (key.user_id == user_id && !key.destroyed_at) {
      key.wrapped.clear();
      key.destroyed_at = at;
      destroyed.push_back(id);
    }
  return destroyed;
}

sdk::Result<sdk::Page<sdk::DataKey>> MemoryStorage::all_data_keys(const sdk::PageRequest& request) {
  std::shared_lock lock(mutex_);
  return keyset_page(data_keys_, request);
}

sdk::Result<bool> MemoryStorage::replace_data_key_wrapping(const sdk::Uuid& id, const sdk::Bytes& expected,
                                                           const sdk::Bytes& replacement) {
  std::unique_lock lock(mutex_);
  auto it = data_keys_.find(id);
  if (it == data_keys_.end()) return fail(ErrorCode::not_found, "no data key with id " + id.str());
  if (it->second.destroyed_at || it->second.wrapped != expected) return false;
  it->second.wrapped = replacement;
  return true;
}

}  // namespace strata::memory
