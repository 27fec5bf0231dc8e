// Entry point of libstrata-memory.so: storage, cache and audit in memory.

#include "memory_audit.hpp"
#include "memory_cache.hpp"
#include "memory_storage.hpp"

STRATA_PLUGIN("memory", STRATA_VERSION,
              "In-memory storage, cache and audit with the real backends' semantics, for tests",
              strata::sdk::provide<strata::memory::MemoryStorage>(),
              strata::sdk::provide<strata::memory::MemoryCache>(),
              strata::sdk::provide<strata::memory::MemoryAudit>())
