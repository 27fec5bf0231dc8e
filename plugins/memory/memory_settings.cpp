#include "memory_settings.hpp"

namespace strata::memory {

using sdk::ConfigType;
using sdk::field;

sdk::ConfigSchema cache_schema() {
  return {field("default_ttl_s", ConfigType::integer,
                     "TTL in seconds for values stored without one; 0 = never expire")
              .or_default(3600)};
}

}  // namespace strata::memory
