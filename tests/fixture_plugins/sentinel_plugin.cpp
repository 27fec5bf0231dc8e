// libstrata-sentinel.so: every method of every role, generated from the role
// tables (strata/sdk/role_methods.hpp), answers an error naming the method
// ("sentinel:<method>"). The host test calls each method through a loaded
// instance and checks the answer came from here, so a method the host's
// decorators or the plugin-side guards do not forward cannot go unnoticed.

#include "strata/sdk/sdk.hpp"

#pragma GCC diagnostic ignored "-Wunused-parameter"

namespace strata::test {

#define STRATA_SENTINEL_METHOD_(KIND, RET, NAME, PARAMS, ARGS) \
  RET NAME PARAMS override { return sdk::fail(sdk::ErrorCode::conflict, "sentinel:" #NAME); }

#define STRATA_SENTINEL_ROLE_(CLASS, ROLE, ROLE_METHODS)                   \
  class CLASS : public sdk::ROLE {                                         \
   public:                                                                 \
    explicit CLASS(const sdk::PluginContext&) {}                           \
    static sdk::ConfigSchema config_schema() { return {}; }                \
    ROLE_METHODS(STRATA_SENTINEL_METHOD_)                                  \
  };

STRATA_SENTINEL_ROLE_(SentinelStorage, Storage, STRATA_SDK_STORAGE_METHODS)
STRATA_SENTINEL_ROLE_(SentinelCache, Cache, STRATA_SDK_CACHE_METHODS)
STRATA_SENTINEL_ROLE_(SentinelAudit, Audit, STRATA_SDK_AUDIT_METHODS)
STRATA_SENTINEL_ROLE_(SentinelCipher, Cipher, STRATA_SDK_CIPHER_METHODS)

}  // namespace strata::test

STRATA_PLUGIN("sentinel", "1.0.0", "Every role method answers an error naming itself (host tests)",
              strata::sdk::provide<strata::test::SentinelStorage>(), strata::sdk::provide<strata::test::SentinelCache>(),
              strata::sdk::provide<strata::test::SentinelAudit>(), strata::sdk::provide<strata::test::SentinelCipher>())
