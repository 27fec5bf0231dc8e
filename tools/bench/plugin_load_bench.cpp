// Loading every bundled plugin in a fresh process: each iteration forks a
// child that has never loaded them, times the load there, and reports back.
// The reference is a bare dlopen(RTLD_NOW) of the same files.

#include <dlfcn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/dll/runtime_symbol_info.hpp>
#include <chrono>
#include <vector>

#include "bench_host.hpp"
#include "ratio_reporter.hpp"

namespace {

using namespace strata;

const std::string all_bundled = std::string(
    "[storage]\nplugin = \"memory\"\n[cache.default]\nplugin = \"memory\"\n[cache.session]\nplugin = \"memory\"\n"
    "[audit]\nplugin = \"memory\"\n[cipher]\nplugin = \"aes_gcm\"\nkey = \"") + std::string(bench::bench_key) + "\"\n";

std::string plugin_dir() {
  return (boost::dll::program_location().parent_path() / ".." / "lib" / "strata" / "plugins").string();
}

// Runs `work` in a forked child and returns the seconds it reported.
template <class Work>
double in_fresh_process(Work work) {
  int fds[2];
  if (pipe(fds) != 0) std::abort();
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    auto start = std::chrono::steady_clock::now();
    bool ok = work();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!ok) seconds = -1;
    if (write(fds[1], &seconds, sizeof seconds) != sizeof seconds) _exit(2);
    _exit(0);  // skip destructors: only the load is measured
  }
  close(fds[1]);
  double seconds = -1;
  if (read(fds[0], &seconds, sizeof seconds) != sizeof seconds) seconds = -1;
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return seconds;
}

void report(benchmark::State& state, double seconds) {
  if (seconds < 0) state.SkipWithError("the child failed to load the plugins");
  state.SetIterationTime(seconds);
}

void BM_HostLoadAllPlugins(benchmark::State& state) {
  for (auto _ : state)
    report(state, in_fresh_process([] {
             auto host = Host::open_string(all_bundled, {}, "<benchmark>");
             return host.has_value() && (*host)->cipher() != nullptr;
           }));
}

void BM_RawDlopenAllPlugins(benchmark::State& state) {
  const std::string dir = plugin_dir();
  for (auto _ : state)
    report(state, in_fresh_process([&] {
             for (const char* name : {"/libstrata-memory.so", "/libstrata-aes_gcm.so"})
               if (!dlopen((dir + name).c_str(), RTLD_NOW | RTLD_LOCAL)) return false;
             return true;
           }));
}

BENCHMARK(BM_HostLoadAllPlugins)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(30);
BENCHMARK(BM_RawDlopenAllPlugins)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(30);

}  // namespace

int main(int argc, char** argv) {
  strata::bench::use_scratch_data_dir();
  return strata::bench::run_with_ratios(
      argc, argv, {{"load all bundled plugins: host vs dlopen", "BM_HostLoadAllPlugins/iterations:30/manual_time",
                    "BM_RawDlopenAllPlugins/iterations:30/manual_time"}});
}
