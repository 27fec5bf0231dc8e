#pragma once
// The cache role: bytes under string keys, with expiry.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strata/sdk/audit.hpp"
#include "strata/sdk/bytes.hpp"
#include "strata/sdk/backup.hpp"
#include "strata/sdk/database_info.hpp"
#include "strata/sdk/error.hpp"
#include "strata/sdk/role_methods.hpp"

namespace strata::sdk {

/// A time to live. Millisecond resolution, as Redis' PX.
using Ttl = std::chrono::milliseconds;

/// What Cache::listen calls with each message published on its channel.
using ChannelListener = std::function<void(BytesView message)>;

/// The state of a key's expiry.
struct KeyTtl {
  bool exists = false;             ///< false: no such key
  std::optional<Ttl> remaining;    ///< empty: the key never expires
};

/// Cache role. Implementations must be safe to call from several threads.
///
/// The contract the cache kit (strata/sdk/testing/cache_kit.hpp) checks:
/// - Keys and values are binary-safe: any byte, NULs and newlines included
///   ("a\0b" and "a" are two keys), empty values included.
/// - Values of 1 MiB are stored whole, unless the plugin declares a smaller
///   limit of at least 64 KiB (CacheTarget::max_value_bytes, its README):
///   then a larger value is `invalid_argument` naming it, and nothing is
///   stored. The services keep values of a few hundred bytes.
/// - TTLs have millisecond resolution and work below a second (the kit
///   sets 300 ms and waits 450 ms); `ttl()` reports what remains, or none
///   for a key that never expires; 0 or a negative TTL is `invalid_argument`.
///   A `ttl` argument left empty means the instance's configured default.
/// - increment(key, delta) is signed, creates a missing key at `delta`,
///   refuses a value that is not a decimal integer, and is atomic across
///   threads (and processes, for a shared backend).
/// - clear() removes this instance's keys only (not a sibling instance's on
///   the same server) and returns exactly how many it removed.
class Cache {
 public:
  virtual ~Cache() = default;

  /// Whether the backend answers.
  virtual Result<void> health() = 0;
  /// The value, or nullopt when absent or expired.
  virtual Result<std::optional<Bytes>> get(std::string_view key) = 0;
  /// Stores a value, replacing any other.
  virtual Result<void> set(std::string_view key, BytesView value, std::optional<Ttl> ttl) = 0;
  /// Stores a value only when the key is absent; true when it stored.
  virtual Result<bool> set_if_absent(std::string_view key, BytesView value,
                                     std::optional<Ttl> ttl) = 0;
  /// Deletes a key; true when it existed.
  virtual Result<bool> remove(std::string_view key) = 0;
  /// Whether a key exists (and has not expired).
  virtual Result<bool> exists(std::string_view key) = 0;
  /// Sets a key's TTL; false when the key does not exist.
  virtual Result<bool> expire(std::string_view key, Ttl ttl) = 0;
  /// A key's remaining TTL.
  virtual Result<KeyTtl> ttl(std::string_view key) = 0;
  /// Values of several keys, in order, in one round trip where the backend allows.
  virtual Result<std::vector<std::optional<Bytes>>> get_many(std::span<const std::string> keys) = 0;
  /// Stores several values with one TTL, in one round trip where the backend allows.
  virtual Result<void> set_many(std::span<const std::pair<std::string, Bytes>> entries,
                                std::optional<Ttl> ttl) = 0;
  /// Adds `delta` to a decimal integer value (absent counts as 0) and returns
  /// the result; a new key gets `ttl`. `invalid_argument` if the value is not an integer.
  virtual Result<std::int64_t> increment(std::string_view key, std::int64_t delta,
                                         std::optional<Ttl> ttl) = 0;
  /// Deletes every key of this instance (never another instance's); returns how many.
  virtual Result<std::uint64_t> clear() = 0;

  // ---- optional methods, from the table in role_methods.hpp -----------------
  // Their `unsupported` defaults are generated from STRATA_SDK_CACHE_METHODS;
  // each is documented there. SDK ABI 1.2: backup(dir) writes this instance's
  // data into an empty directory, restore(dir) replaces the data with it,
  // has_data() says whether there is any (restore refuses a non-empty target
  // unless forced). Leaving them out declares the capability absent: `strata
  // backup` reports the instance as not backed up. SDK ABI 1.6: gauges().
  // SDK ABI 1.8: check_restore(dir), restore's preflight.
  // SDK ABI 1.10: publish(channel, message), listen(channel, listener):
  // fire-and-forget messages between processes (the inbox hints).
  STRATA_SDK_CACHE_METHODS(STRATA_SDK_OPTIONAL_DEFAULT)
};

}  // namespace strata::sdk
