// The backup format: writing, verifying and restoring a backup of every
// instance of a host (what Services::backup / restore call, services_backup.cpp).

#include "strata/services/backup.hpp"

#include "strata/host.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "backup_authentication.hpp"
#include "backup_format.hpp"
#include "encoding.hpp"
#include "restore_state.hpp"
#include "strata/sdk/version.hpp"

namespace strata {
namespace {

// The text sealed as the backup's key probe (also its associated data).
constexpr std::string_view key_check_text = "strata:backup:key-check:v1";


using sdk::ErrorCode;
using sdk::fail;
namespace fs = std::filesystem;

constexpr const char* manifest_name = "manifest.json";
constexpr const char* format_name = "strata-backup/1";

using detail::sha256_hex;
using detail::utc_stamp;

// In one read of its size: a byte at a time through istreambuf_iterator was
// most of the time the fuzzer spent per manifest, and a read error midway
// ended the copy silently, short.
sdk::Result<sdk::Bytes> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  std::streamoff size = in ? static_cast<std::streamoff>(in.tellg()) : -1;
  if (size < 0) return fail(ErrorCode::not_found, "cannot read '" + path.string() + "'");  // a directory too
  sdk::Bytes data(static_cast<std::size_t>(size));
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(data.size())))
    return fail(ErrorCode::unavailable, "cannot read '" + path.string() + "': " + std::strerror(errno));
  return data;
}

sdk::Result<void> write_file(const fs::path& path, sdk::BytesView data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  if (!out.flush()) return fail(ErrorCode::unavailable, "cannot write '" + path.string() + "'");
  return {};
}

std::string label(const InstanceInfo& i) {
  return i.role == sdk::Role::cache ? "cache." + i.instance : std::string(sdk::to_string(i.role));
}

// The backup methods, whatever the role.
struct Target {
  InstanceInfo info;
  std::function<sdk::Result<sdk::BackupReport>(const fs::path&)> backup, restore;
  std::function<sdk::Result<bool>()> has_data;
  std::function<sdk::Result<void>(const fs::path&)> check_restore;
};

std::vector<Target> targets(const Host& host) {
  std::vector<Target> out;
  for (const auto& info : host.instances()) {
    auto make = [&](auto object) {
      out.push_back(Target{info, [object](const fs::path& d) { return object->backup(d); },
                           [object](const fs::path& d) { return object->restore(d); },
                           [object] { return object->has_data(); },
                           [object](const fs::path& d) { return object->check_restore(d); }});
    };
    if (info.role == sdk::Role::storage) make(host.storage());
    else if (info.role == sdk::Role::cache) make(host.cache(info.instance));
    else if (info.role == sdk::Role::audit) make(host.audit());
  }
  return out;  // start order: storage, caches, audit
}


std::string manifest_checksum(nlohmann::json manifest) {
  manifest["manifest_sha256"] = "";
  return sha256_hex(sdk::as_bytes(manifest.dump()));
}

nlohmann::json to_json(const InstanceBackup& b, const std::vector<nlohmann::json>& files) {
  return {{"role", b.role},       {"instance", b.instance},   {"plugin", b.plugin},
          {"plugin_version", b.plugin_version}, {"schema_version", b.schema_version}, {"dir", b.dir},
          {"counts", b.counts},   {"files", files}};
}

sdk::Bytes file_aad(const std::string& relative) { return sdk::to_bytes("strata-backup:" + relative); }

// An encrypted backup file opened: the sealed-key encoding, bound to its path in the backup.
sdk::Result<sdk::Bytes> open_file(sdk::Cipher& cipher, const fs::path& dir, const std::string& relative) {
  auto data = read_file(dir / relative);
  if (!data) return sdk::fail(data.error());
  auto sealed = detail::decode_sealed(*data);
  if (!sealed) return sdk::fail(sealed.error());
  return cipher.open(*sealed, file_aad(relative));
}

}  // namespace

sdk::Result<BackupResult> detail::write_backup(const Host& host, const BackupOptions& options) {
  sdk::Timestamp started = host.clock()->now();
  auto cipher = host.cipher();
  std::string key_id;
  if (options.encrypt) {
    if (!cipher) return fail(ErrorCode::invalid_argument, "--encrypt needs a [cipher] in the config");
    auto primary = cipher->primary_key_id();
    if (!primary) return sdk::fail(primary.error());
    key_id = *primary;
  }
  // What the data was sealed with: every key id of the ring, and a probe
  // sealed under the primary key, so a restore can tell before writing
  // anything whether the target's cipher will open it.
  nlohmann::json key_check;
  if (cipher) {
    auto ids = cipher->key_ids();
    auto probe = cipher->seal(sdk::as_bytes(key_check_text), sdk::as_bytes(key_check_text));
    if (!ids || !probe) return sdk::fail(ids ? probe.error() : ids.error());
    key_check = {{"key_ids", *ids}, {"probe", sdk::to_hex(detail::encode_sealed(*probe))}};
  }
  BackupResult result;
  result.dir = options.out_dir / ("strata-backup-" + utc_stamp(started));
  std::error_code ec;
  if (fs::exists(result.dir))
    return fail(ErrorCode::already_exists, "'" + result.dir.string() + "' exists; wait a second or pick another --out");
  if (!fs::create_directories(result.dir, ec) || ec)
    return fail(ErrorCode::unavailable, "cannot create '" + result.dir.string() + "': " + ec.message());
  fs::permissions(result.dir, fs::perms::owner_all, ec);  // backups hold everything: owner only

  std::vector<nlohmann::json> instances;
  for (auto& target : targets(host)) {
    InstanceBackup b{std::string(sdk::to_string(target.info.role)), target.info.instance, target.info.plugin,
                     target.info.version, "", label(target.info), {}, {}};
    fs::path dir = result.dir / b.dir;
    fs::create_directories(dir, ec);
    auto report = target.backup(dir);
    if (!report) {
      if (report.error().code == ErrorCode::unsupported) {
        result.skipped.push_back(b.dir + " (" + b.plugin + "): " + report.error().message);
        fs::remove_all(dir, ec);
        continue;
      }
      return fail(report.error().code, "backing up " + b.dir + " (" + b.plugin + "): " + report.error().describe() +
                                           "; the partial backup is in " + result.dir.string());
    }
    b.counts = report->counts;
    b.schema_version = report->schema_version;
    b.files = report->files;
    std::vector<nlohmann::json> files;
    for (const auto& name : report->files) {
      fs::path path = dir / name;
      auto data = read_file(path);
      if (!data) return sdk::fail(data.error());
      if (options.encrypt) {
        auto sealed = cipher->seal(*data, file_aad(b.dir + "/" + name));
        if (!sealed) return sdk::fail(sealed.error());
        *data = detail::encode_sealed(*sealed);
        if (auto w = write_file(path, *data); !w) return sdk::fail(w.error());
      }
      files.push_back({{"path", name}, {"size", data->size()}, {"sha256", sha256_hex(*data)}});
    }
    instances.push_back(to_json(b, files));
    result.instances.push_back(std::move(b));
  }
  result.skipped.push_back("cipher: keys are configuration (a key file or the environment); back them up apart");

  nlohmann::json manifest{{"format", format_name},
                          {"strata_version", STRATA_SDK_VERSION},
                          {"config_fingerprint", sha256_hex(sdk::as_bytes(host.effective_config()))},
                          {"started_at", started.iso8601()},
                          {"finished_at", host.clock()->now().iso8601()},
                          {"encrypted", options.encrypt},
                          {"key_id", options.encrypt ? nlohmann::json(key_id) : nlohmann::json()},
                          {"key_check", key_check},
                          {"instances", instances},
                          {"skipped", result.skipped}};
  if (cipher)
    if (auto r = detail::authenticate_manifest(manifest, *cipher); !r) return sdk::fail(r.error());
  manifest["manifest_sha256"] = manifest_checksum(manifest);
  std::string text = manifest.dump(2) + "\n";
  if (auto w = write_file(result.dir / manifest_name, sdk::as_bytes(text)); !w) return sdk::fail(w.error());
  return result;
}

struct Manifest {
  nlohmann::json json;
  std::vector<InstanceBackup> instances;
};

namespace {

// Every field the code reads from a manifest, with its type, checked before
// anything reads it: nlohmann's value() and get() throw on a field of
// another type, so a damaged or forged manifest (`"manifest_sha256": []`,
// found by the structure-aware fuzzer) ended the process instead of being
// refused. "" when the shape is right, else the first field that is wrong.
std::string shape_error(const nlohmann::json& manifest) {
  using J = nlohmann::json;
  using Is = bool (J::*)() const noexcept;
  std::string wrong;
  // Checks `object[key]` (absent is wrong unless `optional`); false once something is wrong.
  auto has = [&](const J& object, const std::string& where, const char* key, Is is, const char* type,
                 bool optional = false) {
    if (!wrong.empty()) return false;
    auto it = object.find(key);
    if (it == object.end() ? !optional : !((*it).*is)()) wrong = where + key + " must be " + type;
    return wrong.empty();
  };
  const char* const text = "a string";
  has(manifest, "", "format", &J::is_string, text);
  has(manifest, "", "manifest_sha256", &J::is_string, text);
  has(manifest, "", "encrypted", &J::is_boolean, "true or false", true);
  has(manifest, "", "manifest_hmac", &J::is_string, text, true);
  if (has(manifest, "", "authentication", &J::is_object, "an object", true) &&
      manifest.contains("authentication"))
    for (const char* key : {"algorithm", "key_id", "sealed_key"})
      has(manifest["authentication"], "authentication.", key, &J::is_string, text, true);
  if (manifest.contains("key_check") && !manifest["key_check"].is_null() &&
      has(manifest, "", "key_check", &J::is_object, "an object or null")) {
    const auto& check = manifest["key_check"];
    has(check, "key_check.", "probe", &J::is_string, text);
    if (has(check, "key_check.", "key_ids", &J::is_array, "an array of strings"))
      for (const auto& id : check["key_ids"])
        if (wrong.empty() && !id.is_string()) wrong = "key_check.key_ids must be an array of strings";
  }
  if (!has(manifest, "", "instances", &J::is_array, "an array")) return wrong;
  for (const auto& instance : manifest["instances"]) {
    if (!instance.is_object()) return "instances must hold objects";
    for (const char* key : {"role", "instance", "plugin", "plugin_version", "schema_version", "dir"})
      has(instance, "instances[].", key, &J::is_string, text);
    if (has(instance, "instances[].", "counts", &J::is_object, "an object of counts"))
      for (const auto& count : instance["counts"])
        if (wrong.empty() && !count.is_number_unsigned()) wrong = "instances[].counts must hold counts";
    if (!has(instance, "instances[].", "files", &J::is_array, "an array")) return wrong;
    for (const auto& file : instance["files"]) {
      if (!file.is_object()) return "instances[].files must hold objects";
      has(file, "instances[].files[].", "path", &J::is_string, text);
      has(file, "instances[].files[].", "sha256", &J::is_string, text);
      has(file, "instances[].files[].", "size", &J::is_number_unsigned, "a size in bytes");
    }
  }
  return wrong;
}

sdk::Result<Manifest> read_manifest(const fs::path& dir) {
  auto text = read_file(dir / manifest_name);
  if (!text) return fail(ErrorCode::not_found, "'" + dir.string() + "' is not a Strata backup: no " + manifest_name);
  auto json = nlohmann::json::parse(text->begin(), text->end(), nullptr, false);
  auto bad = [&](const std::string& why) {
    return fail(ErrorCode::invalid_argument, (dir / manifest_name).string() + ": " + why);
  };
  if (json.is_discarded() || !json.is_object()) return bad("not JSON");
  if (auto wrong = shape_error(json); !wrong.empty()) {
    // A manifest of another format may have another shape: say which it is not.
    if (auto format = json.find("format"); format == json.end() || *format != format_name)
      return bad("not a " + std::string(format_name) + " manifest");
    return bad(wrong + ": the manifest was damaged or forged");
  }
  if (json.value("format", "") != format_name) return bad("not a " + std::string(format_name) + " manifest");
  if (json.value("manifest_sha256", "") != manifest_checksum(json))
    return bad("its checksum does not match its content: the manifest was edited or damaged");
  Manifest m{json, {}};
  try {
    for (const auto& i : json.at("instances")) {
      InstanceBackup b{i.at("role"),    i.at("instance"), i.at("plugin"), i.at("plugin_version"),
                       i.at("schema_version"), i.at("dir"), i.at("counts").get<std::map<std::string, std::uint64_t>>(),
                       {}};
      if (b.dir.find('/') != std::string::npos || b.dir.find("..") != std::string::npos) return bad("bad directory " + b.dir);
      for (const auto& f : i.at("files")) {
        std::string path = f.at("path");
        if (fs::path(path).is_absolute() || path.find("..") != std::string::npos) return bad("bad file name " + path);
        b.files.push_back(path);
      }
      m.instances.push_back(std::move(b));
    }
  } catch (const nlohmann::json::exception& e) {
    return bad(std::string("missing or wrong field: ") + e.what());
  }
  return m;
}

sdk::Result<void> check_files(const fs::path& dir, const Manifest& m) {
  // Only what the manifest lists may be in the backup: a file slipped in
  // beside the listed ones (a SQLite -wal beside strata.db) would be used by
  // a restore without any checksum covering it.
  std::set<fs::path> listed{dir / manifest_name};
  for (const auto& i : m.json.at("instances")) {
    if (i.at("files").empty())
      return fail(ErrorCode::invalid_argument, "the manifest lists no files for " + i.at("dir").get<std::string>() +
                                                   ": nothing to restore it from");
    for (const auto& f : i.at("files"))
      listed.insert(dir / i.at("dir").get<std::string>() / f.at("path").get<std::string>());
  }
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (!it->is_directory() && !listed.contains(it->path()))
      return fail(ErrorCode::invalid_argument, "a file the manifest does not list is in the backup: " +
                                                   it->path().string() + " (remove it, or take a new backup)");
  for (const auto& i : m.json.at("instances"))
    for (const auto& f : i.at("files")) {
      fs::path path = dir / i.at("dir").get<std::string>() / f.at("path").get<std::string>();
      auto data = read_file(path);
      if (!data) return fail(ErrorCode::not_found, "backup file missing: " + path.string());
      if (data->size() != f.at("size").get<std::uint64_t>() || sha256_hex(*data) != f.at("sha256").get<std::string>())
        return fail(ErrorCode::invalid_argument, "backup file damaged (size or SHA-256 differs from the manifest): " +
                                                     path.string());
    }
  return {};
}

}  // namespace

sdk::Result<VerifiedBackup> verify_backup(const fs::path& dir, sdk::Cipher* cipher) {
  auto m = read_manifest(dir);
  if (!m) return sdk::fail(m.error());
  if (cipher)
    if (auto r = detail::check_manifest_authentication(m->json, cipher); !r) return sdk::fail(r.error());
  if (auto r = check_files(dir, *m); !r) return sdk::fail(r.error());
  VerifiedBackup verified{m->instances, cipher && detail::manifest_is_authenticated(m->json),
                          detail::manifest_is_authenticated(m->json)};
  return verified;
}

namespace {

// Whether `host`'s cipher opens what the backup's data was sealed with: every
// key id of the backup's ring, and the probe under its primary key.
sdk::Result<void> check_keys(const Host& host, const Manifest& m) {
  auto check = m.json.find("key_check");
  if (check == m.json.end() || check->is_null()) return {};
  auto cipher = host.cipher();
  auto ids = check->at("key_ids").get<std::vector<std::string>>();
  std::string named;
  for (const auto& id : ids) named += (named.empty() ? "'" : ", '") + id + "'";
  if (!cipher)
    return fail(ErrorCode::invalid_argument, "the backup's data is sealed under cipher key " + named +
                                                 " and the config has no [cipher]: nothing restored");
  auto have = cipher->key_ids();
  if (!have) return sdk::fail(have.error());
  for (const auto& id : ids)
    if (std::find(have->begin(), have->end(), id) == have->end())
      return fail(ErrorCode::auth_failed, "the backup's data is sealed under cipher key '" + id +
                                              "', which this config's key ring does not hold: nothing restored");
  auto probe = sdk::from_hex(check->at("probe").get<std::string>());
  auto sealed = probe ? detail::decode_sealed(*probe) : sdk::Result<sdk::Sealed>(sdk::fail(ErrorCode::invalid_argument, "bad probe"));
  auto opened = sealed ? cipher->open(*sealed, sdk::as_bytes(key_check_text)) : sdk::Result<sdk::Bytes>(sdk::fail(sealed.error()));
  if (!opened)
    return fail(ErrorCode::auth_failed, "the config's cipher key '" + (sealed ? sealed->key_id : std::string("?")) +
                                            "' is not the key the backup's data was sealed with (" +
                                            opened.error().message + "): nothing restored");
  return {};
}

}  // namespace

sdk::Result<RestoreResult> detail::restore_backup(const Host& host, const fs::path& dir, bool force,
                                                  const fs::path& state_dir) {
  auto m = read_manifest(dir);
  if (!m) return sdk::fail(m.error());
  // The keys first: a cipher that lacks the backup's key is named as such.
  if (auto r = check_keys(host, *m); !r) return sdk::fail(r.error());
  if (auto r = detail::check_manifest_authentication(m->json, host.cipher().get()); !r) return sdk::fail(r.error());
  if (auto r = check_files(dir, *m); !r) return sdk::fail(r.error());

  // Match every backed-up instance to one in the config, same plugin.
  auto all = targets(host);
  std::vector<std::pair<const InstanceBackup*, Target*>> plan;
  for (const auto& b : m->instances) {
    Target* found = nullptr;
    for (auto& t : all)
      if (sdk::to_string(t.info.role) == b.role && t.info.instance == b.instance) found = &t;
    if (!found) return fail(ErrorCode::invalid_argument, "the backup has " + b.dir + " but the config does not");
    if (found->info.plugin != b.plugin)
      return fail(ErrorCode::invalid_argument, b.dir + " was backed up from plugin '" + b.plugin +
                                                   "' but the config runs '" + found->info.plugin + "'");
    plan.emplace_back(&b, found);
  }
  // A restore of this same backup that was cut off is completed, not refused
  // because the instances it already replaced hold data.
  const std::string manifest_sha256 = m->json.value("manifest_sha256", "");
  auto unfinished = detail::read_restore_marker(state_dir);
  bool completing = unfinished && !manifest_sha256.empty() && unfinished->manifest_sha256 == manifest_sha256;
  if (!force && !completing) {
    std::vector<std::string> busy;
    for (auto& [b, t] : plan) {
      auto has = t->has_data();
      if (!has) return fail(has.error().code, "checking whether " + b->dir + " is empty: " + has.error().describe());
      if (*has) busy.push_back(b->dir);
    }
    if (!busy.empty()) {
      std::string names;
      for (const auto& n : busy) names += (names.empty() ? "" : ", ") + n;
      return fail(ErrorCode::already_exists, "not restoring: " + names + " already hold" +
                                                 (busy.size() == 1 ? "s" : "") + " data (use --force to replace it)");
    }
  }

  // Plugins restore from a private staging copy of the listed files (opened
  // first when encrypted): nothing is ever written into the backup itself
  // (SQLite would leave -wal and -shm files beside its database there).
  std::shared_ptr<sdk::Cipher> cipher;
  if (m->json.value("encrypted", false)) {
    cipher = host.cipher();
    if (!cipher) return fail(ErrorCode::invalid_argument, "the backup is encrypted; the config has no [cipher]");
  }
  std::error_code ec;
  fs::path staging = fs::temp_directory_path() / ("strata-restore-" + sdk::Uuid::generate().str());
  fs::create_directories(staging, ec);
  fs::permissions(staging, fs::perms::owner_all, ec);
  for (const auto& b : m->instances) {
    fs::create_directories(staging / b.dir, ec);
    for (const auto& name : b.files) {
      auto data = cipher ? open_file(*cipher, dir, b.dir + "/" + name) : read_file(dir / b.dir / name);
      if (!data) {
        fs::remove_all(staging, ec);
        return fail(data.error().code, "cannot read " + b.dir + "/" + name + ": " + data.error().describe());
      }
      fs::create_directories((staging / b.dir / name).parent_path(), ec);
      if (auto w = write_file(staging / b.dir / name, *data); !w) {
        fs::remove_all(staging, ec);
        return sdk::fail(w.error());
      }
    }
  }

  // Every instance is asked before any is written: a restore certain to fail
  // (a Redis namespace it may not clear, a file its plugin cannot read, a
  // backend down) changes nothing. A plugin older than SDK 1.8 has no
  // check_restore; that it answers has_data() is then all that is known.
  for (auto& [b, t] : plan) {
    auto ready = t->check_restore(staging / b->dir);
    if (!ready && ready.error().code == ErrorCode::unsupported) {
      auto has = t->has_data();
      ready = has ? sdk::Result<void>{} : sdk::Result<void>(sdk::fail(has.error()));
    }
    if (!ready) {
      fs::remove_all(staging, ec);
      return fail(ready.error().code, "not restoring: " + b->dir + " cannot be restored: " +
                                          ready.error().describe() + ". Nothing was changed.");
    }
  }

  if (auto marked = detail::write_restore_marker(state_dir, {dir.string(), manifest_sha256, sdk::Timestamp::now()});
      !marked) {
    fs::remove_all(staging, ec);
    return sdk::fail(marked.error());
  }
  RestoreResult result;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    auto& [b, t] = plan[i];
    auto report = t->restore(staging / b->dir);
    if (!report) {
      std::string done, pending;
      for (const auto& r : result.restored) done += " " + r.dir;
      for (std::size_t j = i + 1; j < plan.size(); ++j) pending += " " + plan[j].first->dir;
      fs::remove_all(staging, ec);
      return fail(report.error().code, "restoring " + b->dir + " failed: " + report.error().describe() +
                                           ". Restored:" + (done.empty() ? " none" : done) +
                                           ". Not attempted:" + (pending.empty() ? " none" : pending) + ".");
    }
    InstanceBackup restored = *b;
    restored.counts = report->counts;
    result.restored.push_back(std::move(restored));
  }
  fs::remove_all(staging, ec);
  return result;
}

}  // namespace strata
