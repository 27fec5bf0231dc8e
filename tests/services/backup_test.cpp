// Backup and restore on the configuration STRATA_SERVICES_CONFIG names: a
// populated host is backed up, a second host on empty backends restores it,
// and every record is compared field by field.

#include <catch2/catch.hpp>
#include <cryptopp/sha.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <set>
#include <thread>

#include "backup_authentication.hpp"
#include "restore_state.hpp"
#include "service_env.hpp"
#include "strata/services/audit_ledger.hpp"
#include "strata/services/backup.hpp"

using namespace std::chrono_literals;
using namespace strata;
namespace fs = std::filesystem;

namespace {

// Everything a backup must carry, read back through the roles.
struct State {
  std::vector<sdk::User> users;
  std::vector<sdk::Message> messages;
  std::vector<sdk::KeyRecord> keys;
  std::vector<sdk::AuditEvent> events;
  std::vector<sdk::Metric> metrics;
  std::map<std::string, std::string> cache;   // explicit test keys only
  std::map<std::string, sdk::KeyTtl> ttls;
};

const std::vector<std::string> cache_keys = {"greeting", std::string("bin\0ary\n", 8), "no-expiry"};

State read_state(test::ServiceEnv& env, const std::vector<sdk::Uuid>& user_ids) {
  State s;
  auto storage = env.host().storage();
  for (const auto& id : user_ids) {
    s.users.push_back(storage->get_user(id).value());
    auto keys = storage->keys_for_user(id).value();
    s.keys.insert(s.keys.end(), keys.begin(), keys.end());
  }
  // Every message, deleted and expired included: the rotation listing walks them all.
  sdk::PageRequest page{1000, std::nullopt};
  s.messages = storage->messages_not_under_key("no such key", page).value().items;
  sdk::AuditQuery all;
  all.limit = 100000;
  s.events = env.host().audit()->query(all).value();
  sdk::MetricQuery metrics;
  metrics.limit = 100000;
  s.metrics = env.host().audit()->query_metrics(metrics).value();
  // The audit ledger's checkpoint copies are each process's own signatures, written as it runs: not data.
  std::erase_if(s.metrics, [](const sdk::Metric& m) { return m.name == AuditLedger::checkpoint_metric; });
  auto cache = env.host().cache("default");
  for (const auto& key : cache_keys) {
    auto value = cache->get(key);
    REQUIRE(value);
    if (*value) s.cache[key] = sdk::to_string(**value);
    s.ttls[key] = cache->ttl(key).value();
  }
  return s;
}

struct Populated {
  std::vector<sdk::Uuid> users;
  std::string session_token;
};

Populated populate(test::ServiceEnv& env) {
  Populated p;
  auto alice = env.user("alice"), bob = env.user("bob");
  p.users = {alice.id, bob.id};
  REQUIRE(env.services().keys().rotate(alice.id, Origin{}));
  REQUIRE(env.services().keys().rotate(bob.id, Origin{}));
  REQUIRE(env.services().keys().rotate(bob.id, Origin{}));  // one inactive key
  REQUIRE(env.messages().send({alice.id, bob.id, "first", std::nullopt}, Origin{}));
  auto second = env.messages().send({bob.id, alice.id, "second, with a TTL", 1h}, Origin{}).value();
  auto third = env.messages().send({alice.id, bob.id, "third, deleted", std::nullopt}, Origin{}).value();
  REQUIRE(env.messages().read(second.id, alice.id, Origin{}));
  REQUIRE(env.messages().remove(third.id, bob.id, Origin{}));
  p.session_token = env.services().sessions().create(alice.id, Origin{}).value().token;
  auto cache = env.host().cache("default");
  REQUIRE(cache->set(cache_keys[0], sdk::as_bytes("hello"), 300s));
  REQUIRE(cache->set(cache_keys[1], sdk::as_bytes(std::string("\0\xff", 2)), 120s));
  REQUIRE(cache->set(cache_keys[2], sdk::as_bytes("forever"), sdk::Ttl(0) + std::chrono::hours(24 * 365)));
  env.settle_audit();
  REQUIRE(env.services().maintenance().flush_metrics());
  return p;
}

// `slack`: time the backup and restore calls took. A TTL is frozen when its
// instance is dumped and starts again when it is restored; the calls also
// dump and restore the other instances, so the TTLs read before and after
// may differ by that much, plus a second.
void compare(const State& a, const State& b, std::chrono::milliseconds slack = {}) {
  CHECK(a.users == b.users);
  auto by_id = [](auto v) {
    std::sort(v.begin(), v.end(), [](const auto& x, const auto& y) { return x.id < y.id; });
    return v;
  };
  CHECK(by_id(a.messages) == by_id(b.messages));
  CHECK(by_id(a.keys) == by_id(b.keys));
  auto actions = [](const std::vector<sdk::AuditEvent>& events) {
    std::string out;
    for (const auto& e : events) out += e.action + "@" + std::to_string(e.timestamp.micros()) + " ";
    return out;
  };
  INFO("before: " << actions(a.events) << "\nafter: " << actions(b.events));
  CHECK(a.events == b.events);
  CHECK(a.metrics.size() == b.metrics.size());
  auto metric_key = [](const sdk::Metric& m) { return std::tuple(m.timestamp, m.name, m.labels, m.value); };
  std::multiset<std::tuple<sdk::Timestamp, std::string, std::map<std::string, std::string>, double>> ma, mb;
  for (const auto& m : a.metrics) ma.insert(metric_key(m));
  for (const auto& m : b.metrics) mb.insert(metric_key(m));
  CHECK(ma == mb);
  CHECK(a.cache == b.cache);
  for (const auto& [key, ttl] : a.ttls) {
    INFO("cache key " << key);
    REQUIRE(b.ttls.at(key).exists == ttl.exists);
    if (ttl.remaining) {
      REQUIRE(b.ttls.at(key).remaining);
      CHECK(std::chrono::abs(*b.ttls.at(key).remaining - *ttl.remaining) < 1s + slack);  // TTLs within a second
    }
  }
}

std::string sha256_hex(std::string_view data) {
  CryptoPP::SHA256 sha;
  sdk::Bytes digest(CryptoPP::SHA256::DIGESTSIZE);
  sha.CalculateDigest(digest.data(), reinterpret_cast<const CryptoPP::byte*>(data.data()), data.size());
  return sdk::to_hex(digest);
}

// A restore records backup.restore in the trail it has just restored: the
// state read back is the backup's plus exactly that one event.
// The restore's own events: the restore, and the end of every session made before it.
State without_restore_event(State s) {
  for (const char* action : {"backup.restore", "session.revoke_everyone"}) {
    auto restores = std::count_if(s.events.begin(), s.events.end(),
                                  [&](const sdk::AuditEvent& e) { return e.action == action; });
    CHECK(restores == 1);
    std::erase_if(s.events, [&](const sdk::AuditEvent& e) { return e.action == action; });
  }
  return s;
}

// What a forger who knows the format does after editing a manifest: recompute its checksum.
void reseal(nlohmann::json& manifest) {
  manifest["manifest_sha256"] = "";
  manifest["manifest_sha256"] = sha256_hex(manifest.dump());
}


}  // namespace

TEST_CASE("backup: a round trip into empty backends loses nothing", "[backup]") {
  bool encrypt = GENERATE(false, true);
  INFO((encrypt ? "encrypted" : "plain"));
  test::ServiceEnv source;
  auto populated = populate(source);
  auto before = read_state(source, populated.users);
  REQUIRE(before.messages.size() == 3);
  REQUIRE(before.keys.size() == 3);
  REQUIRE_FALSE(before.events.empty());
  REQUIRE_FALSE(before.metrics.empty());

  fs::path out = source.dir() / "backups";
  fs::create_directories(out);
  auto started = std::chrono::steady_clock::now();
  auto made = source.services().backup(BackupOptions{out, encrypt});
  auto slack = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  INFO((made ? std::string() : made.error().describe()));
  REQUIRE(made);
  CHECK(fs::exists(made->dir / "manifest.json"));
  CHECK(fs::path(made->dir).filename().string().starts_with("strata-backup-"));
  REQUIRE(verify_backup(made->dir));
  auto manifest = nlohmann::json::parse(test::read_text(made->dir / "manifest.json"));
  CHECK(manifest.at("encrypted") == encrypt);
  CHECK(manifest.at("strata_version") == STRATA_SDK_VERSION);
  CHECK(manifest.at("instances").size() == 4);  // storage, two caches, audit
  for (const auto& instance : manifest.at("instances"))
    for (const auto& file : instance.at("files")) CHECK(file.at("sha256").get<std::string>().size() == 64);
  if (encrypt) {
    // No plaintext of the data in any file.
    for (const auto& entry : fs::recursive_directory_iterator(made->dir))
      if (entry.is_regular_file() && entry.path().filename() != "manifest.json")
        CHECK(test::read_text(entry.path()).find("alice@example.org") == std::string::npos);
  }

  test::ServiceEnv target;  // empty backends of the same kind
  started = std::chrono::steady_clock::now();
  auto restored = target.services().restore(made->dir, false);
  slack += std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  INFO((restored ? std::string() : restored.error().describe()));
  REQUIRE(restored);
  CHECK(restored->restored.size() == 4);
  target.settle_audit();  // the restore's own event lands (asynchronously) before the trail is read
  auto after = without_restore_event(read_state(target, populated.users));
  compare(before, after, slack);
  // What the services see: the inbox, a login; the session made before the
  // backup ended with the restore (a backup must not revive a revoked one).
  CHECK(target.services().sessions().get(populated.session_token).error().code == sdk::ErrorCode::auth_failed);
  auto inbox = target.messages().inbox(populated.users[1], sdk::PageRequest{}, Origin{});
  REQUIRE(inbox);
  REQUIRE(inbox->items.size() == 1);
  CHECK(inbox->items[0].text.value() == "first");
  CHECK(target.users().authenticate("alice", "alice-password", Origin{}));
  target.settle_audit();  // the login's event lands before the forced restore replaces the trail

  // A second restore into what now holds data needs --force.
  auto again = target.services().restore(made->dir, false);
  REQUIRE_FALSE(again);
  CHECK(again.error().code == sdk::ErrorCode::already_exists);
  CHECK(again.error().message.find("--force") != std::string::npos);
  started = std::chrono::steady_clock::now();
  REQUIRE(target.services().restore(made->dir, true));
  auto slack_forced = slack + std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  target.settle_audit();
  // Time has passed since the first restore too: the TTLs have run on since.
  compare(before, without_restore_event(read_state(target, populated.users)), slack_forced + std::chrono::duration_cast<std::chrono::milliseconds>(
                                                                        std::chrono::steady_clock::now() - started));
}

TEST_CASE("backup: a damaged, incomplete or edited backup is refused before anything is written", "[backup]") {
  test::ServiceEnv source;
  auto populated = populate(source);
  fs::path out = source.dir() / "backups";
  fs::create_directories(out);
  auto made = source.services().backup(BackupOptions{out, false});
  REQUIRE(made);
  fs::path storage_file = made->dir / "storage" / made->instances.at(0).files.at(0);

  auto copy = [&](const std::string& name) {
    fs::path to = source.dir() / name;
    fs::copy(made->dir, to, fs::copy_options::recursive);
    return to;
  };
  test::ServiceEnv target;
  auto refused = [&](const fs::path& dir, const std::string& why) {
    INFO(why);
    auto checked = verify_backup(dir);
    REQUIRE_FALSE(checked);
    CHECK(checked.error().message.find(why) != std::string::npos);
    auto r = target.services().restore(dir, true);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find(why) != std::string::npos);
    CHECK_FALSE(target.host().storage()->has_data().value());  // nothing was written
  };

  fs::path flipped = copy("flipped");
  {
    std::fstream f(flipped / "storage" / storage_file.filename(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(10);
    char c = 0;
    f.get(c);
    f.seekp(10);
    f.put(static_cast<char>(c ^ 0x20));
  }
  refused(flipped, "damaged");

  fs::path missing = copy("missing");
  fs::remove(missing / "storage" / storage_file.filename());
  refused(missing, "missing");

  // A file the manifest does not list is refused, even beside untouched ones
  // (an unlisted SQLite -wal was once applied by restore).
  fs::path unlisted = copy("unlisted");
  std::ofstream(unlisted / "storage" / (storage_file.filename().string() + "-wal")) << "not in the manifest";
  refused(unlisted, "a file the manifest does not list is in the backup");

  // A target whose cipher does not hold the backup's keys is refused before anything is written
  // (such a restore once reported success, and every message was then unreadable).
  {
    // No [audit]: the restore's lock goes into its data directory (it once went into the working directory).
    HostOptions options;
    options.env = test::fake_env({{"STRATA_DATA_DIR", (source.dir() / "other-host").string()}});
    auto other = test::open_host("[storage]\nplugin = \"memory\"\n[cipher]\nplugin = \"aes_gcm\"\nkey = \"" +
                                     std::string(64, 'f') + "\"\n",
                                 options);
    auto services = std::move(Services::open(*other, ServicesOptions{false}).value());
    auto r = services->restore(made->dir, true);
    REQUIRE_FALSE(r);
    INFO(r.error().describe());
    CHECK(r.error().code == sdk::ErrorCode::auth_failed);
    CHECK(r.error().message.find("nothing restored") != std::string::npos);
    CHECK_FALSE(other->storage()->has_data().value());
    CHECK(fs::exists(source.dir() / "other-host" / "restore.lock"));
  }

  // A restore never writes into the backup directory.
  auto before = std::distance(fs::recursive_directory_iterator(made->dir), fs::recursive_directory_iterator());
  test::ServiceEnv clean;
  REQUIRE(clean.services().restore(made->dir, true));
  CHECK(std::distance(fs::recursive_directory_iterator(made->dir), fs::recursive_directory_iterator()) == before);
  REQUIRE(verify_backup(made->dir));

  fs::path edited = copy("edited");
  {
    auto manifest = nlohmann::json::parse(test::read_text(edited / "manifest.json"));
    manifest["instances"][0]["counts"]["users"] = 1000;
    std::ofstream(edited / "manifest.json") << manifest.dump(2);
  }
  refused(edited, "edited");

  fs::path escaping = copy("escaping");
  {
    auto manifest = nlohmann::json::parse(test::read_text(escaping / "manifest.json"));
    // A forger who also recomputes the checksum still cannot point outside the backup.
    manifest["instances"][0]["files"][0]["path"] = "../../etc/passwd";
    reseal(manifest);
    std::ofstream(escaping / "manifest.json") << manifest.dump(2);
  }
  refused(escaping, "bad file name");

  // A field of another type, checksum recomputed or not, is refused by name:
  // it used to throw from inside the manifest reader and end the process.
  struct WrongType {
    const char* name;
    std::function<void(nlohmann::json&)> edit;
    const char* why;
  };
  for (const auto& [name, edit, why] : std::vector<WrongType>{
           {"checksum-array", [](auto& m) { m["manifest_sha256"] = nlohmann::json::array(); },
            "manifest_sha256 must be a string"},
           {"size-string", [](auto& m) { m["instances"][0]["files"][0]["size"] = "61440"; },
            "instances[].files[].size must be a size in bytes"},
           {"sha256-number", [](auto& m) { m["instances"][0]["files"][0]["sha256"] = 7; },
            "instances[].files[].sha256 must be a string"},
           {"authentication-string", [](auto& m) { m["authentication"] = "HMAC"; },
            "authentication must be an object"},
           {"key-ids-numbers",
            [](auto& m) {
              m["key_check"] = {{"key_ids", {1, 2}}, {"probe", "00"}};
            },
            "key_check.key_ids must be an array of strings"},
           {"encrypted-string", [](auto& m) { m["encrypted"] = "yes"; },
            "encrypted must be true or false"}}) {
    fs::path wrong = copy(name);
    auto manifest = nlohmann::json::parse(test::read_text(wrong / "manifest.json"));
    edit(manifest);
    if (std::string(name) != "checksum-array") reseal(manifest);
    std::ofstream(wrong / "manifest.json", std::ios::trunc) << manifest.dump(2);
    refused(wrong, why);
  }
  (void)populated;
}

TEST_CASE("backup: a forged manifest is refused, however well its checksums are recomputed", "[backup][hardening]") {
  test::ServiceEnv source;
  populate(source);
  fs::path out = source.dir() / "backups";
  fs::create_directories(out);
  auto plain = source.services().backup(BackupOptions{out, false});
  REQUIRE(plain);
  std::this_thread::sleep_for(1s);  // backup directories are named by the second
  auto sealed = source.services().backup(BackupOptions{out, true});
  REQUIRE(sealed);
  auto cipher = source.host().cipher();
  auto checked = verify_backup(sealed->dir, cipher.get());
  REQUIRE(checked);
  CHECK(checked->authenticated);

  test::ServiceEnv target;
  auto copy = [&](const fs::path& from, const std::string& name) {
    fs::path to = source.dir() / name;
    fs::copy(from, to, fs::copy_options::recursive);
    return to;
  };
  auto rewrite = [](const fs::path& dir, const std::function<void(nlohmann::json&)>& edit) {
    auto manifest = nlohmann::json::parse(test::read_text(dir / "manifest.json"));
    edit(manifest);
    reseal(manifest);
    std::ofstream(dir / "manifest.json", std::ios::trunc) << manifest.dump(2);
  };
  auto refused = [&](const fs::path& dir, const std::string& why) {
    INFO(why);
    REQUIRE(verify_backup(dir));  // the checksums were recomputed: integrity alone cannot tell
    auto checked = verify_backup(dir, cipher.get());
    REQUIRE_FALSE(checked);
    CHECK(checked.error().code == sdk::ErrorCode::auth_failed);
    CHECK(checked.error().message.find(why) != std::string::npos);
    auto r = target.services().restore(dir, true);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == sdk::ErrorCode::auth_failed);
    CHECK(r.error().message.find(why) != std::string::npos);
    CHECK_FALSE(target.host().storage()->has_data().value());  // nothing was written
  };

  // An edited count, with the manifest's SHA-256 recomputed.
  fs::path edited = copy(plain->dir, "edited");
  rewrite(edited, [](nlohmann::json& m) { m["instances"][0]["counts"]["users"] = 1000; });
  refused(edited, "does not match its content");

  // The MAC removed altogether.
  fs::path stripped = copy(plain->dir, "stripped");
  rewrite(stripped, [](nlohmann::json& m) {
    m.erase("manifest_hmac");
    m.erase("authentication");
  });
  refused(stripped, "not authenticated");

  // An encrypted backup turned into a plain one: the plain backup's files
  // (a stand-in for the forger's own rows) in place of the sealed ones, and
  // every checksum made to match.
  fs::path downgraded = copy(sealed->dir, "downgraded");
  rewrite(downgraded, [&](nlohmann::json& m) {
    m["encrypted"] = false;
    m["key_id"] = nullptr;
    for (auto& instance : m["instances"])
      for (auto& file : instance["files"]) {
        fs::path relative = fs::path(instance["dir"].get<std::string>()) / file["path"].get<std::string>();
        fs::copy_file(plain->dir / relative, downgraded / relative, fs::copy_options::overwrite_existing);
        std::string data = test::read_text(downgraded / relative);
        file["size"] = data.size();
        file["sha256"] = sha256_hex(data);
      }
  });
  refused(downgraded, "does not match its content");

  // A MAC key taken from another backup of the same key does not help: the MAC is over this manifest.
  fs::path transplanted = copy(plain->dir, "transplanted");
  auto other = nlohmann::json::parse(test::read_text(sealed->dir / "manifest.json"));
  rewrite(transplanted, [&](nlohmann::json& m) {
    m["authentication"] = other["authentication"];
    m["manifest_hmac"] = other["manifest_hmac"];
  });
  refused(transplanted, "does not match its content");

  // The untouched backups still restore.
  REQUIRE(target.services().restore(sealed->dir, true));
}

TEST_CASE("backup: a restore certain to fail is refused before any instance is written", "[backup][hardening]") {
  test::ServiceEnv source;
  populate(source);
  fs::path out = source.dir() / "backups";
  fs::create_directories(out);
  auto made = source.services().backup(BackupOptions{out, false});
  REQUIRE(made);
  // A forger's backup: cache.session's file is garbage, and the manifest is made to match it.
  auto manifest = nlohmann::json::parse(test::read_text(made->dir / "manifest.json"));
  bool forged = false;
  for (auto& instance : manifest["instances"]) {
    if (instance["dir"] != "cache.session") continue;
    std::string file = instance["files"][0]["path"];
    std::ofstream(made->dir / "cache.session" / file, std::ios::trunc) << "garbage";
    instance["files"][0]["sha256"] = sha256_hex("garbage");
    instance["files"][0]["size"] = 7;
    forged = true;
  }
  REQUIRE(forged);
  // Signed again with the source's key: what a faulty plugin, not a forger, could leave behind.
  manifest.erase("manifest_hmac");
  manifest.erase("authentication");
  REQUIRE(detail::authenticate_manifest(manifest, *source.host().cipher()));
  reseal(manifest);
  std::ofstream(made->dir / "manifest.json", std::ios::trunc) << manifest.dump(2);
  REQUIRE(verify_backup(made->dir, source.host().cipher().get()));  // consistent, and authenticated

  // Every instance is asked first (check_restore), so this one's garbage is
  // found before storage and cache.default are written: nothing changes.
  test::ServiceEnv target;
  auto r = target.services().restore(made->dir, false);
  REQUIRE_FALSE(r);
  INFO(r.error().message);
  CHECK(r.error().message.find("not restoring: cache.session cannot be restored") != std::string::npos);
  CHECK(r.error().message.find("Nothing was changed.") != std::string::npos);
  CHECK_FALSE(target.host().storage()->has_data().value());
}

TEST_CASE("backup: restores exclude each other, and one cut off is reported and completed", "[backup][hardening]") {
  test::ServiceEnv source;
  populate(source);
  fs::path out = source.dir() / "backups";
  fs::create_directories(out);
  auto made = source.services().backup(BackupOptions{out, false});
  REQUIRE(made);
  test::ServiceEnv target;
  const fs::path state_dir = read_service_settings(target.host()).value().state_dir();

  SECTION("while one restore holds the lock, another is refused before it looks at the target") {
    auto held = detail::RestoreLock::take(state_dir);
    REQUIRE(held);
    auto second = target.services().restore(made->dir, false);
    REQUIRE_FALSE(second);
    CHECK(second.error().code == sdk::ErrorCode::conflict);
    CHECK(second.error().message.find("another restore is running") != std::string::npos);
  }
  SECTION("a host with a data directory of its own restoring into the same database excludes this one") {
    // Another process, as on another machine: the same config and backends,
    // so the same database, but not the same restore.lock file.
    HostOptions options;
    options.env = test::fake_env(target.env_vars());
    auto other = Host::open_string(target.config_text(), options, "other-host.toml");
    REQUIRE(other);
    auto held = (*other)->storage()->hold_restore_lock(true);
    const char* config = std::getenv("STRATA_SERVICES_CONFIG");
    if (!config || std::string(config) == "testing") {
      // The in-memory store is this process's alone: there is no lock to share.
      REQUIRE_FALSE(held);
      CHECK(held.error().code == sdk::ErrorCode::unsupported);
    } else {
      INFO((held ? std::string() : held.error().describe()));
      REQUIRE(held);
      auto refused = target.services().restore(made->dir, false);
      REQUIRE_FALSE(refused);
      CHECK(refused.error().code == sdk::ErrorCode::conflict);
      INFO(refused.error().message);
      CHECK(refused.error().message.starts_with("not restoring: "));
      CHECK(refused.error().message.find("another restore into ") != std::string::npos);
      CHECK_FALSE(unfinished_restore(target.host()));  // refused before anything was written
      REQUIRE((*other)->storage()->hold_restore_lock(false));
    }
    auto restored = target.services().restore(made->dir, false);
    INFO((restored ? std::string() : restored.error().describe()));
    CHECK(restored);
    // The lock went with the restore: the other host can take it now.
    auto after = (*other)->storage()->hold_restore_lock(true);
    CHECK((after || after.error().code == sdk::ErrorCode::unsupported));
  }
  SECTION("two restores into one empty target at once: one wins, the other is refused") {
    std::atomic<int> succeeded{0};
    auto restore = [&] { succeeded += target.services().restore(made->dir, false).has_value(); };
    std::thread a(restore), b(restore);
    a.join();
    b.join();
    CHECK(succeeded == 1);
  }
  SECTION("a restore cut off after some instances: check says so, and the same backup again completes it") {
    REQUIRE(target.services().restore(made->dir, false));
    CHECK_FALSE(unfinished_restore(target.host()));
    CHECK(target.services().restore(made->dir, false).error().code == sdk::ErrorCode::already_exists);
    // What a kill -9 between the storage phase and the end leaves behind.
    auto manifest = nlohmann::json::parse(test::read_text(made->dir / "manifest.json"));
    REQUIRE(detail::write_restore_marker(
        state_dir, {made->dir.string(), manifest.at("manifest_sha256").get<std::string>(), sdk::Timestamp::now()}));
    auto report = unfinished_restore(target.host());
    REQUIRE(report);
    CHECK(report->find("a restore of " + made->dir.string()) != std::string::npos);
    CHECK(report->find("did not finish") != std::string::npos);
    REQUIRE(target.services().restore(made->dir, false));  // completing: no --force needed
    CHECK_FALSE(unfinished_restore(target.host()));
  }
}
