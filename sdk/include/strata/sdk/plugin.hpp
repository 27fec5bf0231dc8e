#pragma once
// The plugin boundary: roles, the context a provider is created with, the
// descriptor a library exports, and the STRATA_PLUGIN macro that writes it.
//
// A plugin library exports exactly one symbol, `strata_plugin_v1`, returning a
// PluginDescriptor. The host reads abi_major/abi_minor and the fingerprint
// before it calls anything else, so those fields never move.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include "strata/sdk/audit.hpp"
#include "strata/sdk/cache.hpp"
#include "strata/sdk/cipher.hpp"
#include "strata/sdk/clock.hpp"
#include "strata/sdk/config.hpp"
#include "strata/sdk/error.hpp"
#include "strata/sdk/guarded.hpp"
#include "strata/sdk/log.hpp"
#include "strata/sdk/storage.hpp"
#include "strata/sdk/version.hpp"

namespace strata::sdk {

/// The four plugin roles. Values are part of the ABI.
enum class Role : std::uint32_t { storage = 1, cache = 2, audit = 3, cipher = 4 };

/// "storage", "cache", "audit", "cipher", or "unknown".
constexpr std::string_view to_string(Role role) noexcept {
  switch (role) {
    case Role::storage: return "storage";
    case Role::cache: return "cache";
    case Role::audit: return "audit";
    case Role::cipher: return "cipher";
  }
  return "unknown";
}

/// What the host hands a provider when it creates an instance.
struct PluginContext {
  std::string plugin;             ///< plugin name, e.g. "memory"
  std::string instance;           ///< instance name, e.g. "default" or "session"
  Role role = Role::storage;      ///< the role being created
  ConfigView config;              ///< validated against the provider's schema
  std::shared_ptr<const Clock> clock = std::make_shared<SystemClock>();  ///< time source
  Logger log = [](LogLevel, std::string_view) {};                        ///< diagnostics sink
};

/// One role a library provides: its config schema and a factory. Exactly the
/// factory matching `role` is set. Write these with provide<Impl>().
struct Provider {
  Role role = Role::storage;
  Result<ConfigSchema> (*config_schema)() noexcept = nullptr;
  Result<std::unique_ptr<Storage>> (*create_storage)(const PluginContext&) noexcept = nullptr;
  Result<std::unique_ptr<Cache>> (*create_cache)(const PluginContext&) noexcept = nullptr;
  Result<std::unique_ptr<Audit>> (*create_audit)(const PluginContext&) noexcept = nullptr;
  Result<std::unique_ptr<Cipher>> (*create_cipher)(const PluginContext&) noexcept = nullptr;
};

/// What `strata_plugin_v1` returns. Field order is ABI: never reorder.
struct PluginDescriptor {
  std::uint32_t abi_major;     ///< STRATA_SDK_ABI_MAJOR the plugin was built with
  std::uint32_t abi_minor;     ///< STRATA_SDK_ABI_MINOR the plugin was built with
  const char* fingerprint;     ///< STRATA_SDK_FINGERPRINT the plugin was built with
  const char* name;            ///< plugin name ("memory")
  const char* version;         ///< plugin version ("1.0.0")
  const char* description;     ///< one line
  const Provider* providers;   ///< the roles it provides
  std::size_t provider_count;
};

/// The entry point's type and exported name.
using EntryPoint = const PluginDescriptor*() noexcept;
inline constexpr const char* entry_point_name = "strata_plugin_v1";

namespace detail {

template <class Impl>
Result<ConfigSchema> schema_trampoline() noexcept {
  return guard("", [] { return Result<ConfigSchema>(Impl::config_schema()); });
}

template <class Role, class Guarded>
Result<std::unique_ptr<Role>> create_trampoline(const PluginContext& context) noexcept {
  return guard(context.plugin, [&] {
    return Result<std::unique_ptr<Role>>(std::make_unique<Guarded>(context));
  });
}

}  // namespace detail

/// Describes the provider implemented by `Impl`, which must derive from exactly
/// one role interface, be constructible from `const PluginContext&` (throwing
/// strata::sdk::Error to refuse), and declare `static ConfigSchema config_schema()`.
/// Every call into the instance goes through a guard generated here, inside
/// the plugin, that turns any exception into an `internal` error.
template <class Impl>
constexpr Provider provide() noexcept {
  constexpr int roles = std::is_base_of_v<Storage, Impl> + std::is_base_of_v<Cache, Impl> +
                        std::is_base_of_v<Audit, Impl> + std::is_base_of_v<Cipher, Impl>;
  static_assert(roles == 1, "a provider implements exactly one role interface");
  // An abstract Impl misses a required method; say which list to check
  // before the compiler's own notes (they name the pure virtual left over).
  static_assert(!(std::is_base_of_v<Storage, Impl> && std::is_abstract_v<Impl>),
                "this Storage provider does not implement every required method: each REQUIRED row of "
                "STRATA_SDK_STORAGE_METHODS in strata/sdk/role_methods.hpp (the compiler's notes below name the "
                "missing one)");
  static_assert(!(std::is_base_of_v<Cache, Impl> && std::is_abstract_v<Impl>),
                "this Cache provider does not implement every required method: each REQUIRED row of "
                "STRATA_SDK_CACHE_METHODS in strata/sdk/role_methods.hpp (the compiler's notes below name the "
                "missing one)");
  static_assert(!(std::is_base_of_v<Audit, Impl> && std::is_abstract_v<Impl>),
                "this Audit provider does not implement every required method: each REQUIRED row of "
                "STRATA_SDK_AUDIT_METHODS in strata/sdk/role_methods.hpp (the compiler's notes below name the "
                "missing one)");
  static_assert(!(std::is_base_of_v<Cipher, Impl> && std::is_abstract_v<Impl>),
                "this Cipher provider does not implement every required method: each REQUIRED row of "
                "STRATA_SDK_CIPHER_METHODS in strata/sdk/role_methods.hpp (the compiler's notes below name the "
                "missing one)");
  static_assert(std::is_abstract_v<Impl> || std::is_constructible_v<Impl, const PluginContext&>,
                "a provider is constructible from const PluginContext&");
  Provider p{};
  p.config_schema = &detail::schema_trampoline<Impl>;
  if constexpr (std::is_base_of_v<Storage, Impl>) {
    p.role = Role::storage;
    p.create_storage = &detail::create_trampoline<Storage, GuardedStorage<Impl>>;
  } else if constexpr (std::is_base_of_v<Cache, Impl>) {
    p.role = Role::cache;
    p.create_cache = &detail::create_trampoline<Cache, GuardedCache<Impl>>;
  } else if constexpr (std::is_base_of_v<Audit, Impl>) {
    p.role = Role::audit;
    p.create_audit = &detail::create_trampoline<Audit, GuardedAudit<Impl>>;
  } else {
    p.role = Role::cipher;
    p.create_cipher = &detail::create_trampoline<Cipher, GuardedCipher<Impl>>;
  }
  return p;
}

}  // namespace strata::sdk

/// Marks the one symbol a plugin exports (build plugins with -fvisibility=hidden).
#define STRATA_PLUGIN_EXPORT extern "C" __attribute__((visibility("default")))

/// Writes the plugin's entry point. Use once per library:
///   STRATA_PLUGIN("memory", "1.0.0", "In-memory stubs",
///                 strata::sdk::provide<MemoryStorage>(), strata::sdk::provide<MemoryCache>())
#define STRATA_PLUGIN(NAME, VERSION, DESCRIPTION, ...)                                         \
  STRATA_PLUGIN_EXPORT const ::strata::sdk::PluginDescriptor* strata_plugin_v1() noexcept {   \
    static const ::strata::sdk::Provider providers[] = {__VA_ARGS__};                         \
    static const ::strata::sdk::PluginDescriptor descriptor{                                  \
        STRATA_SDK_ABI_MAJOR, STRATA_SDK_ABI_MINOR, STRATA_SDK_FINGERPRINT, NAME, VERSION,    \
        DESCRIPTION,          providers,            sizeof(providers) / sizeof(providers[0])}; \
    return &descriptor;                                                                       \
  }
