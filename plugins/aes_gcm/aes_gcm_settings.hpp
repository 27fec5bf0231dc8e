#pragma once
// The key ring read from config: ids, 256-bit keys, and which one seals.

#include <cryptopp/secblock.h>

#include <string>
#include <vector>

#include "strata/sdk/config.hpp"
#include "strata/sdk/log.hpp"

namespace strata::aes_gcm {

/// One configured key. SecByteBlock zeroizes its memory when freed.
struct KeySpec {
  std::string id;
  CryptoPP::SecByteBlock material;
  bool primary = false;
};

/// The config keys the cipher accepts.
sdk::ConfigSchema key_ring_schema();

/// Reads the ring: `keys` (a list of { id, key, primary }), and/or `key`
/// (the seed's DB_ENCRYPTION_KEY) under `key_id`; with neither, the key in
/// `key_file` (created, mode 0600, when `create_key_file` is set). Exactly one
/// key ends up primary. Throws sdk::Error naming the key id or file for any
/// bad entry; never includes key material in a message.
std::vector<KeySpec> read_key_ring(const sdk::ConfigView& config, const sdk::Logger& log);

}  // namespace strata::aes_gcm
