#pragma once
// Random bytes for nonces and keys, cheap enough for every sealed value.
// The AES-GCM plugin draws its IVs here and the host its data keys' IVs;
// any plugin may.
//
// Each thread keeps a buffer filled by one getrandom(2) call (the kernel's
// CSPRNG) and hands out bytes that were never handed out before, so a
// 12-byte IV costs a copy rather than a system call (5 us for Crypto++'s
// OS_GenerateRandomBlock, 1 us for getrandom itself on this project's VMs).
// A forked child would inherit the buffers and repeat its parent's bytes —
// a repeated GCM IV under one key gives the authentication key away — so a
// pthread_atfork handler bumps a generation and each thread of the child
// refills before its first draw.

#include <pthread.h>
#include <sys/random.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>

namespace strata::sdk {

namespace random_detail {

inline std::atomic<std::uint64_t> fork_generation{0};

inline void note_fork() noexcept { fork_generation.fetch_add(1, std::memory_order_relaxed); }

// `n` bytes straight from the kernel.
inline void fill_from_kernel(std::uint8_t* out, std::size_t n) {
  while (n > 0) {
    ssize_t got = ::getrandom(out, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("getrandom: ") + std::strerror(errno));
    }
    out += got;
    n -= static_cast<std::size_t>(got);
  }
}

struct ThreadBuffer {
  std::array<std::uint8_t, 4096> bytes;
  std::size_t used = sizeof(bytes);  // empty until the first draw
  std::uint64_t generation = ~std::uint64_t{0};
  ~ThreadBuffer() { std::fill(bytes.begin(), bytes.end(), 0); }
};

}  // namespace random_detail

/// Fills `out` with `size` random bytes. Thread-safe; never repeats across
/// threads or a fork(). Throws std::runtime_error only if the kernel
/// refuses getrandom(2) (a seccomp filter), naming the reason.
inline void random_bytes(std::uint8_t* out, std::size_t size) {
  using namespace random_detail;
  static std::once_flag registered;
  std::call_once(registered, [] { pthread_atfork(nullptr, nullptr, note_fork); });
  thread_local ThreadBuffer buffer;
  if (auto generation = fork_generation.load(std::memory_order_relaxed); buffer.generation != generation) {
    buffer.used = sizeof(buffer.bytes);  // inherited across a fork: never used again
    buffer.generation = generation;
  }
  if (size > sizeof(buffer.bytes) / 2) {  // a large draw: straight from the kernel
    fill_from_kernel(out, size);
    return;
  }
  if (sizeof(buffer.bytes) - buffer.used < size) {
    fill_from_kernel(buffer.bytes.data(), sizeof(buffer.bytes));
    buffer.used = 0;
  }
  std::memcpy(out, buffer.bytes.data() + buffer.used, size);
  std::memset(buffer.bytes.data() + buffer.used, 0, size);  // handed out: not kept
  buffer.used += size;
}

}  // namespace strata::sdk
