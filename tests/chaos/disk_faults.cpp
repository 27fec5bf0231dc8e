#include "disk_faults.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <string_view>

#include <fiu-control.h>
#include <fiu.h>
#include <fmt/format.h>

namespace strata::chaos {
namespace {

thread_local int spared = 0;  // HarnessIo's on this thread

std::mutex draw_mutex;
std::mt19937_64 draw;
DiskFaults rates;
std::atomic<bool> active{false};
std::atomic<std::uint64_t> injected{0};

// libfiu's failure points this module decides, by the rate that applies.
constexpr const char* write_points[] = {"posix/io/rw/write", "posix/io/rw/pwrite", "posix/io/rw/writev",
                                        "posix/io/rw/pwritev", "posix/io/rw/ftruncate"};
constexpr const char* short_points[] = {"posix/io/rw/write/reduce", "posix/io/rw/pwrite/reduce"};
constexpr const char* sync_points[] = {"posix/io/sync/fsync", "posix/io/sync/fdatasync"};

// Called by libfiu's wrapper in the thread making the call: nonzero fails it,
// with the errno put in failinfo (the wrappers take it from there).
int decide(const char* name, int*, void** failinfo, unsigned int*) {
  if (!active.load(std::memory_order_relaxed) || spared > 0) return 0;
  std::string_view point(name);
  bool sync = point.starts_with("posix/io/sync/"), cut = point.ends_with("/reduce");
  int error = EIO;
  {
    std::lock_guard lock(draw_mutex);
    double rate = sync ? rates.sync : cut ? rates.short_write : rates.write;
    if (std::uniform_real_distribution<double>(0, 1)(draw) >= rate) return 0;
    if (!sync && !cut && draw() % 2 == 0) error = ENOSPC;
  }
  *failinfo = reinterpret_cast<void*>(static_cast<std::intptr_t>(error));
  injected.fetch_add(1, std::memory_order_relaxed);
  return 1;
}

}  // namespace

DiskFaults disk_schedule(std::uint64_t seed) {
  std::mt19937_64 d(seed ^ 0x6469736bULL);
  auto rate = [&](double most) { return std::uniform_real_distribution<double>(0, most)(d); };
  DiskFaults f;
  f.write = rate(0.03);
  f.short_write = rate(0.03);
  f.sync = rate(0.05);
  return f;
}

std::string describe(const DiskFaults& f) {
  return fmt::format("writes failed {:.1f}%, cut short {:.1f}%, syncs failed {:.1f}%", f.write * 100,
                     f.short_write * 100, f.sync * 100);
}

std::string load_disk_wrappers(char** argv) {
#if defined(__SANITIZE_ADDRESS__)
  // As with the CLI's disk test (tests/CMakeLists.txt, label preload).
  return "--disk does not run under ASan: libfiu's wrappers and ASan's interceptors crash together";
#endif
  const char* preload = std::getenv("LD_PRELOAD");
  std::string list = preload ? preload : "";
  if (list.find(STRATA_FIU_POSIX_PRELOAD) != std::string::npos) return "";
  list = list.empty() ? STRATA_FIU_POSIX_PRELOAD : list + " " + STRATA_FIU_POSIX_PRELOAD;
  ::setenv("LD_PRELOAD", list.c_str(), 1);
  ::execv("/proc/self/exe", argv);
  return fmt::format("cannot re-execute with {} preloaded: {}", STRATA_FIU_POSIX_PRELOAD,
                     std::strerror(errno));
}

void disk_faults_on(const DiskFaults& r, std::uint64_t seed) {
  static std::once_flag enabled;
  std::call_once(enabled, [] {
    fiu_init(0);
    for (const char* p : write_points) fiu_enable_external(p, 1, nullptr, 0, decide);
    for (const char* p : short_points) fiu_enable_external(p, 1, nullptr, 0, decide);
    for (const char* p : sync_points) fiu_enable_external(p, 1, nullptr, 0, decide);
  });
  {
    std::lock_guard lock(draw_mutex);
    rates = r;
    draw.seed(seed);
  }
  active = true;
}

void disk_faults_off() {
  active = false;
}

std::uint64_t disk_faults_injected() {
  return injected.load();
}

HarnessIo::HarnessIo() {
  ++spared;
}
HarnessIo::~HarnessIo() {
  --spared;
}

}  // namespace strata::chaos
