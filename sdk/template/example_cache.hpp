#pragma once
// An example cache provider: a map guarded by a mutex. A real plugin keeps
// the same shape and talks to its backend instead of the map.

#include <map>
#include <mutex>
#include <strata/sdk/sdk.hpp>

namespace example {

class ExampleCache : public strata::sdk::Cache {
 public:
  /// Reads the validated config; throw strata::sdk::Error to refuse it.
  explicit ExampleCache(const strata::sdk::PluginContext& context);
  /// The keys this provider accepts; the host validates them before the constructor runs.
  static strata::sdk::ConfigSchema config_schema();

  strata::sdk::Result<void> health() override;
  strata::sdk::Result<std::optional<strata::sdk::Bytes>> get(std::string_view key) override;
  strata::sdk::Result<void> set(std::string_view key, strata::sdk::BytesView value,
                                std::optional<strata::sdk::Ttl> ttl) override;
  strata::sdk::Result<bool> set_if_absent(std::string_view key, strata::sdk::BytesView value,
                                          std::optional<strata::sdk::Ttl> ttl) override;
  strata::sdk::Result<bool> remove(std::string_view key) override;
  strata::sdk::Result<bool> exists(std::string_view key) override;
  strata::sdk::Result<bool> expire(std::string_view key, strata::sdk::Ttl ttl) override;
  strata::sdk::Result<strata::sdk::KeyTtl> ttl(std::string_view key) override;
  strata::sdk::Result<std::vector<std::optional<strata::sdk::Bytes>>> get_many(
      std::span<const std::string> keys) override;
  strata::sdk::Result<void> set_many(std::span<const std::pair<std::string, strata::sdk::Bytes>> entries,
                                     std::optional<strata::sdk::Ttl> ttl) override;
  strata::sdk::Result<std::int64_t> increment(std::string_view key, std::int64_t delta,
                                              std::optional<strata::sdk::Ttl> ttl) override;
  strata::sdk::Result<std::uint64_t> clear() override;

 private:
  struct Entry {
    strata::sdk::Bytes value;
    strata::sdk::Timestamp expires_at;
  };
  // The entry if present and not expired (expired ones are dropped). Caller holds mutex_.
  Entry* find(std::string_view key);
  strata::sdk::Result<strata::sdk::Timestamp> deadline(std::optional<strata::sdk::Ttl> ttl) const;

  std::shared_ptr<const strata::sdk::Clock> clock_;
  strata::sdk::Ttl default_ttl_;
  std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace example
