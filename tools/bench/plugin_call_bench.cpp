// What the plugin boundary costs per call: the same memory-plugin methods
// called on an object linked into this program (a plain virtual call) and
// on the instance the host loaded from libstrata-memory.so (virtual call into
// the plugin's guard, then a direct call to the implementation).

#include "bench_host.hpp"
#include "memory_cache.hpp"
#include "memory_storage.hpp"
#include "ratio_reporter.hpp"

namespace {

using namespace strata;

sdk::PluginContext context() {
  sdk::PluginContext c;
  c.plugin = "memory";
  c.instance = "default";
  c.config = sdk::ConfigView({{"default_ttl_s", std::int64_t{3600}}});
  return c;
}

// schema_status() does no work: the time is the call itself.
void call_empty(benchmark::State& state, sdk::Storage* storage) {
  benchmark::DoNotOptimize(storage);  // hide the dynamic type: no devirtualization
  for (auto _ : state) benchmark::DoNotOptimize(storage->schema_status());
}

// exists() on a small map under a mutex: a realistic cheap operation.
void call_exists(benchmark::State& state, sdk::Cache* cache) {
  benchmark::DoNotOptimize(cache);
  (void)cache->set("key", sdk::as_bytes("value"), std::nullopt);
  for (auto _ : state) benchmark::DoNotOptimize(cache->exists("key"));
}

void BM_DirectVirtual_Empty(benchmark::State& state) {
  memory::MemoryStorage storage(context());
  call_empty(state, &storage);
}
// The plugin boundary alone: instances without the host's call instrumentation.
HostOptions bare() {
  HostOptions options;
  options.instrument = false;
  return options;
}

void BM_Plugin_Empty(benchmark::State& state) {
  auto host = bench::open_or_die("[storage]\nplugin = \"memory\"\n", bare());
  call_empty(state, host->storage().get());
}
// What Host::storage() hands out by default: each call timed and counted.
void BM_Instrumented_Empty(benchmark::State& state) {
  auto host = bench::open_or_die("[storage]\nplugin = \"memory\"\n");
  call_empty(state, host->storage().get());
}
void BM_DirectVirtual_CacheExists(benchmark::State& state) {
  memory::MemoryCache cache(context());
  call_exists(state, &cache);
}
void BM_Plugin_CacheExists(benchmark::State& state) {
  auto host = bench::open_or_die("[cache.default]\nplugin = \"memory\"\n", bare());
  call_exists(state, host->cache().get());
}
void BM_Instrumented_CacheExists(benchmark::State& state) {
  auto host = bench::open_or_die("[cache.default]\nplugin = \"memory\"\n");
  call_exists(state, host->cache().get());
}

BENCHMARK(BM_DirectVirtual_Empty);
BENCHMARK(BM_Plugin_Empty);
BENCHMARK(BM_DirectVirtual_CacheExists);
BENCHMARK(BM_Plugin_CacheExists);
BENCHMARK(BM_Instrumented_Empty);
BENCHMARK(BM_Instrumented_CacheExists);

}  // namespace

int main(int argc, char** argv) {
  return strata::bench::run_with_ratios(
      argc, argv,
      {{"empty call: plugin vs direct virtual", "BM_Plugin_Empty", "BM_DirectVirtual_Empty"},
       {"cache exists: plugin vs direct virtual", "BM_Plugin_CacheExists", "BM_DirectVirtual_CacheExists"},
       {"empty call: instrumented vs bare plugin", "BM_Instrumented_Empty", "BM_Plugin_Empty"},
       {"cache exists: instrumented vs bare plugin", "BM_Instrumented_CacheExists", "BM_Plugin_CacheExists"}});
}
