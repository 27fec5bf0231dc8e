#pragma once
// Cache role in memory, with the same semantics as the Redis plugin.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "strata/sdk/sdk.hpp"

namespace strata::memory {

/// A map of keys to values with expiry read from the context's clock (so a
/// test moves time instead of sleeping). Expired entries read as absent and
/// are swept as the map grows. Thread-safe (one mutex).
class MemoryCache : public sdk::Cache {
 public:
  explicit MemoryCache(const sdk::PluginContext& context);
  /// `default_ttl_s` (3600, the seed's default), `max_value_bytes` (0: no limit).
  static sdk::ConfigSchema config_schema();

  sdk::Result<void> health() override;
  sdk::Result<std::optional<sdk::Bytes>> get(std::string_view key) override;
  sdk::Result<void> set(std::string_view key, sdk::BytesView value, std::optional<sdk::Ttl> ttl) override;
  sdk::Result<bool> set_if_absent(std::string_view key, sdk::BytesView value,
                                  std::optional<sdk::Ttl> ttl) override;
  sdk::Result<bool> remove(std::string_view key) override;
  sdk::Result<bool> exists(std::string_view key) override;
  sdk::Result<bool> expire(std::string_view key, sdk::Ttl ttl) override;
  sdk::Result<sdk::KeyTtl> ttl(std::string_view key) override;
  sdk::Result<std::vector<std::optional<sdk::Bytes>>> get_many(std::span<const std::string> keys) override;
  sdk::Result<void> set_many(std::span<const std::pair<std::string, sdk::Bytes>> entries,
                             std::optional<sdk::Ttl> ttl) override;
  sdk::Result<std::int64_t> increment(std::string_view key, std::int64_t delta,
                                      std::optional<sdk::Ttl> ttl) override;
  sdk::Result<std::uint64_t> clear() override;

  sdk::Result<sdk::BackupReport> backup(const std::filesystem::path& dir) override;
  sdk::Result<sdk::BackupReport> restore(const std::filesystem::path& dir) override;
  sdk::Result<bool> has_data() override;
  sdk::Result<void> check_restore(const std::filesystem::path& dir) override;
  // Publish and listen (SDK 1.10) within this instance, in memory_channels.cpp.
  sdk::Result<void> publish(std::string_view channel, sdk::BytesView message) override;
  sdk::Result<void> listen(std::string_view channel, sdk::ChannelListener listener) override;
 private:
  struct Entry {
    sdk::Bytes value;
    std::optional<sdk::Timestamp> expires_at;
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const noexcept { return std::hash<std::string_view>{}(key); }
  };
  using Map = std::unordered_map<std::string, Entry, KeyHash, std::equal_to<>>;

  // The live entry under `key`, erasing it if it has expired. Caller holds mutex_.
  Entry* live(std::string_view key, sdk::Timestamp now);
  sdk::Result<std::optional<sdk::Timestamp>> expiry(std::optional<sdk::Ttl> ttl, sdk::Timestamp now) const;
  void store(std::string_view key, sdk::BytesView value, std::optional<sdk::Timestamp> expires_at);
  void sweep(sdk::Timestamp now);
  // invalid_argument naming the limit when a value of `size` bytes is over it.
  sdk::Result<void> fits(std::size_t size) const;
  static sdk::Result<Map> read_entries(const std::filesystem::path& dir, sdk::Timestamp now);

  std::shared_ptr<const sdk::Clock> clock_;
  std::optional<sdk::Ttl> default_ttl_;  // empty: entries without a TTL never expire
  std::optional<std::size_t> max_value_bytes_;  // empty: no limit
  std::mutex mutex_;
  // Listeners by channel; a publish calls them on the publisher's thread.
  std::mutex channels_mutex_;
  std::map<std::string, std::shared_ptr<sdk::ChannelListener>, std::less<>> channels_;
  Map entries_;
  std::size_t sweep_at_ = 1024;  // sweep expired entries when the map reaches this size
};

}  // namespace strata::memory
