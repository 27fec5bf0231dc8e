// Backup and restore of one cache instance: every key under the instance's
// prefix with its DUMP payload and remaining TTL (SCAN + DUMP + PTTL),
// restored with RESTORE … REPLACE. Works where SAVE is disabled, and never
// touches another instance's keys.
//
// keys.bin: "STRATA-REDIS-1\n", then per key: u32 name length, name (without
// the instance's prefix), u32 payload length, DUMP payload, i64 PTTL in ms
// (-1: no expiry); integers little-endian.

#include <cstring>
#include <fstream>

#include "redis_cache.hpp"

namespace strata::redis {
namespace {

constexpr const char* backup_file = "keys.bin";
constexpr std::string_view magic = "STRATA-REDIS-1\n";

template <class T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

template <class T>
bool take(std::string_view& in, T& value) {
  if (in.size() < sizeof(T)) return false;
  std::memcpy(&value, in.data(), sizeof(T));
  in.remove_prefix(sizeof(T));
  return true;
}

bool take_bytes(std::string_view& in, std::string& out) {
  std::uint32_t length = 0;
  if (!take(in, length) || in.size() < length) return false;
  out.assign(in.data(), length);
  in.remove_prefix(length);
  return true;
}

}  // namespace

sdk::Result<sdk::BackupReport> RedisCache::backup(const std::filesystem::path& dir) {
  const std::string& prefix = pool_.settings().key_prefix;
  std::string data(magic);
  std::uint64_t count = 0;
  auto done = pool_.run<void>(Repeatable::yes, [&](Connection& c) -> sdk::Result<void> {
    data.resize(magic.size());
    count = 0;
    return scan_keys(c, [&](const std::vector<std::string>& names) -> sdk::Result<bool> {
      std::vector<Command> commands;
      for (const auto& name : names) {
        commands.push_back({"DUMP", name});
        commands.push_back({"PTTL", name});
      }
      auto replies = c.pipeline(commands);
      if (!replies) return sdk::fail(replies.error());
      for (std::size_t i = 0; i < names.size(); ++i) {
        const redisReply& dump = *(*replies)[2 * i];
        const redisReply& pttl = *(*replies)[2 * i + 1];
        if (dump.type == REDIS_REPLY_NIL || pttl.integer == -2) continue;  // expired meanwhile
        std::string_view relative = std::string_view(names[i]).substr(prefix.size());
        put(data, static_cast<std::uint32_t>(relative.size()));
        data.append(relative);
        put(data, static_cast<std::uint32_t>(dump.len));
        data.append(dump.str, dump.len);
        put(data, static_cast<std::int64_t>(pttl.integer));
        ++count;
      }
      return true;
    });
  });
  if (!done) return sdk::fail(done.error());
  std::ofstream out(dir / backup_file, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!out.flush()) return sdk::fail(sdk::ErrorCode::unavailable, "cannot write " + (dir / backup_file).string());
  return sdk::BackupReport{{backup_file}, {{"keys", count}}, ""};
}

sdk::Result<sdk::BackupReport> RedisCache::restore(const std::filesystem::path& dir) {
  std::ifstream in(dir / backup_file, std::ios::binary);
  if (!in) return sdk::fail(sdk::ErrorCode::not_found, "no " + (dir / backup_file).string());
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  struct Key {
    std::string name, payload;
    std::int64_t pttl;
  };
  // Parse everything before changing anything.
  std::vector<Key> keys;
  std::string_view rest(data);
  if (!rest.starts_with(magic))
    return sdk::fail(sdk::ErrorCode::invalid_argument, (dir / backup_file).string() + " is not a Strata Redis backup");
  rest.remove_prefix(magic.size());
  while (!rest.empty()) {
    Key k;
    if (!take_bytes(rest, k.name) || !take_bytes(rest, k.payload) || !take(rest, k.pttl))
      return sdk::fail(sdk::ErrorCode::invalid_argument, (dir / backup_file).string() + " is truncated");
    keys.push_back(std::move(k));
  }
  if (auto cleared = clear(); !cleared) return sdk::fail(cleared.error());
  const std::string& prefix = pool_.settings().key_prefix;
  auto done = pool_.run<void>(Repeatable::no, [&](Connection& c) -> sdk::Result<void> {
    for (std::size_t start = 0; start < keys.size(); start += 500) {
      std::vector<std::string> names, ttls;
      std::size_t end = std::min(keys.size(), start + 500);
      for (std::size_t i = start; i < end; ++i) {
        names.push_back(prefix + keys[i].name);
        ttls.push_back(std::to_string(keys[i].pttl > 0 ? keys[i].pttl : 0));
      }
      std::vector<Command> commands;
      for (std::size_t i = start; i < end; ++i)
        commands.push_back({"RESTORE", names[i - start], ttls[i - start], keys[i].payload, "REPLACE"});
      auto replies = c.pipeline(commands);
      if (!replies) return sdk::fail(replies.error());
    }
    return {};
  });
  if (!done) return sdk::fail(done.error());
  return sdk::BackupReport{{}, {{"keys", keys.size()}}, ""};
}

sdk::Result<bool> RedisCache::has_data() {
  return pool_.run<bool>(Repeatable::yes, [&](Connection& c) -> sdk::Result<bool> {
    bool any = false;
    auto scanned = scan_keys(c, [&](const std::vector<std::string>&) -> sdk::Result<bool> {
      any = true;
      return false;
    });
    if (!scanned) return sdk::fail(scanned.error());
    return any;
  });
}

}  // namespace strata::redis
