#pragma once
// Decorators the host puts around every role instance: each call is timed and
// counted in the host's Metrics by role, instance, operation and outcome.
// They also keep the host from calling a method a plugin's SDK did not have.

#include <chrono>
#include <memory>
#include <string>

#include "strata/metrics.hpp"
#include "strata/sdk/sdk.hpp"

namespace strata::detail {

// What every decorator holds. Declared first, so that the per-operation stats
// members of the decorators (initialised in declaration order) can use it.
template <class Role>
struct Instrumented {
  Instrumented(std::shared_ptr<Role> inner, std::shared_ptr<Metrics> metrics, std::string role, std::string instance,
               std::string plugin, std::uint32_t abi_minor)
      : inner_(std::move(inner)), metrics_(std::move(metrics)), role_(std::move(role)),
        instance_(std::move(instance)), plugin_(std::move(plugin)), abi_minor_(abi_minor) {}

  OperationStats& stats(const char* operation) { return metrics_->operation(role_, instance_, operation); }

  template <class F>
  auto timed(OperationStats& stats, F&& call) {
    auto start = std::chrono::steady_clock::now();
    auto result = call();
    stats.record(std::chrono::steady_clock::now() - start,
                 result ? std::nullopt : std::optional<sdk::ErrorCode>(result.error().code));
    return result;
  }

  // Methods added in SDK ABI 1.1 are not in a 1.0 plugin's vtable.
  sdk::Error too_old(const char* operation, std::uint32_t minor) const {
    return sdk::Error{sdk::ErrorCode::unsupported,
                      std::string(operation) + " needs a plugin built against SDK ABI 1." + std::to_string(minor) +
                          " or newer; '" + plugin_ +
                          "' was built against 1." + std::to_string(abi_minor_),
                      plugin_, false};
  }

  std::shared_ptr<Role> inner_;
  std::shared_ptr<Metrics> metrics_;
  std::string role_, instance_, plugin_;
  std::uint32_t abi_minor_;
};

#define STRATA_TIMED_(RET, NAME, PARAMS, ARGS)     \
  OperationStats& NAME##_stats_ = stats(#NAME);    \
  RET NAME PARAMS override { return timed(NAME##_stats_, [&] { return inner_->NAME ARGS; }); }

#define STRATA_TIMED_SINCE_(MINOR, RET, NAME, PARAMS, ARGS)                                          \
  OperationStats& NAME##_stats_ = stats(#NAME);                                                        \
  RET NAME PARAMS override {                                                                           \
    if (abi_minor_ < MINOR)                                                                            \
      return timed(NAME##_stats_, [&]() -> RET { return std::unexpected(too_old(#NAME, MINOR)); });    \
    return timed(NAME##_stats_, [&] { return inner_->NAME ARGS; });                                    \
  }
#define STRATA_TIMED_SINCE_1_1_(RET, NAME, PARAMS, ARGS) STRATA_TIMED_SINCE_(1, RET, NAME, PARAMS, ARGS)
// Backup and restore (ABI 1.2), the same three methods on storage, cache and audit.
#define STRATA_TIMED_BACKUP_                                                                      \
  STRATA_TIMED_SINCE_(2, sdk::Result<sdk::BackupReport>, backup, (const std::filesystem::path& d), (d)) \
  STRATA_TIMED_SINCE_(2, sdk::Result<sdk::BackupReport>, restore, (const std::filesystem::path& d), (d)) \
  STRATA_TIMED_SINCE_(2, sdk::Result<bool>, has_data, (), ())

class InstrumentedStorage final : public sdk::Storage, Instrumented<sdk::Storage> {
 public:
  using Instrumented::Instrumented;
  using Uuid = sdk::Uuid;
  using Timestamp = sdk::Timestamp;
  template <class T>
  using Result = sdk::Result<T>;
  STRATA_TIMED_(Result<void>, health, (), ())
  STRATA_TIMED_(Result<sdk::SchemaStatus>, schema_status, (), ())
  STRATA_TIMED_(Result<sdk::SchemaStatus>, migrate, (int target), (target))
  STRATA_TIMED_(Result<void>, create_user, (const sdk::User& u), (u))
  STRATA_TIMED_(Result<sdk::User>, get_user, (const Uuid& id), (id))
  STRATA_TIMED_(Result<sdk::User>, find_user_by_username, (std::string_view n), (n))
  STRATA_TIMED_(Result<sdk::User>, find_user_by_email, (std::string_view e), (e))
  STRATA_TIMED_(Result<void>, update_user, (const sdk::User& u), (u))
  STRATA_TIMED_(Result<void>, record_login, (const Uuid& id, Timestamp at), (id, at))
  STRATA_TIMED_(Result<void>, set_user_active, (const Uuid& id, bool active), (id, active))
  STRATA_TIMED_(Result<void>, delete_user, (const Uuid& id), (id))
  STRATA_TIMED_(Result<void>, insert_message, (const sdk::Message& m), (m))
  STRATA_TIMED_(Result<void>, insert_messages, (std::span<const sdk::Message> ms), (ms))
  STRATA_TIMED_(Result<sdk::Message>, get_message, (const Uuid& id), (id))
  STRATA_TIMED_(Result<sdk::Page<sdk::Message>>, inbox, (const Uuid& r, const sdk::PageRequest& p), (r, p))
  STRATA_TIMED_(Result<sdk::Page<sdk::Message>>, conversation,
                (const Uuid& a, const Uuid& b, const sdk::PageRequest& p), (a, b, p))
  STRATA_TIMED_(Result<void>, mark_read, (const Uuid& id, Timestamp at), (id, at))
  STRATA_TIMED_(Result<void>, soft_delete_message, (const Uuid& id), (id))
  STRATA_TIMED_(Result<std::uint64_t>, purge_expired, (Timestamp now), (now))
  STRATA_TIMED_(Result<void>, insert_key, (const sdk::KeyRecord& k), (k))
  STRATA_TIMED_(Result<sdk::KeyRecord>, get_key, (const Uuid& id), (id))
  STRATA_TIMED_(Result<std::vector<sdk::KeyRecord>>, keys_for_user, (const Uuid& u), (u))
  STRATA_TIMED_(Result<void>, deactivate_key, (const Uuid& id), (id))
  STRATA_TIMED_SINCE_1_1_(Result<sdk::Page<sdk::Message>>, messages_not_under_key,
                          (std::string_view k, const sdk::PageRequest& p), (k, p))
  STRATA_TIMED_SINCE_1_1_(Result<std::uint64_t>, count_messages_not_under_key, (std::string_view k), (k))
  STRATA_TIMED_SINCE_1_1_(Result<bool>, replace_message_content,
                          (const Uuid& id, std::string_view expected, const sdk::Bytes& c, const sdk::Bytes& iv,
                           std::string_view k),
                          (id, expected, c, iv, k))
  STRATA_TIMED_BACKUP_
};

class InstrumentedCache final : public sdk::Cache, Instrumented<sdk::Cache> {
 public:
  using Instrumented::Instrumented;
  template <class T>
  using Result = sdk::Result<T>;
  using Ttl = sdk::Ttl;
  STRATA_TIMED_(Result<void>, health, (), ())
  STRATA_TIMED_(Result<std::optional<sdk::Bytes>>, get, (std::string_view k), (k))
  STRATA_TIMED_(Result<void>, set, (std::string_view k, sdk::BytesView v, std::optional<Ttl> t), (k, v, t))
  STRATA_TIMED_(Result<bool>, set_if_absent, (std::string_view k, sdk::BytesView v, std::optional<Ttl> t), (k, v, t))
  STRATA_TIMED_(Result<bool>, remove, (std::string_view k), (k))
  STRATA_TIMED_(Result<bool>, exists, (std::string_view k), (k))
  STRATA_TIMED_(Result<bool>, expire, (std::string_view k, Ttl t), (k, t))
  STRATA_TIMED_(Result<sdk::KeyTtl>, ttl, (std::string_view k), (k))
  STRATA_TIMED_(Result<std::vector<std::optional<sdk::Bytes>>>, get_many, (std::span<const std::string> ks), (ks))
  STRATA_TIMED_(Result<void>, set_many,
                (std::span<const std::pair<std::string, sdk::Bytes>> es, std::optional<Ttl> t), (es, t))
  STRATA_TIMED_(Result<std::int64_t>, increment, (std::string_view k, std::int64_t d, std::optional<Ttl> t),
                (k, d, t))
  STRATA_TIMED_(Result<std::uint64_t>, clear, (), ())
  STRATA_TIMED_BACKUP_
};

class InstrumentedAudit final : public sdk::Audit, Instrumented<sdk::Audit> {
 public:
  using Instrumented::Instrumented;
  template <class T>
  using Result = sdk::Result<T>;
  STRATA_TIMED_(Result<void>, health, (), ())
  STRATA_TIMED_(Result<void>, append, (std::span<const sdk::AuditEvent> es), (es))
  STRATA_TIMED_(Result<void>, append_metrics, (std::span<const sdk::Metric> ms), (ms))
  STRATA_TIMED_(Result<std::vector<sdk::AuditEvent>>, query, (const sdk::AuditQuery& q), (q))
  STRATA_TIMED_(Result<std::uint64_t>, count, (const sdk::AuditQuery& q), (q))
  STRATA_TIMED_(Result<std::vector<sdk::Metric>>, query_metrics, (const sdk::MetricQuery& q), (q))
  STRATA_TIMED_BACKUP_
};

class InstrumentedCipher final : public sdk::Cipher, Instrumented<sdk::Cipher> {
 public:
  using Instrumented::Instrumented;
  template <class T>
  using Result = sdk::Result<T>;
  using BytesView = sdk::BytesView;
  STRATA_TIMED_(Result<void>, health, (), ())
  STRATA_TIMED_(Result<std::string>, primary_key_id, (), ())
  STRATA_TIMED_(Result<std::vector<std::string>>, key_ids, (), ())
  STRATA_TIMED_(Result<sdk::Sealed>, seal, (BytesView p, BytesView ad), (p, ad))
  STRATA_TIMED_(Result<sdk::Bytes>, open, (const sdk::Sealed& s, BytesView ad), (s, ad))
  STRATA_TIMED_(Result<sdk::Sealed>, wrap, (BytesView k), (k))
  STRATA_TIMED_(Result<sdk::Bytes>, unwrap, (const sdk::Sealed& w), (w))
  STRATA_TIMED_(Result<sdk::Sealed>, seal_with_iv, (std::string_view id, BytesView iv, BytesView p, BytesView ad),
                (id, iv, p, ad))
};

#undef STRATA_TIMED_
#undef STRATA_TIMED_SINCE_1_1_
#undef STRATA_TIMED_SINCE_
#undef STRATA_TIMED_BACKUP_

}  // namespace strata::detail
