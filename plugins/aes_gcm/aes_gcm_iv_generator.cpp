#include "aes_gcm_iv_generator.hpp"

#include <pthread.h>

#include <atomic>
#include <cryptopp/osrng.h>
#include <memory>
#include <mutex>

namespace strata::aes_gcm {
namespace {

// Bumped in every forked child; a thread whose generator predates the
// current generation reseeds. A copied generator state would repeat IVs,
// and a repeated GCM IV under one key leaks the authentication key.
std::atomic<std::uint64_t> fork_generation{0};

void note_fork() noexcept { fork_generation.fetch_add(1, std::memory_order_relaxed); }

struct ThreadGenerator {
  std::unique_ptr<CryptoPP::AutoSeededRandomPool> pool;
  std::uint64_t generation = ~std::uint64_t{0};
};

}  // namespace

void random_bytes(std::uint8_t* out, std::size_t size) {
  static std::once_flag registered;
  std::call_once(registered, [] { pthread_atfork(nullptr, nullptr, note_fork); });
  thread_local ThreadGenerator generator;
  auto generation = fork_generation.load(std::memory_order_relaxed);
  if (generator.generation != generation) {
    generator.pool = std::make_unique<CryptoPP::AutoSeededRandomPool>();
    generator.generation = generation;
  }
  generator.pool->GenerateBlock(out, size);
}

}  // namespace strata::aes_gcm
