#pragma once
// The `faulty` wrapper (strata/faults.hpp): decorators, one override per
// role-table row like the timing layer's, that ask the instance's
// FaultControl before each call and inject what its rule says. Calls no
// rule hits go straight to the wrapped plugin.

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>

#include "strata/faults.hpp"
#include "strata/sdk/sdk.hpp"

namespace strata::detail {

// Whether a call's arguments (a tuple of references) start with a batch.
template <class T>
struct is_span : std::false_type {};
template <class T, std::size_t N>
struct is_span<std::span<T, N>> : std::true_type {};
template <class Tuple>
struct starts_with_batch : std::false_type {};
template <class First, class... Rest>
struct starts_with_batch<std::tuple<First, Rest...>> : is_span<std::decay_t<First>> {};

// What every faulty decorator holds.
template <class Role>
struct Faulty {
  Faulty(std::shared_ptr<Role> inner, std::shared_ptr<FaultControl> control, std::string plugin,
         std::uint32_t abi_minor)
      : inner_(std::move(inner)), control_(std::move(control)), plugin_(std::move(plugin)), abi_minor_(abi_minor) {}

  sdk::Error injected(sdk::ErrorCode code, const char* method, const std::string& how) const {
    return sdk::Error{code, std::string(method) + ": " + how + " (injected by faulty around '" + plugin_ + "')",
                      "faulty", code == sdk::ErrorCode::unavailable || code == sdk::ErrorCode::timeout};
  }

  // Does to one call what the rule says. `call` calls the wrapped plugin
  // with the arguments it is given; `args` are the call's own.
  template <class Ret, class Call, class Args>
  Ret inject(const FaultRule& rule, const char* method, Call&& call, Args&& args) {
    if (rule.on_hit) rule.on_hit(method);
    if (rule.latency.count() > 0) std::this_thread::sleep_for(rule.latency);
    if (rule.hang.count() > 0) {
      std::this_thread::sleep_for(rule.hang);
      return std::unexpected(injected(sdk::ErrorCode::timeout, method,
                                      "no answer within " + std::to_string(rule.hang.count()) + " ms"));
    }
    if (!rule.error) return std::apply(call, std::forward<Args>(args));  // only slow
    auto error = injected(*rule.error, method, "failed");
    if (rule.partial) {
      if constexpr (starts_with_batch<std::decay_t<Args>>::value) {
        std::apply(
            [&](auto&& batch, auto&&... rest) {
              auto n = static_cast<std::size_t>(static_cast<double>(batch.size()) * *rule.partial);
              (void)call(batch.first(n), rest...);
            },
            std::forward<Args>(args));
        error.message = std::string(method) + ": failed after part of the batch was applied (injected by faulty "
                                              "around '" + plugin_ + "')";
        return std::unexpected(error);
      }
    }
    if (rule.after_commit) {
      (void)std::apply(call, std::forward<Args>(args));
      error.message = std::string(method) + ": reported failed after it was applied (injected by faulty around '" +
                      plugin_ + "')";
    }
    return std::unexpected(error);
  }

  std::shared_ptr<Role> inner_;
  std::shared_ptr<FaultControl> control_;
  std::string plugin_;
  std::uint32_t abi_minor_;
};

// One override per table row (strata/sdk/role_methods.hpp). A method the
// wrapped plugin's SDK predates is never called on it.
#define STRATA_FAULTY_(KIND, RET, NAME, PARAMS, ARGS)                                                              \
  RET NAME PARAMS override {                                                                                       \
    constexpr std::uint32_t since = STRATA_SDK_SINCE(KIND);                                                        \
    if (since > 0 && abi_minor_ < since)                                                                           \
      return std::unexpected(                                                                                      \
          sdk::Error{sdk::ErrorCode::unsupported, #NAME " is newer than the wrapped plugin's SDK", plugin_, false}); \
    auto decision = control_->decide(#NAME);                                                                       \
    if (!decision) return inner_->NAME ARGS;                                                                       \
    return inject<RET>(                                                                                            \
        decision->rule, #NAME, [&](auto&&... a) -> RET { return inner_->NAME(std::forward<decltype(a)>(a)...); }, \
        std::forward_as_tuple ARGS);                                                                              \
  }

#define STRATA_FAULTY_ROLE_(CLASS, ROLE, ROLE_METHODS) \
  class CLASS final : public sdk::ROLE, Faulty<sdk::ROLE> { \
   public:                                             \
    using Faulty::Faulty;                              \
    ROLE_METHODS(STRATA_FAULTY_)                       \
  };

STRATA_FAULTY_ROLE_(FaultyStorage, Storage, STRATA_SDK_STORAGE_METHODS)
STRATA_FAULTY_ROLE_(FaultyCache, Cache, STRATA_SDK_CACHE_METHODS)
STRATA_FAULTY_ROLE_(FaultyAudit, Audit, STRATA_SDK_AUDIT_METHODS)
STRATA_FAULTY_ROLE_(FaultyCipher, Cipher, STRATA_SDK_CIPHER_METHODS)

#undef STRATA_FAULTY_ROLE_
#undef STRATA_FAULTY_

}  // namespace strata::detail
