#include "memory_settings.hpp"

namespace strata::memory {

using sdk::ConfigType;
using sdk::field;

sdk::ConfigSchema cache_schema() {
  return {field("default_ttl_s", ConfigType::integer,
                     "TTL in seconds for values stored without one; 0 = never expire")
              .or_default(3600),
          field("max_value_bytes", ConfigType::integer,
                "largest value stored, as a backend with a small item size (memcached) would; "
                "0 = no limit, else at least 65536")
              .or_default(0)};
}

}  // namespace strata::memory
