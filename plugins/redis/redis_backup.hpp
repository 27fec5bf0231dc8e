#pragma once
// The backup format of one cache instance, keys.bin: every key under the
// instance's prefix with its DUMP payload and remaining TTL (SCAN + DUMP +
// PTTL by RedisCache::backup), restored with RESTORE … REPLACE. Works where
// SAVE is disabled, and never touches another instance's keys.
//
// "STRATA-REDIS-1\n", then per key: u32 name length, name (without the
// instance's prefix), u32 payload length, DUMP payload, i64 PTTL in ms (-1: no
// expiry); integers little-endian.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "strata/sdk/error.hpp"

namespace strata::redis {

/// The file a backup directory holds.
inline constexpr const char* backup_file = "keys.bin";

/// One key of a backup.
struct BackupKey {
  std::string name;     ///< without the instance's prefix
  std::string payload;  ///< DUMP output
  std::int64_t pttl;    ///< remaining TTL in ms, -1: none
};

/// Builds keys.bin one key at a time.
class KeysFileWriter {
 public:
  KeysFileWriter();
  void add(std::string_view name, std::string_view payload, std::int64_t pttl);
  std::uint64_t count() const { return count_; }
  /// Writes the file; `unavailable` when it cannot.
  sdk::Result<void> write(const std::filesystem::path& file) const;

 private:
  std::string data_;
  std::uint64_t count_ = 0;
};

/// Every key of a keys.bin; `not_found` or `invalid_argument` (not a backup, truncated).
sdk::Result<std::vector<BackupKey>> read_keys_file(const std::filesystem::path& file);

}  // namespace strata::redis
