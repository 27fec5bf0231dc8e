#pragma once
// Random IVs from a per-thread generator seeded by the OS.

#include <cstddef>
#include <cstdint>

namespace strata::aes_gcm {

/// Fills `out` with random bytes from this thread's generator (Crypto++
/// AutoSeededRandomPool, seeded from the OS). After fork() the child reseeds
/// before its first IV, so parent and child never repeat each other's IVs.
void random_bytes(std::uint8_t* out, std::size_t size);

}  // namespace strata::aes_gcm
