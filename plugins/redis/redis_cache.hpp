#pragma once
// Cache role on Redis.

#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "redis_cluster.hpp"
#include "redis_listener.hpp"
#include "redis_pool.hpp"
#include "strata/sdk/sdk.hpp"

namespace strata::redis {

/// Every key lives under the instance's key_prefix in its db; values are
/// stored as Redis strings (binary-safe), TTLs with PX. Multi-get is one
/// MGET, multi-set one pipeline: one round trip each (per node and slot in
/// cluster mode). Needs Redis 7 (PEXPIRE NX).
class RedisCache : public sdk::Cache {
 public:
  explicit RedisCache(const sdk::PluginContext& context);
  /// See README.md.
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
  /// Sentinel mode: how many sentinels answer and which primary they name;
  /// cluster mode: each primary's slots, replicas and circuit (empty in standalone mode).
  sdk::Result<std::vector<sdk::Metric>> gauges() override;
  /// db.system.name "redis", db.namespace the database index; the server is
  /// host:port, the first cluster seed, or none behind Sentinel (it moves).
  sdk::Result<sdk::DatabaseInfo> database_info() override;
  /// PUBLISH on the channel (under key_prefix, like keys); in cluster mode
  /// every node relays it. In redis_channels.cpp.
  sdk::Result<void> publish(std::string_view channel, sdk::BytesView message) override;
  /// SUBSCRIBE on a connection of its own (redis_listener.hpp): the primary
  /// (standalone, Sentinel) or the first cluster seed that answers.
  sdk::Result<void> listen(std::string_view channel, sdk::ChannelListener listener) override;

 private:
  std::string full_key(std::string_view key) const;
  // Whether clear() and restore() may empty this instance's namespace (not a
  // shared db without a key_prefix).
  sdk::Result<void> may_clear() const;
  // Where calls go: the one server (standalone, Sentinel's primary), or in
  // cluster mode the key's slot's primary / each node's share of the keys /
  // every primary.
  template <class T>
  sdk::Result<T> on_key(const std::string& key, Repeatable repeatable, const Op<T>& op);
  // One command on the key's server (or slot's primary), auto-pipelined if
  // on; write_on_key() adds WAIT when min_replicas_acked asks for it.
  sdk::Result<Reply> command_on_key(const std::string& key, Repeatable repeatable, const Command& command);
  sdk::Result<Reply> write_on_key(const std::string& key, Repeatable repeatable, const Command& command);
  sdk::Result<void> on_keys(std::span<const std::string> keys, Repeatable repeatable, const GroupCall& call);
  sdk::Result<void> on_each_server(Repeatable repeatable, const Op<void>& op);
  // Groups of `keys` that may share a multi-key command: by slot in cluster mode, else one.
  KeyGroups slot_groups(std::span<const std::string> keys) const;
  // Sends writes in one round trip; with min_replicas_acked, followed by
  // WAIT, and an error unless that many replicas have them.
  sdk::Result<std::vector<Reply>> write(Connection& c, std::vector<Command> commands);
  // The two halves of write()'s WAIT, for calls sent and read apart (cluster multi-key calls).
  void add_wait(std::vector<Command>& commands) const;
  sdk::Result<void> check_wait(std::vector<Reply>& replies, const std::string& where) const;
  // "PX" milliseconds for a call's TTL: the given one, else the default; empty for no expiry.
  sdk::Result<std::optional<std::string>> expiry_ms(std::optional<sdk::Ttl> ttl) const;
  sdk::Result<std::uint64_t> unlink_matching();
  sdk::Result<void> scan_keys(Connection& c,
                              const std::function<sdk::Result<bool>(const std::vector<std::string>&)>& on_page);

  Settings settings_;
  std::string wait_replicas_, wait_ms_;  // WAIT's arguments (min_replicas_acked, command_timeout_ms)
  std::unique_ptr<Pool> pool_;        // standalone and Sentinel mode
  std::unique_ptr<Cluster> cluster_;  // cluster mode
  sdk::Logger log_;
  std::mutex listeners_mutex_;
  std::map<std::string, std::unique_ptr<Listener>, std::less<>> listeners_;  // by full channel name; stop first
};

}  // namespace strata::redis
