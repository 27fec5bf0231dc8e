// The host-level tables: schema and reader of each, in one place.

#include "host_tables.hpp"

#include <algorithm>

namespace strata::detail {
namespace {

using sdk::ConfigType;
using sdk::ErrorCode;
using sdk::field;

AuditFailurePolicy parse_policy(const std::string& policy) {
  if (policy == "block") return AuditFailurePolicy::block;
  if (policy == "spool") return AuditFailurePolicy::spool;
  if (policy == "drop") return AuditFailurePolicy::drop;
  throw sdk::Error{ErrorCode::invalid_argument, "on_failure must be block, spool or drop, got '" + policy + "'", {}, false};
}

std::vector<HostTable> make_tables() {
  return {
      {"audit",
       {
           field("on_failure", ConfigType::string, "when the sink fails: block, spool or drop").or_default("spool"),
           field("queue_size", ConfigType::integer, "events waiting for the flusher").or_default(4096),
           field("batch_size", ConfigType::integer, "events per append to the sink").or_default(256),
           field("flush_interval_ms", ConfigType::integer, "longest wait before a partial batch is written")
               .or_default(200),
           field("outbox", ConfigType::boolean,
                 "commit events to the storage's transactional outbox, with the rows they describe, when it has "
                 "one (SDK 1.5): durable before the operation returns")
               .or_default(true),
           field("spool_path", ConfigType::string,
                 "the spool file (default: <data dir>/audit-spool-<plugin>-<sink id>.jsonl, one per sink)"),
           field("ledger", ConfigType::boolean,
                 "seal every stored event into a Merkle-tree ledger with signed checkpoints (tamper-evident)")
               .or_default(true),
           field("ledger_dir", ConfigType::string,
                 "the ledger's directory (default: <data dir>/audit-ledger-<plugin>-<sink id>, one per sink)"),
           field("checkpoint_interval_ms", ConfigType::integer,
                 "longest time sealed events wait for a signed checkpoint").or_default(1000),
           field("checkpoint_every", ConfigType::integer, "a signed checkpoint at least every this many events")
               .or_default(10'000),
       },
       [](const sdk::ConfigView& v, ServiceSettings& s, const HostConfig& config, const EnvLookup&) {
         s.audit.on_failure = parse_policy(v.get<std::string>("on_failure"));
         s.audit.queue_size = static_cast<std::size_t>(v.get_in_range("queue_size", 1, 10'000'000));
         s.audit.batch_size = static_cast<std::size_t>(v.get_in_range("batch_size", 1, 100'000));
         s.audit.flush_interval = std::chrono::milliseconds(v.get_in_range("flush_interval_ms", 1, 3'600'000));
         s.audit.outbox = v.get<bool>("outbox");
         auto spool = v.find<std::string>("spool_path");
         // Without spool_path the host names the sink's own spool in the data
         // directory once the sink has started (use_files_of_sink in host.cpp).
         if (spool) {
           std::filesystem::path path(*spool);
           s.audit.spool_path = path.is_absolute() ? path : config.base_dir / path;
         }
         s.audit.spool_path_configured = spool.has_value();
         s.audit.ledger.enabled = v.get<bool>("ledger");
         if (auto dir = v.find<std::string>("ledger_dir")) {
           std::filesystem::path path(*dir);
           s.audit.ledger.dir = path.is_absolute() ? path : config.base_dir / path;
           s.audit.ledger.dir_configured = true;
         }
         s.audit.ledger.checkpoint_interval =
             std::chrono::milliseconds(v.get_in_range("checkpoint_interval_ms", 10, 3'600'000));
         s.audit.ledger.checkpoint_every =
             static_cast<std::uint64_t>(v.get_in_range("checkpoint_every", 1, 100'000'000));
       }},
      {"group_commit",
       {
           field("max_batch", ConfigType::integer, "writes coalesced into one transaction at most").or_default(256),
           field("linger_us", ConfigType::integer,
                 "how long a writer waits for more writes before committing; 0: only what is already queued")
               .or_default(0),
           field("writers", ConfigType::integer, "transactions in flight at once").or_default(2),
           field("retry_ms", ConfigType::integer,
                 "how long a write cut off by a lost connection (a failover) is retried under the same ids, "
                 "its rows found stored with the same content counting as success; 0: fail at once")
               .or_default(5000),
       },
       [](const sdk::ConfigView& v, ServiceSettings& s, const HostConfig&, const EnvLookup&) {
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
       [](const sdk::ConfigView& v, ServiceSettings& s, const HostConfig&, const EnvLookup&) {
         s.users.scrypt.log2_n = static_cast<int>(v.get_in_range("scrypt_log2_n", 10, 22));
         s.users.scrypt.r = static_cast<int>(v.get_in_range("scrypt_r", 1, 32));
         s.users.scrypt.p = static_cast<int>(v.get_in_range("scrypt_p", 1, 16));
         s.users.cache_ttl = std::chrono::seconds(v.get_in_range("cache_ttl_s", 1, 86400 * 30));
         s.users.min_password_length = static_cast<std::size_t>(v.get_in_range("min_password_length", 1, 1024));
         s.users.bcrypt_max_cost = static_cast<int>(v.get_in_range("bcrypt_max_cost", 4, 31));
       }},
      {"sessions",
       {field("ttl_s", ConfigType::integer, "session lifetime, restarted by every touch").or_default(86400)},
       [](const sdk::ConfigView& v, ServiceSettings& s, const HostConfig&, const EnvLookup&) {
         s.sessions.ttl = std::chrono::seconds(v.get_in_range("ttl_s", 1, SessionSettings::max_ttl.count()));
       }},
      {"keys",
       {field("lifetime_days", ConfigType::integer, "expiry of new user keys; 0: never").or_default(0)},
       [](const sdk::ConfigView& v, ServiceSettings& s, const HostConfig&, const EnvLookup&) {
         auto days = v.get_in_range("lifetime_days", 0, 36500);
         if (days > 0) s.keys.lifetime = std::chrono::hours(24 * days);
       }},
      {"metrics",
       {field("listen", ConfigType::string,
              "serve the host's metrics for Prometheus at http://<listen>/metrics, e.g. \"127.0.0.1:9464\" (port 0: "
              "any free one); unset: no endpoint")},
       [](const sdk::ConfigView& v, ServiceSettings& s, const HostConfig&, const EnvLookup&) {
         s.metrics.listen = v.find<std::string>("listen");
       }},
      {"tracing",
       {field("otlp_endpoint", ConfigType::string,
              "export spans as OTLP/HTTP JSON to this URL, used as given (e.g. \"http://127.0.0.1:4318/v1/traces\"); "
              "unset: no export"),
        field("service_name", ConfigType::string, "the service.name spans are exported under").or_default("strata"),
        field("sample_ratio", ConfigType::number,
              "share of new traces recorded, 0 to 1 (a caller's traceparent decides for its own trace)")
            .or_default(1.0),
        field("queue_size", ConfigType::integer, "spans waiting for export at most; more are dropped and counted")
            .or_default(2048),
        field("batch_size", ConfigType::integer, "spans per export request at most").or_default(512),
        field("flush_interval_ms", ConfigType::integer, "longest wait before a partial batch is sent").or_default(1000),
        field("export_timeout_ms", ConfigType::integer, "time allowed for one export request, connecting included")
            .or_default(2000)},
       [](const sdk::ConfigView& v, ServiceSettings& s, const HostConfig&, const EnvLookup&) {
         auto& t = s.tracing;
         t.otlp_endpoint = v.find<std::string>("otlp_endpoint");
         if (t.otlp_endpoint && !t.otlp_endpoint->starts_with("http://") && !t.otlp_endpoint->starts_with("https://"))
           throw sdk::Error{ErrorCode::invalid_argument,
                            "otlp_endpoint must be an http:// or https:// URL, got '" + *t.otlp_endpoint + "'", {}, false};
         t.service_name = v.get<std::string>("service_name");
         t.sample_ratio = v.get<double>("sample_ratio");
         if (!(t.sample_ratio >= 0 && t.sample_ratio <= 1))
           throw sdk::Error{ErrorCode::invalid_argument,
                            "sample_ratio must be between 0 and 1, got " + std::to_string(t.sample_ratio), {}, false};
         t.queue_size = static_cast<std::size_t>(v.get_in_range("queue_size", 1, 1'000'000));
         t.batch_size = static_cast<std::size_t>(v.get_in_range("batch_size", 1, 100'000));
         t.flush_interval = std::chrono::milliseconds(v.get_in_range("flush_interval_ms", 1, 3'600'000));
         t.export_timeout = std::chrono::milliseconds(v.get_in_range("export_timeout_ms", 1, 600'000));
       }},
      {"erasure",
       {field("per_user_keys", ConfigType::boolean,
              "seal each user's messages and private keys under a data key of theirs, so `strata user erase` "
              "makes them unreadable everywhere (off: the cipher's keys seal them, as the seed's readers need)")
            .or_default(false),
        field("sent_messages", ConfigType::string,
              "what erasing a user does to the messages they sent: keep (their recipients still read them) or "
              "erase (sealed under both users' keys, unreadable once either is erased)")
            .or_default("keep"),
        field("key_cache_s", ConfigType::integer,
              "how long a process keeps a data key it opened; an erase in another process takes effect here "
              "within this")
            .or_default(30),
        field("key_backup_retention_days", ConfigType::integer,
              "key backups older than this are deleted by the next backup: after an erase, no backup yields the "
              "user's plaintext once this has passed")
            .or_default(7)},
       [](const sdk::ConfigView& v, ServiceSettings& s, const HostConfig&, const EnvLookup&) {
         s.erasure.per_user_keys = v.get<bool>("per_user_keys");
         auto sent = v.get<std::string>("sent_messages");
         if (sent != "keep" && sent != "erase")
           throw sdk::Error{sdk::ErrorCode::invalid_argument,
                            "[erasure] sent_messages must be \"keep\" or \"erase\", not \"" + sdk::excerpt(sent, 40) + "\"",
                            {}, false};
         s.erasure.erase_sent = sent == "erase";
         s.erasure.key_cache = std::chrono::seconds(v.get_in_range("key_cache_s", 0, 3600));
         s.erasure.key_backup_retention = std::chrono::hours(24 * v.get_in_range("key_backup_retention_days", 1, 365));
       }},
      {"delivery",
       {field("poll_interval_ms", ConfigType::integer,
              "how often inbox subscribers ask the storage for what hints missed (a lost hint costs at most this)")
            .or_default(1000),
        field("threads", ConfigType::integer,
              "threads reading followed inboxes and calling subscribers back (one subscriber's calls never overlap)")
            .or_default(4)},
       [](const sdk::ConfigView& v, ServiceSettings& s, const HostConfig&, const EnvLookup&) {
         s.delivery.poll_interval = std::chrono::milliseconds(v.get_in_range("poll_interval_ms", 10, 3'600'000));
         s.delivery.threads = static_cast<std::size_t>(v.get_in_range("threads", 1, 64));
       }},
      {"maintenance",
       {
           field("purge_interval_s", ConfigType::integer, "expired-message purge interval; 0: off").or_default(3600),
           field("metrics_interval_s", ConfigType::integer, "metrics flush interval; 0: off").or_default(60),
       },
       [](const sdk::ConfigView& v, ServiceSettings& s, const HostConfig&, const EnvLookup&) {
         s.maintenance.purge_interval = std::chrono::seconds(v.get_in_range("purge_interval_s", 0, 86400 * 30));
         s.maintenance.metrics_interval = std::chrono::seconds(v.get_in_range("metrics_interval_s", 0, 86400));
       }},
  };
}

}  // namespace

const std::vector<HostTable>& host_tables() {
  static const std::vector<HostTable> tables = make_tables();
  return tables;
}

bool is_host_table(std::string_view name) {
  return name != "audit" && std::ranges::any_of(host_tables(), [&](const HostTable& t) { return t.name == name; });
}

bool is_audit_pipeline_key(std::string_view key) {
  for (const auto& table : host_tables())
    if (table.name == "audit")
      return std::ranges::any_of(table.schema, [&](const sdk::ConfigField& f) { return f.key == key; });
  return false;
}

}  // namespace strata::detail
