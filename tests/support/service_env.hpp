#pragma once
// The services under test on one of the shipped configurations, chosen by
// STRATA_SERVICES_CONFIG: "testing" (config/testing.toml: memory stubs),
// "embedded" (config/embedded.toml: SQLite, file audit, in a temporary data
// directory) or "production" (config/production.toml against the real
// PostgreSQL, Redis and MongoDB wire-protocol servers, each test in its own
// database, Redis key prefix and MongoDB database). The expectations are the same.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "backends.hpp"
// The production config needs the postgres, redis and mongodb plugins, and
// their drivers for the throwaway databases: built only when all are
// (tests/CMakeLists.txt defines STRATA_TEST_PRODUCTION).
#if STRATA_TEST_PRODUCTION
#include "mongo_db.hpp"
#include "postgres_db.hpp"
#endif
#include "strata/services.hpp"
#include "test_host.hpp"
#include "test_paths.hpp"

namespace strata::test {

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// The second cipher key the tests rotate to.
inline const std::string rotated_key_hex = "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf";

class ServiceEnv {
 public:
  /// `extra`: host-level tables appended to the shipped file (e.g. "[sessions]\nttl_s = 1\n").
  /// `rotated`: the cipher ring as after a key rotation (a new primary, the old key still opening).
  explicit ServiceEnv(const std::string& extra = "", bool rotated = false)
      : dir_(std::filesystem::temp_directory_path() / ("strata-services-" + sdk::Uuid::generate().str())) {
    std::filesystem::create_directories(dir_);
    const char* which = std::getenv("STRATA_SERVICES_CONFIG");
    production_ = which && std::string(which) == "production";
    std::map<std::string, std::string> env{{"STRATA_DATA_DIR", dir_.string()}};
    std::string text;
    // Cheaper password hashing than the default: the tests hash many passwords.
    std::string tables = "[users]\nscrypt_log2_n = 11\n" + extra;
    if (production_) {
#if STRATA_TEST_PRODUCTION
      // The local server trusts loopback; without this libpq first tries GSS
      // encryption, and Kerberos' per-thread data then trips LeakSanitizer's
      // TLS scan at exit (a crash in the sanitizer, not in Strata).
      ::setenv("PGGSSENCMODE", "disable", 0);
      require_postgres();
      require_redis();
      require_mongodb();
      auto pg = std::make_shared<TempDatabase>();
      auto mongo = std::make_shared<TempMongoDatabase>();
      pg_ = pg;
      mongo_ = mongo;
      env.insert({{"DB_NAME", pg->name()},
                  {"DB_HOST", "127.0.0.1"},
                  {"DB_PORT", std::to_string(postgres_port())},
                  {"REDIS_HOST", "127.0.0.1"},
                  {"REDIS_PORT", std::to_string(redis_port())},
                  {"DB_USER", "postgres"},
                  {"DB_ENCRYPTION_KEY", test_key_hex},
                  {"STRATA_KEY_2026_11", rotated_key_hex},
                  {"REDIS_KEY_PREFIX", "test-" + sdk::Uuid::generate().str() + ":"},
                  {"MONGODB_URI", mongo->uri()}});
      text = read_text(strata::test::paths::source_dir() + "/config/production.toml");
      // FerretDB under ASan on a loaded 2-core machine answers a query over
      // tens of thousands of events (the concurrency test reads back 32,000)
      // slower than the plugin's default 5 s reply timeout. Its handshake can
      // also take longer than the default 2 s server selection (the driver's
      // own default is 30 s): every test opens a new client pool, and a
      // failed selection pauses the sink, failing the test's next audit
      // call. Each is still a bound: a FerretDB that is down fails the test.
      const std::string audit_uri = "uri = \"${MONGODB_URI:-mongodb://127.0.0.1:27017/strata}\"";
      replace(text, audit_uri, audit_uri + "\nsocket_timeout_ms = 120000\nserver_selection_timeout_ms = 30000");
      if (rotated) replace(text, "\nkey = { env = \"DB_ENCRYPTION_KEY\" }",
                           "\nkeys = [ { id = \"2026-11\", key = { env = \"STRATA_KEY_2026_11\" }, primary = true },\n"
                           "         { id = \"default\", key = { env = \"DB_ENCRYPTION_KEY\" } } ]");
#else
      FAIL("this build has no production config (the postgres, redis or mongodb plugin was skipped)");
#endif
    } else if (which && std::string(which) == "embedded") {
      // The CLI's built-in default, in this test's own data directory.
      env.insert({{"STRATA_KEY", test_key_hex}, {"STRATA_KEY_2026_11", rotated_key_hex}});
      text = read_text(strata::test::paths::source_dir() + "/config/embedded.toml");
      if (rotated) {
        auto cipher = text.find("[cipher]");
        REQUIRE(cipher != std::string::npos);
        text = text.substr(0, cipher) +
               "[cipher]\nplugin = \"aes_gcm\"\n"
               "keys = [ { id = \"2026-11\", key = { env = \"STRATA_KEY_2026_11\" }, primary = true },\n"
               "         { id = \"default\", key = { env = \"STRATA_KEY\" } } ]\n";
      }
    } else {
      text = read_text(strata::test::paths::source_dir() + "/config/testing.toml");
      // testing.toml's ring already has two keys; "unrotated" makes the older one primary.
      if (!rotated) {
        replace(text, ", primary = true }", " }");
        replace(text, "0f0e0d0c0b0a09080706050403020100\" }", "0f0e0d0c0b0a09080706050403020100\", primary = true }");
      }
    }
    text_ = text + "\n" + tables;
    env_ = std::move(env);
    reopen();
  }

  /// Closes the services and the host (as a process exiting would).
  void close() {
    services_.reset();
    host_.reset();
  }
  /// Opens them again on the same data (as a process restarting would).
  void reopen() {
    close();
    HostOptions options;
    options.env = fake_env(env_);
    auto host = Host::open_string(text_, options, production_ ? "production.toml" : "testing.toml");
    INFO((host ? std::string("opened") : host.error().describe()));
    REQUIRE(host);
    host_ = std::move(*host);
    if (production_) REQUIRE(host_->storage()->migrate(host_->storage()->schema_status()->latest));
    auto services = Services::open(*host_, ServicesOptions{false});
    REQUIRE(services);
    services_ = std::move(*services);
  }
  /// Appends host-level tables the config did not have yet and reopens (as
  /// a process restarted with a changed config would).
  void reopen_with(const std::string& tables) {
    text_ += "\n" + tables;
    reopen();
  }
  /// The config text and the environment it reads, for another process.
  const std::string& config_text() const { return text_; }
  const std::map<std::string, std::string>& env_vars() const { return env_; }

  ~ServiceEnv() {
    services_.reset();
    host_.reset();
    std::filesystem::remove_all(dir_);
  }
  ServiceEnv(const ServiceEnv&) = delete;
  ServiceEnv& operator=(const ServiceEnv&) = delete;

  Host& host() { return *host_; }
  Services& services() { return *services_; }
  Users& users() { return services_->users(); }
  Messages& messages() { return services_->messages(); }
  bool production() const { return production_; }
  const std::filesystem::path& dir() const { return dir_; }

  /// Registers a user with password "<name>-password".
  sdk::User user(const std::string& name) {
    auto u = users().register_user(name, name + "@example.org", name + "-password", Origin{"192.0.2.1"});
    INFO((u ? std::string() : u.error().describe()));
    REQUIRE(u);
    return *u;
  }

  /// Waits until every event recorded so far is in the sink: flushed, and
  /// nothing left in the spool (a sink that stumbled under load is replayed).
  /// Also relays the storage's audit outbox until it is empty.
  void settle_audit() {
    services_->audit().flush();
    auto waiting = [&] { return services_->audit().spooled() + outbox_size(); };
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (waiting() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      services_->audit().flush();
    }
    REQUIRE(waiting() == 0);
  }

  /// Events waiting in the storage's audit outbox (0 without one).
  std::uint64_t outbox_size() {
    if (!services_->audit().uses_outbox()) return 0;
    auto n = host_->storage()->outbox_size();
    REQUIRE(n);
    return *n;
  }

  /// Every audit event with `action`, once settled.
  std::vector<sdk::AuditEvent> events(const std::string& action) {
    settle_audit();
    sdk::AuditQuery q;
    q.action = action;
    q.limit = 10000;
    auto found = host_->audit()->query(q);
    REQUIRE(found);
    return *found;
  }

 private:
  static void replace(std::string& text, const std::string& from, const std::string& to) {
    auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
  }

  std::filesystem::path dir_;
  std::string text_;
  std::map<std::string, std::string> env_;
  bool production_ = false;
  std::shared_ptr<void> pg_, mongo_;  // the production config's throwaway databases
  std::unique_ptr<Host> host_;
  std::unique_ptr<Services> services_;
};

}  // namespace strata::test
