#pragma once
// Guards that stand between the host and a plugin's implementation. They are
// instantiated inside the plugin (by provide<Impl>()), so an exception thrown
// by the implementation is caught before it can leave the library.
//
// GuardedX<Impl> derives from Impl and calls Impl::method directly (a
// non-virtual call), so the guard costs one direct call, not a second dispatch.

#include <exception>
#include <new>
#include <string>
#include <utility>

#include "strata/sdk/audit.hpp"
#include "strata/sdk/cache.hpp"
#include "strata/sdk/cipher.hpp"
#include "strata/sdk/error.hpp"
#include "strata/sdk/role_methods.hpp"
#include "strata/sdk/storage.hpp"

namespace strata::sdk {

struct PluginContext;

namespace detail {

/// Stamps the plugin's name on an error that has none, and bounds and
/// escapes its message (it may quote input: a username, a stored value).
inline void stamp(Error& error, const std::string& plugin) {
  if (error.plugin.empty()) error.plugin = plugin;
  error.message = excerpt(error.message);
}

/// The error for the exception being handled (call only inside a catch block).
/// Out of line and cold: the hot path of a guarded call stays small.
[[gnu::noinline, gnu::cold]] inline Error current_exception_error(const std::string& plugin) noexcept {
  Error error;
  try {
    throw;
  } catch (const Error& e) {
    error = e;
  } catch (const std::bad_alloc&) {
    error = Error{ErrorCode::internal, "out of memory", {}, true};
  } catch (const std::exception& e) {
    error = Error{ErrorCode::internal, std::string("unexpected exception: ") + e.what(), {}, false};
  } catch (...) {
    error = Error{ErrorCode::internal, "unexpected non-standard exception", {}, false};
  }
  stamp(error, plugin);
  return error;
}

/// Runs `f`, returning its Result; any exception becomes an error value, and
/// errors are stamped with the plugin's name. Always inlined into the guarded
/// method, so a successful call costs one direct call more than a plain one.
template <class F>
[[gnu::always_inline]] inline auto guard(const std::string& plugin, F&& f) noexcept -> decltype(f()) {
  try {
    auto r = f();
    if (!r) [[unlikely]]
      stamp(r.error(), plugin);
    return r;
  } catch (...) {
    return std::unexpected(current_exception_error(plugin));
  }
}

}  // namespace detail

// One override per table row (role_methods.hpp): the guarded method calls
// Impl's version directly (Impl's own, or the role's optional default).
#define STRATA_GUARD_(KIND, RET, NAME, PARAMS, ARGS) \
  RET NAME PARAMS override { return detail::guard(plugin_, [&] { return Impl::NAME ARGS; }); }

// GuardedX<Impl>: a role implementation behind a guard, every method of the role's table.
#define STRATA_GUARDED_ROLE_(CLASS, ROLE_METHODS)                                                   \
  template <class Impl>                                                                             \
  class CLASS final : public Impl {                                                                 \
   public:                                                                                          \
    template <class Context>                                                                        \
    explicit CLASS(const Context& context) : Impl(context), plugin_(context.plugin) {}              \
    ROLE_METHODS(STRATA_GUARD_)                                                                     \
                                                                                                    \
   private:                                                                                         \
    std::string plugin_;                                                                            \
  };

/// Storage implementation behind a guard.
STRATA_GUARDED_ROLE_(GuardedStorage, STRATA_SDK_STORAGE_METHODS)
/// Cache implementation behind a guard.
STRATA_GUARDED_ROLE_(GuardedCache, STRATA_SDK_CACHE_METHODS)
/// Audit implementation behind a guard.
STRATA_GUARDED_ROLE_(GuardedAudit, STRATA_SDK_AUDIT_METHODS)
/// Cipher implementation behind a guard.
STRATA_GUARDED_ROLE_(GuardedCipher, STRATA_SDK_CIPHER_METHODS)

#undef STRATA_GUARDED_ROLE_
#undef STRATA_GUARD_

}  // namespace strata::sdk
