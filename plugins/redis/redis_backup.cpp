#include "redis_backup.hpp"

#include <cstring>
#include <fstream>
#include <iterator>

namespace strata::redis {
namespace {

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

KeysFileWriter::KeysFileWriter() : data_(magic) {}

void KeysFileWriter::add(std::string_view name, std::string_view payload, std::int64_t pttl) {
  put(data_, static_cast<std::uint32_t>(name.size()));
  data_.append(name);
  put(data_, static_cast<std::uint32_t>(payload.size()));
  data_.append(payload);
  put(data_, pttl);
  ++count_;
}

sdk::Result<void> KeysFileWriter::write(const std::filesystem::path& file) const {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(data_.data(), static_cast<std::streamsize>(data_.size()));
  if (!out.flush()) return sdk::fail(sdk::ErrorCode::unavailable, "cannot write " + file.string());
  return {};
}

sdk::Result<std::vector<BackupKey>> read_keys_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return sdk::fail(sdk::ErrorCode::not_found, "no " + file.string());
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string_view rest(data);
  if (!rest.starts_with(magic))
    return sdk::fail(sdk::ErrorCode::invalid_argument, file.string() + " is not a Strata Redis backup");
  rest.remove_prefix(magic.size());
  std::vector<BackupKey> keys;
  while (!rest.empty()) {
    BackupKey k;
    if (!take_bytes(rest, k.name) || !take_bytes(rest, k.payload) || !take(rest, k.pttl))
      return sdk::fail(sdk::ErrorCode::invalid_argument, file.string() + " is truncated");
    keys.push_back(std::move(k));
  }
  return keys;
}

}  // namespace strata::redis
