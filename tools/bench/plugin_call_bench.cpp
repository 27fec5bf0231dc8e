// What the plugin boundary costs per call: the same memory-plugin methods
// called on an object linked into this program (a plain virtual call) and
// on the instance the host loaded from libstrata-memory.so (virtual call into
// the plugin's guard, then a direct call to the implementation); and what
// the host's timing layer adds, its recording against issue 6's, and what a
// span per call adds when tracing is on.

#include <algorithm>
#include <array>
#include <atomic>

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
  c.config = sdk::ConfigView({{"default_ttl_s", std::int64_t{3600}}, {"max_value_bytes", std::int64_t{0}}});
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
// Tracing on (a span callback that keeps nothing): a client span per call.
void BM_Traced_Empty(benchmark::State& state) {
  HostOptions options;
  options.on_span = [](const SpanRecord& span) { benchmark::DoNotOptimize(span.end_unix_ns); };
  auto host = bench::open_or_die("[storage]\nplugin = \"memory\"\n", options);
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

// What the timing layer adds besides its two clock reads: recording one call.
// The reference is the recording issue 6 shipped, kept here as it was: one
// outcome counter, one bucket of a 14-bound histogram, one time total.
class Issue6Recording {
 public:
  void record(std::chrono::nanoseconds elapsed, std::optional<sdk::ErrorCode> error) noexcept {
    std::size_t outcome = error ? static_cast<std::size_t>(*error) + 1 : 0;
    if (outcome >= outcome_count) outcome = static_cast<std::size_t>(sdk::ErrorCode::internal) + 1;
    outcomes_[outcome].fetch_add(1, std::memory_order_relaxed);
    double seconds = std::chrono::duration<double>(elapsed).count();
    std::size_t bucket = static_cast<std::size_t>(
        std::lower_bound(bounds.begin(), bounds.end(), seconds) - bounds.begin());
    buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
    total_ns_.fetch_add(static_cast<std::uint64_t>(elapsed.count()), std::memory_order_relaxed);
  }

 private:
  static constexpr std::array<double, 14> bounds = OperationStats::strata_bucket_bounds;
  std::array<std::atomic<std::uint64_t>, outcome_count> outcomes_{};
  std::array<std::atomic<std::uint64_t>, bounds.size() + 1> buckets_{};
  std::atomic<std::uint64_t> total_ns_{0};
};

template <class Recording>
void record_calls(benchmark::State& state, Recording& recording) {
  std::chrono::nanoseconds elapsed(1500);
  for (auto _ : state) {
    benchmark::DoNotOptimize(elapsed);
    recording.record(elapsed, std::nullopt);
    benchmark::ClobberMemory();
  }
}
void BM_Record_Issue6(benchmark::State& state) {
  Issue6Recording recording;
  record_calls(state, recording);
}
// Today's: per-outcome buckets over Strata's and the OpenTelemetry convention's bounds.
void BM_Record_Now(benchmark::State& state) {
  OperationStats recording("storage", "default", "schema_status");
  record_calls(state, recording);
}

BENCHMARK(BM_DirectVirtual_Empty);
BENCHMARK(BM_Plugin_Empty);
BENCHMARK(BM_DirectVirtual_CacheExists);
BENCHMARK(BM_Plugin_CacheExists);
BENCHMARK(BM_Instrumented_Empty);
BENCHMARK(BM_Instrumented_CacheExists);
BENCHMARK(BM_Traced_Empty);
BENCHMARK(BM_Record_Issue6);
BENCHMARK(BM_Record_Now);

}  // namespace

int main(int argc, char** argv) {
  return strata::bench::run_with_ratios(
      argc, argv,
      {{"empty call: plugin vs direct virtual", "BM_Plugin_Empty", "BM_DirectVirtual_Empty"},
       {"cache exists: plugin vs direct virtual", "BM_Plugin_CacheExists", "BM_DirectVirtual_CacheExists"},
       {"empty call: instrumented vs bare plugin", "BM_Instrumented_Empty", "BM_Plugin_Empty"},
       {"cache exists: instrumented vs bare plugin", "BM_Instrumented_CacheExists", "BM_Plugin_CacheExists"},
       {"recording a call: now vs issue 6's", "BM_Record_Now", "BM_Record_Issue6"},
       {"empty call: traced vs instrumented", "BM_Traced_Empty", "BM_Instrumented_Empty"}});
}
