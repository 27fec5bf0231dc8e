#pragma once
// Cache role on MongoDB: the seed's CacheSchema collection.

#include "mongodb_connection.hpp"

namespace strata::mongodb {

/// Documents {key, value, expiresAt, createdAt} in one collection per
/// instance (its namespace), unique on `key`, with a TTL index on expiresAt.
/// An entry past expiresAt reads as missing even before the server deletes
/// it. Values are stored as BSON binary; counters as 64-bit integers (read
/// back as decimal text); a value the seed stored as a document reads back
/// as its JSON.
class MongoCache : public sdk::Cache {
 public:
  explicit MongoCache(const sdk::PluginContext& context);
  /// See README.md.
  static sdk::ConfigSchema config_schema();

  sdk::Result<void> health() override;
  sdk::Result<std::optional<sdk::Bytes>> get(std::string_view key) override;
  sdk::Result<void> set(std::string_view key, sdk::BytesView value, std::optional<sdk::Ttl> ttl) override;
  sdk::Result<bool> set_if_absent(std::string_view key, sdk::BytesView value, std::optional<sdk::Ttl> ttl) override;
  sdk::Result<bool> remove(std::string_view key) override;
  sdk::Result<bool> exists(std::string_view key) override;
  sdk::Result<bool> expire(std::string_view key, sdk::Ttl ttl) override;
  sdk::Result<sdk::KeyTtl> ttl(std::string_view key) override;
  sdk::Result<std::vector<std::optional<sdk::Bytes>>> get_many(std::span<const std::string> keys) override;
  sdk::Result<void> set_many(std::span<const std::pair<std::string, sdk::Bytes>> entries,
                             std::optional<sdk::Ttl> ttl) override;
  sdk::Result<std::int64_t> increment(std::string_view key, std::int64_t delta, std::optional<sdk::Ttl> ttl) override;
  sdk::Result<std::uint64_t> clear() override;

  sdk::Result<sdk::BackupReport> backup(const std::filesystem::path& dir) override;
  sdk::Result<sdk::BackupReport> restore(const std::filesystem::path& dir) override;
  sdk::Result<bool> has_data() override;
  sdk::Result<sdk::DatabaseInfo> database_info() override { return client_.database_info(); }
 private:
  struct Entry {
    std::optional<sdk::Bytes> value;
    std::optional<std::int64_t> counter;
    std::int64_t expires_ms = 0;
  };
  sdk::Result<sdk::Timestamp> deadline(std::optional<sdk::Ttl> ttl) const;
  sdk::Result<std::optional<Entry>> find_live(std::string_view key);
  // update_one(filter, update, upsert); returns matched + upserted, or the error.
  sdk::Result<std::int64_t> update(const bson_t* filter, const bson_t* update, bool upsert);
  sdk::Result<std::int64_t> remove_where(const bson_t* filter, bool many);
  Bson live_filter(std::string_view key) const;
  void sweep_if_due();

  std::shared_ptr<const sdk::Clock> clock_;
  Client client_;
  std::string collection_;
  sdk::Ttl default_ttl_;
  std::atomic<std::uint64_t> writes_{0};
};

}  // namespace strata::mongodb
