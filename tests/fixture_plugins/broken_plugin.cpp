// Plugins broken on purpose, one per BROKEN_* definition (see tests/CMakeLists.txt).
// Each must be refused by the host with its own message naming the file.
#include "test_cache.hpp"

using strata::sdk::PluginDescriptor;
using strata::sdk::Provider;
using strata::sdk::Role;

#if defined(BROKEN_NO_ENTRY)

// A shared library that is not a Strata plugin.
extern "C" __attribute__((visibility("default"))) int not_a_strata_plugin() { return 1; }

#else

#if defined(BROKEN_UNDEFINED_SYMBOL)
// Nobody defines this: with RTLD_NOW the load itself fails, naming it.
extern "C" void strata_test_symbol_nobody_defines();
extern "C" __attribute__((visibility("default"))) void call_missing() { strata_test_symbol_nobody_defines(); }
#endif

#if defined(BROKEN_MISSING_DEPENDENCY)
// Defined in libstrata-test-gone.so, which cannot be found at run time.
extern "C" int strata_test_gone_function();
extern "C" __attribute__((visibility("default"))) int call_gone() { return strata_test_gone_function(); }
#endif

namespace {

std::uint32_t abi_major() {
#if defined(BROKEN_ABI_MAJOR)
  return STRATA_SDK_ABI_MAJOR + 1;
#else
  return STRATA_SDK_ABI_MAJOR;
#endif
}

std::uint32_t abi_minor() {
#if defined(BROKEN_ABI_MINOR)
  return STRATA_SDK_ABI_MINOR + 1;
#else
  return STRATA_SDK_ABI_MINOR;
#endif
}

const char* fingerprint() {
#if defined(BROKEN_FINGERPRINT)
  return "gcc-4;libstdc++-cxx11abi-0;sdk-abi-1";
#else
  return STRATA_SDK_FINGERPRINT;
#endif
}

Provider provider() {
  Provider p = strata::sdk::provide<strata::test::TestCache>();
#if defined(BROKEN_UNKNOWN_ROLE)
  p.role = static_cast<Role>(9);
#endif
  return p;
}

}  // namespace

STRATA_PLUGIN_EXPORT const PluginDescriptor* strata_plugin_v1() noexcept {
#if defined(BROKEN_DUPLICATE_ROLE)
  static const Provider providers[] = {provider(), provider()};
#else
  static const Provider providers[] = {provider()};
#endif
  static const PluginDescriptor descriptor{abi_major(), abi_minor(), fingerprint(), PLUGIN_NAME, "0.0.1",
                                           "deliberately broken test plugin", providers,
                                           sizeof(providers) / sizeof(providers[0])};
  return &descriptor;
}

#endif
