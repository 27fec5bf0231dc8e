#include "key_ring.hpp"

#include <set>

#include "strata/sdk/bytes.hpp"
#include "strata/sdk/error.hpp"

namespace strata::aes_gcm {
namespace {

using sdk::ConfigType;
using sdk::ErrorCode;

constexpr std::size_t key_bytes = 32;

[[noreturn]] void refuse(const std::string& message) {
  throw sdk::Error{ErrorCode::invalid_argument, message, {}, false};
}

CryptoPP::SecByteBlock decode_key(const std::string& id, const std::string& hex) {
  if (hex.size() != key_bytes * 2)
    refuse("key '" + id + "' must be exactly 64 hex characters (32 bytes); got " +
           std::to_string(hex.size()) + " characters");
  auto bytes = sdk::from_hex(hex);
  if (!bytes) refuse("key '" + id + "' must be hex (0-9, a-f); it has other characters");
  CryptoPP::SecByteBlock material(bytes->data(), bytes->size());
  std::fill(bytes->begin(), bytes->end(), 0);  // don't leave a plain copy behind
  return material;
}

}  // namespace

sdk::ConfigSchema key_ring_schema() {
  return {
      sdk::field("keys", ConfigType::table_list,
                 "key ring: tables { id, key, primary }; the primary key seals, all keys open")
          .items({sdk::field("id", ConfigType::string, "key id stored beside each ciphertext").require(),
                  sdk::field("key", ConfigType::string, "64 hex characters (256 bits)").require().redact(),
                  sdk::field("primary", ConfigType::boolean, "this key seals new data").or_default(false)}),
      sdk::field("key", ConfigType::string,
                 "a single key, 64 hex characters; with `keys` it is added as an extra opener")
          .redact()
          .from_env("DB_ENCRYPTION_KEY"),
      sdk::field("key_id", ConfigType::string, "the id of `key`").or_default("default"),
  };
}

std::vector<KeySpec> read_key_ring(const sdk::ConfigView& config) {
  std::vector<KeySpec> ring;
  std::set<std::string> ids;
  for (const auto& entry : config.find<std::vector<sdk::ConfigView>>("keys").value_or(std::vector<sdk::ConfigView>{})) {
    auto id = entry.get<std::string>("id");
    if (id.empty()) refuse(entry.where() + ": key id must not be empty");
    if (!ids.insert(id).second) refuse("key id '" + id + "' appears twice in the key ring");
    ring.push_back(KeySpec{id, decode_key(id, entry.get<std::string>("key")), entry.get<bool>("primary")});
  }
  if (auto single = config.find<std::string>("key")) {
    auto id = config.get<std::string>("key_id");
    if (!ids.contains(id)) {
      ring.push_back(KeySpec{id, decode_key(id, *single), false});
      ids.insert(id);
    }
  }
  if (ring.empty())
    refuse("no key configured: set [cipher].keys, [cipher].key, or DB_ENCRYPTION_KEY");
  std::size_t primaries = 0;
  for (const auto& k : ring) primaries += k.primary;
  if (primaries == 0 && ring.size() == 1) ring.front().primary = true;
  if (primaries == 0 && ring.size() > 1)
    refuse("the key ring has " + std::to_string(ring.size()) + " keys and none is primary; mark one `primary = true`");
  if (primaries > 1) refuse("the key ring marks " + std::to_string(primaries) + " keys primary; exactly one may seal");
  return ring;
}

}  // namespace strata::aes_gcm
