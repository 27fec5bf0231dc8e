// Entry point of libstrata-redis.so: the cache role on Redis (hiredis).

#include "redis_cache.hpp"

STRATA_PLUGIN("redis", STRATA_VERSION, "Cache on Redis: TTLs, pipelined multi-get/set, retries (hiredis)",
              strata::sdk::provide<strata::redis::RedisCache>())
