#include "key_backup.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../backup_authentication.hpp"
#include "../encoding.hpp"

namespace strata::detail {
namespace {

namespace fs = std::filesystem;
using sdk::ErrorCode;
using sdk::fail;

constexpr const char* keys_file = "keys.json";
constexpr const char* format_name = "strata-data-keys/1";

sdk::Unexpected io_error(const fs::path& path, const char* what, int error) {
  return fail(ErrorCode::unavailable, std::string("cannot ") + what + " " + path.string() + ": " + std::strerror(error));
}

// Through a temporary file, synced, and a rename: a reader sees the old file
// or the new one, and a crash leaves one of them whole.
sdk::Result<void> replace_durably(const fs::path& path, const std::string& text) {
  fs::path tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return io_error(tmp, "create", errno);
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  int error = errno;
  ::close(fd);
  if (!ok) return io_error(tmp, "write", error);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error(path, "replace", errno);
  return {};
}

nlohmann::json to_json(const sdk::DataKey& k) {
  return {{"id", k.id.str()},
          {"user_id", k.user_id.str()},
          {"wrapped", k.destroyed_at ? nlohmann::json() : nlohmann::json(sdk::to_hex(k.wrapped))},
          {"created_at_us", k.created_at.micros()},
          {"destroyed_at_us", k.destroyed_at ? nlohmann::json(k.destroyed_at->micros()) : nlohmann::json()}};
}

sdk::Result<sdk::DataKey> from_json(const nlohmann::json& j) {
  auto id = sdk::Uuid::parse(j.at("id").get<std::string>());
  auto user = sdk::Uuid::parse(j.at("user_id").get<std::string>());
  if (!id || !user) return fail(ErrorCode::invalid_argument, "a record's id or user_id is not a UUID");
  sdk::DataKey k;
  k.id = *id;
  k.user_id = *user;
  k.created_at = sdk::Timestamp::from_micros(j.at("created_at_us").get<std::int64_t>());
  if (!j.at("destroyed_at_us").is_null())
    k.destroyed_at = sdk::Timestamp::from_micros(j.at("destroyed_at_us").get<std::int64_t>());
  if (!k.destroyed_at) {
    auto wrapped = sdk::from_hex(j.at("wrapped").get<std::string>());
    if (!wrapped || wrapped->empty()) return fail(ErrorCode::invalid_argument, "data key " + id->str() + " has no key");
    k.wrapped = std::move(*wrapped);
  }
  return k;
}

sdk::Result<std::string> authenticated_text(const std::string& taken_at, const std::vector<sdk::DataKey>& records,
                                            sdk::Cipher& cipher) {
  nlohmann::json doc{{"format", format_name}, {"taken_at", taken_at}, {"keys", nlohmann::json::array()}};
  for (const auto& k : records) doc["keys"].push_back(to_json(k));
  if (auto r = authenticate_manifest(doc, cipher); !r) return sdk::fail(r.error());
  return doc.dump(1) + "\n";
}

sdk::Result<nlohmann::json> read_document(const fs::path& dir, sdk::Cipher& cipher) {
  std::ifstream in(dir / keys_file, std::ios::binary);
  if (!in) return fail(ErrorCode::not_found, "no key backup at " + (dir / keys_file).string());
  std::stringstream text;
  text << in.rdbuf();
  auto doc = nlohmann::json::parse(text.str(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || doc.value("format", "") != format_name)
    return fail(ErrorCode::invalid_argument, (dir / keys_file).string() + " is not a Strata key backup");
  if (!manifest_is_authenticated(doc))
    return fail(ErrorCode::auth_failed, (dir / keys_file).string() + " carries no authentication: not restored");
  if (auto ok = check_manifest_authentication(doc, &cipher); !ok)
    return fail(ErrorCode::auth_failed, (dir / keys_file).string() + " fails authentication (edited, or another "
                                            "cipher's): " + ok.error().message);
  return doc;
}

}  // namespace

sdk::Result<WrittenKeyBackup> write_key_backup(sdk::Storage& storage, sdk::Cipher& cipher, const fs::path& out_dir,
                                       const std::string& stamp, sdk::Timestamp now, const fs::path& ledger_file) {
  std::vector<sdk::DataKey> records;
  sdk::PageRequest request{sdk::max_page_limit, std::nullopt};
  for (;;) {
    auto page = storage.all_data_keys(request);
    if (!page) return sdk::fail(page.error());
    records.insert(records.end(), page->items.begin(), page->items.end());
    if (!page->next) break;
    request.after = page->next;
  }
  auto text = authenticated_text(now.iso8601(), records, cipher);
  if (!text) return sdk::fail(text.error());
  const fs::path dir = out_dir / (std::string(key_backup_prefix) + stamp);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail(ErrorCode::unavailable, "cannot create " + dir.string() + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, ec);
  if (auto w = replace_durably(dir / keys_file, *text); !w) return sdk::fail(w.error());
  // Listed where an erase looks: the absolute path, one per line (a host
  // with no data directory has no list: Services::backup says so).
  const WrittenKeyBackup written{dir, records.size()};
  if (ledger_file.empty()) return written;
  fs::create_directories(ledger_file.parent_path(), ec);
  std::ofstream list(ledger_file, std::ios::app);
  list << fs::absolute(dir).lexically_normal().string() << "\n";
  if (!list.flush()) return fail(ErrorCode::unavailable, "cannot write " + ledger_file.string());
  return written;
}

sdk::Result<std::vector<sdk::DataKey>> read_key_backup(const fs::path& dir, sdk::Cipher& cipher) {
  auto doc = read_document(dir, cipher);
  if (!doc) return sdk::fail(doc.error());
  std::vector<sdk::DataKey> out;
  try {
    for (const auto& j : doc->at("keys")) {
      auto k = from_json(j);
      if (!k) return fail(ErrorCode::invalid_argument, (dir / keys_file).string() + ": " + k.error().message);
      out.push_back(std::move(*k));
    }
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorCode::invalid_argument, (dir / keys_file).string() + " is malformed: " + e.what());
  }
  return out;
}

std::vector<fs::path> key_backups_in(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_directory(ec) && entry.path().filename().string().starts_with(key_backup_prefix))
      out.push_back(entry.path());
  std::sort(out.begin(), out.end());  // the stamp sorts as time does
  return out;
}

std::vector<fs::path> listed_key_backups(const fs::path& ledger_file) {
  std::vector<fs::path> out;
  std::ifstream in(ledger_file);
  std::error_code ec;
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && fs::is_directory(line, ec) && std::find(out.begin(), out.end(), line) == out.end())
      out.emplace_back(line);
  return out;
}

sdk::Result<std::vector<fs::path>> prune_key_backups(const fs::path& dir, sdk::Timestamp cutoff) {
  const std::string oldest_kept = std::string(key_backup_prefix) + utc_stamp(cutoff);
  std::vector<fs::path> removed;
  for (const auto& backup : key_backups_in(dir)) {
    if (backup.filename().string() >= oldest_kept) continue;
    std::error_code ec;
    fs::remove_all(backup, ec);
    if (ec) return fail(ErrorCode::unavailable, "cannot delete the expired key backup " + backup.string() + ": " +
                                                    ec.message());
    removed.push_back(backup);
  }
  return removed;
}

sdk::Result<std::size_t> scrub_key_backup(const fs::path& dir, const sdk::Uuid& user, sdk::Cipher& cipher,
                                          sdk::Timestamp at) {
  auto doc = read_document(dir, cipher);
  if (!doc) return sdk::fail(doc.error());
  auto records = read_key_backup(dir, cipher);
  if (!records) return sdk::fail(records.error());
  std::size_t replaced = 0;
  for (auto& k : *records)
    if (k.user_id == user && !k.destroyed_at) {
      std::fill(k.wrapped.begin(), k.wrapped.end(), 0);
      k.wrapped.clear();
      k.destroyed_at = at;
      ++replaced;
    }
  if (replaced == 0) return replaced;
  auto text = authenticated_text(doc->value("taken_at", ""), *records, cipher);
  if (!text) return sdk::fail(text.error());
  if (auto w = replace_durably(dir / keys_file, *text); !w) return sdk::fail(w.error());
  return replaced;
}

sdk::Result<void> restore_data_keys(sdk::Storage& storage, const std::vector<sdk::DataKey>& records,
                                    DataKeyRestore& counts) {
  for (const auto& k : records) {
    if (!k.destroyed_at) continue;
    if (auto r = storage.insert_data_key(k); !r) return sdk::fail(r.error());
    ++counts.tombstones;
  }
  for (const auto& k : records) {
    if (k.destroyed_at) continue;
    auto r = storage.insert_data_key(k);
    if (r) ++counts.restored;
    else if (r.error().code == ErrorCode::already_exists) ++counts.present;
    else if (r.error().code == ErrorCode::key_destroyed) ++counts.refused_destroyed;
    else return sdk::fail(r.error());
  }
  return {};
}

}  // namespace strata::detail
