#include "memory_cache.hpp"

#include "memory_settings.hpp"

#include "memory_backup.hpp"
#include <charconv>
#include <limits>

namespace strata::memory {
namespace {

using sdk::ErrorCode;
using sdk::fail;

}  // namespace

MemoryCache::MemoryCache(const sdk::PluginContext& context) : clock_(context.clock) {
  auto seconds = context.config.get<std::int64_t>("default_ttl_s");
  if (seconds < 0)
    throw sdk::Error{ErrorCode::invalid_argument, "default_ttl_s must be 0 (no expiry) or positive", {}, false};
  if (seconds > 0) default_ttl_ = std::chrono::seconds(seconds);
  // The floor is the cache kit's min_declared_value_limit: what the services
  // keep in a cache is far smaller, so any cache storing 64 KiB serves them.
  constexpr std::int64_t smallest_limit = 64 * 1024;
  auto limit = context.config.get<std::int64_t>("max_value_bytes");
  if (limit != 0 && limit < smallest_limit)
    throw sdk::Error{ErrorCode::invalid_argument,
                     "max_value_bytes must be 0 (no limit) or at least " + std::to_string(smallest_limit) + ", got " +
                         std::to_string(limit),
                     {},
                     false};
  if (limit > 0) max_value_bytes_ = static_cast<std::size_t>(limit);
}

sdk::Result<void> MemoryCache::fits(std::size_t size) const {
  if (!max_value_bytes_ || size <= *max_value_bytes_) return {};
  return fail(ErrorCode::invalid_argument, "a value of " + std::to_string(size) +
                                               " bytes is over this cache's max_value_bytes (" +
                                               std::to_string(*max_value_bytes_) + ")");
}

sdk::ConfigSchema MemoryCache::config_schema() { return cache_schema(); }

sdk::Result<void> MemoryCache::health() { return {}; }

MemoryCache::Entry* MemoryCache::live(std::string_view key, sdk::Timestamp now) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  if (it->second.expires_at && *it->second.expires_at <= now) {
    entries_.erase(it);
    return nullptr;
  }
  return &it->second;
}

sdk::Result<std::optional<sdk::Timestamp>> MemoryCache::expiry(std::optional<sdk::Ttl> ttl,
                                                               sdk::Timestamp now) const {
  if (!ttl) {
    if (!default_ttl_) return std::optional<sdk::Timestamp>();
    return std::optional<sdk::Timestamp>(now + *default_ttl_);
  }
  if (ttl->count() <= 0)
    return fail(ErrorCode::invalid_argument, "TTL must be positive, got " + std::to_string(ttl->count()) + " ms");
  return std::optional<sdk::Timestamp>(now + *ttl);
}

void MemoryCache::sweep(sdk::Timestamp now) {
  std::erase_if(entries_, [&](const auto& e) { return e.second.expires_at && *e.second.expires_at <= now; });
  sweep_at_ = std::max<std::size_t>(1024, entries_.size() * 2);
}

void MemoryCache::store(std::string_view key, sdk::BytesView value,
                        std::optional<sdk::Timestamp> expires_at) {
  auto it = entries_.find(key);
  if (it == entries_.end()) it = entries_.emplace(std::string(key), Entry{}).first;
  it->second.value.assign(value.begin(), value.end());
  it->second.expires_at = expires_at;
}

sdk::Result<std::optional<sdk::Bytes>> MemoryCache::get(std::string_view key) {
  std::lock_guard lock(mutex_);
  if (Entry* e = live(key, clock_->now())) return std::optional<sdk::Bytes>(e->value);
  return std::optional<sdk::Bytes>();
}

sdk::Result<void> MemoryCache::set(std::string_view key, sdk::BytesView value, std::optional<sdk::Ttl> ttl) {
  if (auto r = fits(value.size()); !r) return r;
  std::lock_guard lock(mutex_);
  auto now = clock_->now();
  auto expires_at = expiry(ttl, now);
  if (!expires_at) return sdk::fail(expires_at.error());
  if (entries_.size() >= sweep_at_) sweep(now);
  store(key, value, *expires_at);
  return {};
}

sdk::Result<bool> MemoryCache::set_if_absent(std::string_view key, sdk::BytesView value,
                                             std::optional<sdk::Ttl> ttl) {
  if (auto r = fits(value.size()); !r) return sdk::fail(r.error());
  std::lock_guard lock(mutex_);
  auto now = clock_->now();
  auto expires_at = expiry(ttl, now);
  if (!expires_at) return sdk::fail(expires_at.error());
  if (live(key, now)) return false;
  store(key, value, *expires_at);
  return true;
}

sdk::Result<bool> MemoryCache::remove(std::string_view key) {
  std::lock_guard lock(mutex_);
  bool existed = live(key, clock_->now()) != nullptr;
  if (existed) entries_.erase(entries_.find(key));
  return existed;
}

sdk::Result<bool> MemoryCache::exists(std::string_view key) {
  std::lock_guard lock(mutex_);
  return live(key, clock_->now()) != nullptr;
}

sdk::Result<bool> MemoryCache::expire(std::string_view key, sdk::Ttl ttl) {
  std::lock_guard lock(mutex_);
  auto now = clock_->now();
  auto expires_at = expiry(ttl, now);
  if (!expires_at) return sdk::fail(expires_at.error());
  Entry* e = live(key, now);
  if (!e) return false;
  e->expires_at = *expires_at;
  return true;
}

sdk::Result<sdk::KeyTtl> MemoryCache::ttl(std::string_view key) {
  std::lock_guard lock(mutex_);
  auto now = clock_->now();
  Entry* e = live(key, now);
  if (!e) return sdk::KeyTtl{false, std::nullopt};
  if (!e->expires_at) return sdk::KeyTtl{true, std::nullopt};
  auto remaining = std::chrono::duration_cast<sdk::Ttl>(
      std::chrono::microseconds(e->expires_at->micros() - now.micros()));
  return sdk::KeyTtl{true, remaining};
}

sdk::Result<std::vector<std::optional<sdk::Bytes>>> MemoryCache::get_many(std::span<const std::string> keys) {
  std::lock_guard lock(mutex_);
  auto now = clock_->now();
  std::vector<std::optional<sdk::Bytes>> out;
  out.reserve(keys.size());
  for (const auto& key : keys) {
    Entry* e = live(key, now);
    out.push_back(e ? std::optional<sdk::Bytes>(e->value) : std::nullopt);
  }
  return out;
}

sdk::Result<void> MemoryCache::set_many(std::span<const std::pair<std::string, sdk::Bytes>> entries,
                                        std::optional<sdk::Ttl> ttl) {
  for (const auto& entry : entries)  // all or nothing: checked before any is stored
    if (auto r = fits(entry.second.size()); !r) return r;
  std::lock_guard lock(mutex_);
  auto now = clock_->now();
  auto expires_at = expiry(ttl, now);
  if (!expires_at) return sdk::fail(expires_at.error());
  if (entries_.size() + entries.size() >= sweep_at_) sweep(now);
  for (const auto& [key, value] : entries) store(key, value, *expires_at);
  return {};
}

sdk::Result<std::int64_t> MemoryCache::increment(std::string_view key, std::int64_t delta,
                                                 std::optional<sdk::Ttl> ttl) {
  std::lock_guard lock(mutex_);
  auto now = clock_->now();
  Entry* e = live(key, now);
  std::int64_t current = 0;
  if (e) {
    const char* begin = reinterpret_cast<const char*>(e->value.data());
    const char* end = begin + e->value.size();
    auto [stop, ec] = std::from_chars(begin, end, current);
    if (e->value.empty() || ec != std::errc() || stop != end)
      return fail(ErrorCode::invalid_argument, "the value is not a decimal integer");
  }
  std::int64_t result;
  if (__builtin_add_overflow(current, delta, &result))
    return fail(ErrorCode::invalid_argument, "increment would overflow a 64-bit integer");
  std::string text = std::to_string(result);
  if (e) {
    e->value.assign(text.begin(), text.end());  // an existing key keeps its TTL, as INCRBY does
  } else {
    auto expires_at = expiry(ttl, now);
    if (!expires_at) return sdk::fail(expires_at.error());
    store(key, sdk::as_bytes(text), *expires_at);
  }
  return result;
}

sdk::Result<std::uint64_t> MemoryCache::clear() {
  std::lock_guard lock(mutex_);
  sweep(clock_->now());
  auto count = static_cast<std::uint64_t>(entries_.size());
  entries_.clear();
  return count;
}

// ---- snapshot (SDK 1.2) ----------------------------------------------------

// Each live entry with its remaining TTL, so a restore gives it the same time left.
sdk::Result<sdk::BackupReport> MemoryCache::backup(const std::filesystem::path& dir) {
  std::lock_guard lock(mutex_);
  sdk::Timestamp now = clock_->now();
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& [key, entry] : entries_) {
    if (entry.expires_at && *entry.expires_at <= now) continue;
    nlohmann::json e{{"key", sdk::to_hex(sdk::as_bytes(key))}, {"value", sdk::to_hex(entry.value)}};
    e["ttl_us"] = entry.expires_at ? nlohmann::json(entry.expires_at->micros() - now.micros()) : nlohmann::json();
    entries.push_back(std::move(e));
  }
  return write_snapshot(dir, {{"entries", entries}}, {{"keys", entries.size()}});
}

// The snapshot's live entries, their TTLs counted from `now`; nothing changed.
sdk::Result<MemoryCache::Map> MemoryCache::read_entries(const std::filesystem::path& dir, sdk::Timestamp now) {
  auto snapshot = read_snapshot(dir);
  if (!snapshot) return sdk::fail(snapshot.error());
  Map restored;
  try {
    for (const auto& e : snapshot->at("entries")) {
      auto key = sdk::from_hex(e.at("key").get<std::string>());
      auto value = sdk::from_hex(e.at("value").get<std::string>());
      if (!key || !value) return fail(ErrorCode::invalid_argument, "the cache snapshot holds malformed hex");
      std::optional<sdk::Timestamp> expires;
      if (!e.at("ttl_us").is_null()) expires = sdk::Timestamp::from_micros(now.micros() + e.at("ttl_us").get<std::int64_t>());
      restored[sdk::to_string(*key)] = Entry{std::move(*value), expires};
    }
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorCode::invalid_argument, "the cache snapshot is malformed: " + std::string(e.what()));
  }
  return restored;
}

sdk::Result<sdk::BackupReport> MemoryCache::restore(const std::filesystem::path& dir) {
  auto restored = read_entries(dir, clock_->now());
  if (!restored) return sdk::fail(restored.error());
  std::lock_guard lock(mutex_);
  entries_ = std::move(*restored);
  return sdk::BackupReport{{}, {{"keys", entries_.size()}}, ""};
}

sdk::Result<void> MemoryCache::check_restore(const std::filesystem::path& dir) {
  auto readable = read_entries(dir, clock_->now());
  if (!readable) return sdk::fail(readable.error());
  return {};
}

sdk::Result<bool> MemoryCache::has_data() {
  std::lock_guard lock(mutex_);
  sweep(clock_->now());
  return !entries_.empty();
}

}  // namespace strata::memory
