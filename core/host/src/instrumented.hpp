#pragma once
// Decorators the host puts around every role instance: each call is timed and
// counted in the host's Metrics by role, instance, operation and outcome, and,
// with tracing on, recorded as a client span.
// They also keep the host from calling a method a plugin's SDK did not have.

#include <chrono>
#include <memory>
#include <string>

#include "strata/metrics.hpp"
#include "strata/sdk/sdk.hpp"
#include "tracer.hpp"

namespace strata::detail {

// What every decorator holds. Declared first, so that the per-operation stats
// members of the decorators (initialised in declaration order) can use it.
template <class Role>
struct Instrumented {
  Instrumented(std::shared_ptr<Role> inner, std::shared_ptr<Metrics> metrics, std::string role, std::string instance,
               std::string plugin, std::uint32_t abi_minor, std::shared_ptr<Tracer> tracer,
               std::optional<sdk::DatabaseInfo> database)
      : inner_(std::move(inner)), metrics_(std::move(metrics)), role_(std::move(role)),
        instance_(std::move(instance)), plugin_(std::move(plugin)), abi_minor_(abi_minor), tracer_(std::move(tracer)),
        database_(std::move(database)) {}

  OperationStats& stats(const char* operation) { return metrics_->operation(role_, instance_, operation); }

  template <class F>
  auto timed(OperationStats& stats, F&& call) {
    if (tracer_) [[unlikely]]
      return traced(stats, call);
    auto start = std::chrono::steady_clock::now();
    auto result = call();
    stats.record(std::chrono::steady_clock::now() - start,
                 result ? std::nullopt : std::optional<sdk::ErrorCode>(result.error().code));
    return result;
  }

  // timed(), inside a client span named and labelled as the OpenTelemetry
  // database conventions say (when the plugin named its database).
  template <class F>
  auto traced(OperationStats& stats, F& call) {
    auto span = tracer_->start(database_ ? stats.operation() + " " + database_->namespace_name
                                         : role_ + "." + stats.operation(),
                               SpanRecord::Kind::client);
    if (span.recording()) {
      if (database_) {
        span.attribute("db.system.name", database_->system);
        span.attribute("db.namespace", database_->namespace_name);
        if (!database_->server_address.empty()) span.attribute("server.address", database_->server_address);
        if (database_->server_port != 0) span.attribute("server.port", std::to_string(database_->server_port));
      }
      span.attribute("db.operation.name", stats.operation());
      span.attribute("strata.role", role_);
      span.attribute("strata.instance", instance_);
      span.attribute("strata.plugin", plugin_);
    }
    auto start = std::chrono::steady_clock::now();
    auto result = call();
    std::optional<sdk::ErrorCode> error;
    if (!result) error = result.error().code;
    stats.record(std::chrono::steady_clock::now() - start, error);
    span.end(error ? std::optional<std::string>(std::string(sdk::to_string(*error))) : std::nullopt);
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
  std::shared_ptr<Tracer> tracer_;  // null: tracing off
  std::optional<sdk::DatabaseInfo> database_;
};

// One override per table row (strata/sdk/role_methods.hpp): timed, counted,
// and never sent to a plugin whose SDK ABI minor predates the method.
#define STRATA_TIMED_(KIND, RET, NAME, PARAMS, ARGS)                                                   \
  OperationStats& NAME##_stats_ = stats(#NAME);                                                        \
  RET NAME PARAMS override {                                                                           \
    constexpr std::uint32_t since = STRATA_SDK_SINCE(KIND);                                            \
    if (since > 0 && abi_minor_ < since)                                                               \
      return timed(NAME##_stats_, [&]() -> RET { return std::unexpected(too_old(#NAME, since)); });    \
    return timed(NAME##_stats_, [&] { return inner_->NAME ARGS; });                                    \
  }

#define STRATA_INSTRUMENTED_ROLE_(CLASS, ROLE, ROLE_METHODS)    \
  class CLASS final : public sdk::ROLE, Instrumented<sdk::ROLE> { \
   public:                                                      \
    using Instrumented::Instrumented;                           \
    ROLE_METHODS(STRATA_TIMED_)                                 \
  };

STRATA_INSTRUMENTED_ROLE_(InstrumentedStorage, Storage, STRATA_SDK_STORAGE_METHODS)
STRATA_INSTRUMENTED_ROLE_(InstrumentedCache, Cache, STRATA_SDK_CACHE_METHODS)
STRATA_INSTRUMENTED_ROLE_(InstrumentedAudit, Audit, STRATA_SDK_AUDIT_METHODS)
STRATA_INSTRUMENTED_ROLE_(InstrumentedCipher, Cipher, STRATA_SDK_CIPHER_METHODS)

#undef STRATA_INSTRUMENTED_ROLE_
#undef STRATA_TIMED_

}  // namespace strata::detail
