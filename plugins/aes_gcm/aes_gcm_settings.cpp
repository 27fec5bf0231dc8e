#include "aes_gcm_settings.hpp"

#include <cryptopp/osrng.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>

#include "strata/sdk/bytes.hpp"
#include "strata/sdk/error.hpp"
#include "strata/sdk/log.hpp"
#include "strata/sdk/private_files.hpp"
#include "strata/sdk/secret_file.hpp"
#include <filesystem>

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
  // All zeros: a placeholder left in a config, never a key.
  if (std::all_of(bytes->begin(), bytes->end(), [](std::uint8_t b) { return b == 0; }))
    refuse("key '" + id + "' is all zeros: a placeholder, not a key; generate one with `openssl rand -hex 32`");
  CryptoPP::SecByteBlock material(bytes->data(), bytes->size());
  std::fill(bytes->begin(), bytes->end(), 0);  // don't leave a plain copy behind
  return material;
}

// The key held in `path`: 64 hex characters (a trailing newline allowed). A
// file others could read is refused: it would leak every message. A FIFO, a
// directory or a symlink loop is refused at once (strata/sdk/secret_file.hpp).
std::string read_key_file(const std::string& path) {
  auto content = sdk::read_secret_file(path, sdk::SecretFileRules{4096, true});
  if (!content) refuse("key file: " + content.error().message);
  std::string hex = content->substr(0, content->find('\n'));
  std::fill(content->begin(), content->end(), '0');
  while (!hex.empty() && (hex.back() == '\r' || hex.back() == ' ')) hex.pop_back();
  return hex;
}

// Creates `path` (and its directory) with a fresh random key, mode 0600,
// failing if it appeared meanwhile (another process created it first).
void create_key_file(const std::string& path, const sdk::Logger& log) {
  if (auto ok = sdk::check_private_directory(path); !ok) refuse(ok.error().message);
  std::error_code ec;
  std::filesystem::path p(path);
  // A key is only generated for a directory that holds nothing yet: a missing
  // key file beside existing data means the key that data was sealed with is
  // gone, and a new key under the same id would silently orphan it.
  if (p.has_parent_path() && std::filesystem::is_directory(p.parent_path(), ec))
    for (const auto& entry : std::filesystem::directory_iterator(p.parent_path(), ec))
      if (entry.path() != p)
        refuse("key file " + path + " is missing, but its directory already holds data (" +
               entry.path().filename().string() +
               "), sealed with the key that was in it: restore the key file from where you keep it (or set "
               "STRATA_KEY / DB_ENCRYPTION_KEY); to start afresh instead, move the directory away");
  if (p.has_parent_path() && std::filesystem::create_directories(p.parent_path(), ec))
    std::filesystem::permissions(p.parent_path(), std::filesystem::perms::owner_all, ec);
  CryptoPP::AutoSeededRandomPool random;
  sdk::Bytes key(key_bytes);
  random.GenerateBlock(key.data(), key.size());
  std::string hex = sdk::to_hex(key) + "\n";
  std::fill(key.begin(), key.end(), 0);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return;  // another process won the race: use its key
    refuse("cannot create key file " + path + ": " + std::strerror(errno));
  }
  bool ok = ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size()) && ::fsync(fd) == 0;
  ::close(fd);
  std::fill(hex.begin(), hex.end(), '0');
  if (!ok) refuse("cannot write key file " + path + ": " + std::strerror(errno));
  log(sdk::LogLevel::warning, "generated a new 256-bit cipher key in " + path +
                                  " (mode 0600); keep it: nothing encrypted with it can be read without it");
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
      sdk::field("key_id", ConfigType::string, "the id of `key` or of the key in `key_file`").or_default("default"),
      sdk::field("key_file", ConfigType::string,
                 "file holding the key (64 hex characters), used when neither keys nor key is set; "
                 "refused if group or others can read it"),
      sdk::field("create_key_file", ConfigType::boolean, "create key_file with a random key (mode 0600) if missing")
          .or_default(false),
  };
}

std::vector<KeySpec> read_key_ring(const sdk::ConfigView& config, const sdk::Logger& log) {
  std::vector<KeySpec> ring;
  std::set<std::string> ids;
  for (const auto& entry : config.find<std::vector<sdk::ConfigView>>("keys").value_or(std::vector<sdk::ConfigView>{})) {
    auto id = entry.get<std::string>("id");
    if (id.empty()) refuse(entry.where() + ": key id must not be empty");
    if (!ids.insert(id).second) refuse("key id '" + id + "' appears twice in the key ring");
    ring.push_back(KeySpec{id, decode_key(id, entry.get<std::string>("key")), entry.get<bool>("primary")});
  }
  // An empty key counts as absent, so `key = "${STRATA_KEY:-}"` falls through to key_file.
  if (auto single = config.find<std::string>("key"); single && !single->empty()) {
    auto id = config.get<std::string>("key_id");
    if (!ids.contains(id)) {
      ring.push_back(KeySpec{id, decode_key(id, *single), false});
      ids.insert(id);
    }
  }
  if (ring.empty()) {
    if (auto file = config.find<std::string>("key_file")) {
      std::error_code ec;  // a link (even a looping one) exists: read_key_file then says what is wrong with it
      if (!std::filesystem::exists(std::filesystem::symlink_status(*file, ec))) {
        if (!config.get<bool>("create_key_file"))
          refuse("key file " + *file + " does not exist (set create_key_file = true to generate one)");
        create_key_file(*file, log);
      }
      auto id = config.get<std::string>("key_id");
      ring.push_back(KeySpec{id, decode_key(id, read_key_file(*file)), true});
    }
  }
  if (ring.empty())
    refuse("no key configured: set [cipher].keys, [cipher].key, key_file, or DB_ENCRYPTION_KEY");
  std::size_t primaries = 0;
  for (const auto& k : ring) primaries += k.primary;
  if (primaries == 0 && ring.size() == 1) ring.front().primary = true;
  if (primaries == 0 && ring.size() > 1)
    refuse("the key ring has " + std::to_string(ring.size()) + " keys and none is primary; mark one `primary = true`");
  if (primaries > 1) refuse("the key ring marks " + std::to_string(primaries) + " keys primary; exactly one may seal");
  return ring;
}

}  // namespace strata::aes_gcm
