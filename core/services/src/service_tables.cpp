// The services' config tables: schema and reader of each, in one place,
// registered with the host when libstrata loads (config_tables.hpp). Adding
// a table or a key means editing this file only.

#include <algorithm>
#include <cstdio>
#include <type_traits>
#include <variant>

#include "config_tables.hpp"
#include "strata/host.hpp"
#include "strata/settings.hpp"

namespace strata {
namespace {

using sdk::ConfigType;
using sdk::ErrorCode;
using sdk::field;

struct ServiceTable {
  std::string name;
  sdk::ConfigSchema schema;
  /// Stores the validated values in `settings`; throws sdk::Error for a value out of range.
  void (*read)(const sdk::ConfigView& values, ServiceSettings& settings);
};

AuditFailurePolicy parse_policy(const std::string& policy) {
  if (policy == "block") return AuditFailurePolicy::block;
  if (policy == "spool") return AuditFailurePolicy::spool;
  if (policy == "drop") return AuditFailurePolicy::drop;
  throw sdk::Error{ErrorCode::invalid_argument,
                   "on_failure must be block, spool or drop, got '" + policy + "'",
                   {},
                   false};
}

const std::vector<ServiceTable>& service_tables() {
  static const std::vector<ServiceTable> tables{
      {"audit",
       {
           field("on_failure", ConfigType::string, "when the sink fails: block, spool or drop")
               .or_default("spool"),
           field("queue_size", ConfigType::integer, "events waiting for the flusher").or_default(4096),
           field("batch_size", ConfigType::integer, "events per append to the sink").or_default(256),
           field("flush_interval_ms", ConfigType::integer, "longest wait before a partial batch is written")
               .or_default(200),
           field("outbox", ConfigType::boolean,
                 "commit events to the storage's transactional outbox, with the rows they describe, when it "
                 "has "
                 "one (SDK 1.5): durable before the operation returns")
               .or_default(true),
           field("spool_path", ConfigType::string,
                 "the spool file (default: <data dir>/audit-spool-<plugin>-<sink id>.jsonl, one per sink)"),
           field("ledger", ConfigType::boolean,
                 "seal every stored event into a Merkle-tree ledger with signed checkpoints (tamper-evident)")
               .or_default(true),
           field(
               "ledger_dir", ConfigType::string,
               "the ledger's directory (default: <data dir>/audit-ledger-<plugin>-<sink id>, one per sink)"),
           field("checkpoint_interval_ms", ConfigType::integer,
                 "longest time sealed events wait for a signed checkpoint")
               .or_default(1000),
           field("checkpoint_every", ConfigType::integer,
                 "a signed checkpoint at least every this many events")
               .or_default(10'000),
       },
       [](const sdk::ConfigView& v, ServiceSettings& s) {
         s.audit.on_failure = parse_policy(v.get<std::string>("on_failure"));
         s.audit.queue_size = static_cast<std::size_t>(v.get_in_range("queue_size", 1, 10'000'000));
         s.audit.batch_size = static_cast<std::size_t>(v.get_in_range("batch_size", 1, 100'000));
         s.audit.flush_interval =
             std::chrono::milliseconds(v.get_in_range("flush_interval_ms", 1, 3'600'000));
         s.audit.outbox = v.get<bool>("outbox");
         // Absolute once the host has opened (complete_audit).
         if (auto spool = v.find<std::string>("spool_path")) s.audit.spool_path = *spool;
         s.audit.ledger.enabled = v.get<bool>("ledger");
         if (auto dir = v.find<std::string>("ledger_dir")) s.audit.ledger.dir = *dir;
         s.audit.ledger.checkpoint_interval =
             std::chrono::milliseconds(v.get_in_range("checkpoint_interval_ms", 10, 3'600'000));
         s.audit.ledger.checkpoint_every =
             static_cast<std::uint64_t>(v.get_in_range("checkpoint_every", 1, 100'000'000));
       }},
      {"group_commit",
       {
           field("max_batch", ConfigType::integer, "writes coalesced into one transaction at most")
               .or_default(256),
           field("linger_us", ConfigType::integer,
                 "how long a writer waits for more writes before committing; 0: only what is already queued")
               .or_default(0),
           field("writers", ConfigType::integer, "transactions in flight at once").or_default(2),
           field("retry_ms", ConfigType::integer,
                 "how long a write cut off by a lost connection (a failover) is retried under the same ids, "
                 "its rows found stored with the same content counting as success; 0: fail at once")
               .or_default(5000),
       },
       [](const sdk::ConfigView& v, ServiceSettings& s) {
         s.group_commit.max_batch = static_cast<std::size_t>(v.get_in_range("max_batch", 1, 100'000));
         s.group_commit.linger = std::chrono::microseconds(v.get_in_range("linger_us", 0, 1'000'000));
         s.group_commit.writers = static_cast<std::size_t>(v.get_in_range("writers", 1, 64));
         s.group_commit.retry = std::chrono::milliseconds(v.get_in_range("retry_ms", 0, 600'000));
       }},
      {"users",
       {
           field("scrypt_log2_n", ConfigType::integer, "scrypt cost: N = 2^log2_n").or_default(15),
           field("scrypt_r", ConfigType::integer, "scrypt block size").or_default(8),
           field("scrypt_p", ConfigType::integer, "scrypt parallelism").or_default(1),
           field("cache_ttl_s", ConfigType::integer, "how long user lookups stay cached").or_default(300),
           field("min_password_length", ConfigType::integer, "shortest password accepted").or_default(8),
           field("bcrypt_max_cost", ConfigType::integer,
                 "highest cost a stored bcrypt hash (the seed's) may ask for; replaced by scrypt at login")
               .or_default(14),
       },
       [](const sdk::ConfigView& v, ServiceSettings& s) {
         s.users.scrypt.log2_n = static_cast<int>(v.get_in_range("scrypt_log2_n", 10, 22));
         s.users.scrypt.r = static_cast<int>(v.get_in_range("scrypt_r", 1, 32));
         s.users.scrypt.p = static_cast<int>(v.get_in_range("scrypt_p", 1, 16));
         s.users.cache_ttl = std::chrono::seconds(v.get_in_range("cache_ttl_s", 1, 86400 * 30));
         s.users.min_password_length =
             static_cast<std::size_t>(v.get_in_range("min_password_length", 1, 1024));
         s.users.bcrypt_max_cost = static_cast<int>(v.get_in_range("bcrypt_max_cost", 4, 31));
       }},
      {"sessions",
       {field("ttl_s", ConfigType::integer, "session lifetime, restarted by every touch").or_default(86400)},
       [](const sdk::ConfigView& v, ServiceSettings& s) {
         s.sessions.ttl = std::chrono::seconds(v.get_in_range("ttl_s", 1, SessionSettings::max_ttl.count()));
       }},
      {"keys",
       {field("lifetime_days", ConfigType::integer, "expiry of new user keys; 0: never").or_default(0)},
       [](const sdk::ConfigView& v, ServiceSettings& s) {
         auto days = v.get_in_range("lifetime_days", 0, 36500);
         if (days > 0) s.keys.lifetime = std::chrono::hours(24 * days);
       }},
      {"erasure",
       {field(
            "per_user_keys", ConfigType::boolean,
            "seal each user's messages and private keys under a data key of theirs, so `strata user erase` "
            "makes them unreadable everywhere (off: the cipher's keys seal them, as the seed's readers need)")
            .or_default(false),
        field(
            "sent_messages", ConfigType::string,
            "what erasing a user does to the messages they sent: keep (their recipients still read them) or "
            "erase (sealed under both users' keys, unreadable once either is erased)")
            .or_default("keep"),
        field("key_cache_s", ConfigType::integer,
              "how long a process keeps a data key it opened; an erase in another process takes effect here "
              "within this")
            .or_default(30),
        field("key_backup_retention_days", ConfigType::integer,
              "key backups older than this are deleted by the next backup: after an erase, no backup yields "
              "the "
              "user's plaintext once this has passed")
            .or_default(7)},
       [](const sdk::ConfigView& v, ServiceSettings& s) {
         s.erasure.per_user_keys = v.get<bool>("per_user_keys");
         auto sent = v.get<std::string>("sent_messages");
         if (sent != "keep" && sent != "erase")
           throw sdk::Error{sdk::ErrorCode::invalid_argument,
                            "[erasure] sent_messages must be \"keep\" or \"erase\", not \"" +
                                sdk::excerpt(sent, 40) + "\"",
                            {},
                            false};
         s.erasure.erase_sent = sent == "erase";
         s.erasure.key_cache = std::chrono::seconds(v.get_in_range("key_cache_s", 0, 3600));
         s.erasure.key_backup_retention =
             std::chrono::hours(24 * v.get_in_range("key_backup_retention_days", 1, 365));
       }},
      {"delivery",
       {field("poll_interval_ms", ConfigType::integer,
              "how often inbox subscribers ask the storage for what hints missed (a lost hint costs at most "
              "this)")
            .or_default(1000),
        field("threads", ConfigType::integer,
              "threads reading followed inboxes and calling subscribers back (one subscriber's calls never "
              "overlap)")
            .or_default(4)},
       [](const sdk::ConfigView& v, ServiceSettings& s) {
         s.delivery.poll_interval =
             std::chrono::milliseconds(v.get_in_range("poll_interval_ms", 10, 3'600'000));
         s.delivery.threads = static_cast<std::size_t>(v.get_in_range("threads", 1, 64));
       }},
      {"maintenance",
       {
           field("purge_interval_s", ConfigType::integer, "expired-message purge interval; 0: off")
               .or_default(3600),
           field("metrics_interval_s", ConfigType::integer, "metrics flush interval; 0: off").or_default(60),
       },
       [](const sdk::ConfigView& v, ServiceSettings& s) {
         s.maintenance.purge_interval =
             std::chrono::seconds(v.get_in_range("purge_interval_s", 0, 86400 * 30));
         s.maintenance.metrics_interval =
             std::chrono::seconds(v.get_in_range("metrics_interval_s", 0, 86400));
       }},
  };
  return tables;
}

// The default spool and ledger belong to one sink: their names carry the
// sink's plugin and a hash of its non-secret settings (FNV-1a, stable across
// builds), so events spooled for one sink are never replayed into another
// that shares the data directory, and each sink has a ledger of its own.
// `strata config` shows the resulting paths. With no data directory (no
// STRATA_DATA_DIR, XDG_DATA_HOME or HOME) it is an error: the spool (and its
// .paused marker) and the ledger never land in the working directory.
std::string sink_id(const InstanceInfo& sink, const sdk::ConfigView& settings) {
  std::uint64_t hash = 1469598103934665603ULL;
  auto mix = [&](std::string_view text) {
    for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ULL;
    hash = (hash ^ 0xff) * 1099511628211ULL;  // separator
  };
  mix(sink.plugin);
  for (const auto& [key, value] : settings.entries()) {
    mix(key);
    std::visit(
        [&](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::string>) mix(v);
          else if constexpr (std::is_same_v<V, bool> || std::is_same_v<V, std::int64_t> ||
                             std::is_same_v<V, double>)
            mix(std::to_string(v));
          else if constexpr (std::is_same_v<V, std::vector<std::string>>)
            for (const auto& item : v) mix(item);
        },
        value.value);
  }
  char id[17];
  std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(hash));
  return sink.plugin + "-" + std::string(id, 12);
}

// [audit]'s paths in effect: relative ones resolved against the config's
// folder, unset ones named after the sink in the data directory.
sdk::Result<sdk::ConfigView> complete_audit(const Host& host, const sdk::ConfigView& values,
                                            const std::filesystem::path& base_dir) {
  auto entries = values.entries();
  auto resolve = [&](std::string_view key) {
    for (auto& [k, value] : entries)
      if (k == key)
        if (const auto* path = std::get_if<std::string>(&value.value);
            path && std::filesystem::path(*path).is_relative())
          value = sdk::ConfigValue((base_dir / *path).string());
  };
  resolve("spool_path");
  resolve("ledger_dir");
  auto instances = host.instances();
  auto sink =
      std::ranges::find_if(instances, [](const InstanceInfo& i) { return i.role == sdk::Role::audit; });
  bool spool = !values.contains("spool_path"),
       ledger = values.get<bool>("ledger") && !values.contains("ledger_dir");
  if (sink != instances.end() && (spool || ledger)) {
    auto data_dir = default_data_dir(host.env());
    if (!data_dir) {
      std::string unset = spool ? "spool_path" : "ledger_dir";
      return sdk::fail(data_dir.error().code, unset + " is not set, and for its default there is " +
                                                  data_dir.error().message + ", or set " + unset);
    }
    std::string id = sink_id(*sink, host.public_config(sdk::Role::audit));
    if (spool)
      entries.emplace_back("spool_path",
                           sdk::ConfigValue((*data_dir / ("audit-spool-" + id + ".jsonl")).string()));
    if (ledger)
      entries.emplace_back("ledger_dir", sdk::ConfigValue((*data_dir / ("audit-ledger-" + id)).string()));
  }
  return sdk::ConfigView(std::move(entries), values.where());
}

// Registers every table when libstrata loads.
[[maybe_unused]] const bool registered = [] {
  for (const auto& table : service_tables()) {
    auto read = table.read;
    register_config_table(ConfigTable{table.name, table.schema,
                                      [read](const sdk::ConfigView& values) {
                                        ServiceSettings scratch;
                                        read(values, scratch);
                                      },
                                      table.name == "audit" ? complete_audit : nullptr});
  }
  return true;
}();

}  // namespace

std::string_view to_string(AuditFailurePolicy policy) noexcept {
  switch (policy) {
    case AuditFailurePolicy::block: return "block";
    case AuditFailurePolicy::spool: return "spool";
    case AuditFailurePolicy::drop: return "drop";
  }
  return "spool";
}

sdk::Result<ServiceSettings> read_service_settings(const Host& host) {
  ServiceSettings s;
  for (const auto& table : service_tables()) {
    if (!find_config_table(table.name))
      return sdk::fail(ErrorCode::internal,
                       "the config table [" + table.name + "] is not registered with the host");
    try {
      table.read(host.table(table.name), s);
    } catch (const sdk::Error& e) {
      return sdk::fail(ErrorCode::invalid_argument, "[" + table.name + "] " + e.message);
    }
  }
  s.data_dir = host.settings().data_dir;
  return s;
}

}  // namespace strata
