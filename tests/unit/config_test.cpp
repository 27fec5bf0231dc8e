// Config errors: each names file:line:column and what is wrong.

#include <fstream>

#include "strata/settings.hpp"
#include "test_host.hpp"
#include "test_paths.hpp"

using namespace strata;
using test::fake_env;
using test::open_error;
using test::open_host;

namespace {

void expect_message(std::string_view toml, std::initializer_list<std::string_view> fragments,
                    HostOptions options = {}) {
  auto error = open_error(toml, std::move(options));
  INFO(error.message);
  for (auto fragment : fragments) CHECK(error.message.find(fragment) != std::string::npos);
}

}  // namespace

TEST_CASE("config: malformed TOML names line and column", "[config]") {
  expect_message("[storage]\nplugin = \"memory\n", {"test.toml:2:", "malformed TOML"});
  expect_message("[cache.default]\nplugin = \"memory\"\n[cache.default]\nplugin = \"memory\"\n",
                 {"test.toml:3:", "malformed TOML"});
}

TEST_CASE("config: unknown keys suggest the nearest valid one", "[config]") {
  expect_message("[storag]\nplugin = \"memory\"\n", {"test.toml:1:", "unknown key 'storag'", "did you mean 'storage'"});
  expect_message("[cache.default]\nplugin = \"memory\"\ndefault_ttl = 5\n",
                 {"test.toml:3:1", "unknown key 'default_ttl' in [cache.default]", "did you mean 'default_ttl_s'"});
  expect_message("[cache.default]\nplugin = \"memory\"\nzzzzzzzz = 5\n", {"valid keys: plugin default_ttl_s"});
  expect_message("[host]\nplugin_dir = \"x\"\n", {"unknown key 'plugin_dir' in [host]; valid keys: plugin_path"});
  expect_message("[cipher]\nplugin = \"aes_gcm\"\nkeys = [{ id = \"a\", kye = \"b\" }]\n",
                 {"unknown key 'kye' in [cipher].keys[0]", "did you mean 'key'"});
}

TEST_CASE("config: wrong types and missing keys", "[config]") {
  expect_message("[cache.default]\nplugin = \"memory\"\ndefault_ttl_s = \"ten\"\n",
                 {"test.toml:3:17", "[cache.default].default_ttl_s must be integer, not a string"});
  expect_message("[cache.default]\nplugin = 7\n", {"plugin must be a non-empty string"});
  expect_message("[storage]\nhost = \"x\"\n", {"test.toml:1:1", "[storage] has no 'plugin' key"});
  expect_message("[cipher]\nplugin = \"aes_gcm\"\nkeys = [{ key = \"00\" }]\n",
                 {"[cipher].keys[0] is missing required key 'id'"});
  expect_message("[cache]\nplugin = \"memory\"\n", {"[cache] holds named instances"});
  expect_message("[cache.\"Bad Name\"]\nplugin = \"memory\"\n", {"cache instance name 'Bad Name'"});
  expect_message("[storage]\nplugin = \"memory\"\nwhen = 2026-11-25\n", {"dates and times are not used"});
}

TEST_CASE("config: variables, secrets and their errors", "[config]") {
  expect_message("[cipher]\nplugin = \"aes_gcm\"\nkey = \"${NOPE}\"\n",
                 {"test.toml:3:7", "environment variable 'NOPE' is not set"});
  expect_message("[cipher]\nplugin = \"aes_gcm\"\nkey = { env = \"NOPE\" }\n",
                 {"[cipher].key", "secret environment variable 'NOPE' is not set"});
  expect_message("[cipher]\nplugin = \"aes_gcm\"\nkey = { file = \"/nonexistent/strata.key\" }\n",
                 {"cannot read secret file '/nonexistent/strata.key'", "No such file or directory"});
  expect_message("[cipher]\nplugin = \"aes_gcm\"\nkey = \"abc\"\n",
                 {"[cipher]", "key 'default' must be exactly 64 hex characters (32 bytes); got 3"});
  // A secret file that is not a regular file is refused at once (a FIFO would block the start forever).
  expect_message("[cipher]\nplugin = \"aes_gcm\"\nkey = { file = \"/dev/zero\" }\n",
                 {"secret file '/dev/zero' is a character device, not a regular file"});
  expect_message("[cipher]\nplugin = \"aes_gcm\"\nkey = { file = \"/tmp\" }\n",
                 {"secret file '/tmp' is a directory, not a regular file"});

  HostOptions options;
  options.env = fake_env({{"TTL", "60"}, {"KEY", test::test_key_hex}});
  auto host = open_host("[cache.default]\nplugin = \"memory\"\ndefault_ttl_s = \"${TTL:-5}\"\n"
                        "[cipher]\nplugin = \"aes_gcm\"\nkey = { env = \"KEY\" }\n",
                        options);
  std::string shown = host->effective_config();
  CHECK(shown.find("default_ttl_s = 60") != std::string::npos);
  CHECK(shown.find(test::test_key_hex) == std::string::npos);
  CHECK(shown.find("<redacted>") != std::string::npos);

  HostOptions bad_number;
  bad_number.env = fake_env({{"TTL", "sixty"}});
  expect_message("[cache.default]\nplugin = \"memory\"\ndefault_ttl_s = \"${TTL}\"\n", {"'sixty' is not an integer"},
                 bad_number);
}

TEST_CASE("config: secrets from files are read and never shown", "[config]") {
  auto path = std::filesystem::temp_directory_path() / ("strata-key-" + sdk::Uuid::generate().str());
  std::ofstream(path) << test::test_key_hex << "\n";
  auto host = open_host("[cipher]\nplugin = \"aes_gcm\"\nkey = { file = \"" + path.string() + "\" }\n");
  CHECK(host->cipher()->health());
  CHECK(host->effective_config().find(test::test_key_hex) == std::string::npos);
  std::filesystem::remove(path);
}

TEST_CASE("config: files that cannot be read", "[config]") {
  auto missing = Host::open_file("/nonexistent/strata.toml");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("cannot read config file '/nonexistent/strata.toml'") != std::string::npos);
}

TEST_CASE("config: the shipped example configs load", "[config]") {
  auto data = std::filesystem::temp_directory_path() / ("strata-data-" + sdk::Uuid::generate().str());
  HostOptions options;
  options.env = fake_env({{"STRATA_KEY", test::test_key_hex}, {"DB_ENCRYPTION_KEY", test::test_key_hex},
                          {"STRATA_DATA_DIR", data.string()}});
  for (const char* name : {"embedded.toml", "testing.toml", "production.toml"}) {
    INFO(name);
    if (!STRATA_TEST_PRODUCTION && std::string(name) == "production.toml") continue;  // its plugins were not built
    auto host = Host::open_file(strata::test::paths::source_dir() + "/config/" + name, options);
    INFO((host ? std::string("ok") : host.error().message));
    REQUIRE(host);
    // production.toml names real servers: its health is checked by the backend tests.
    if (std::string(name) != "production.toml")
      for (const auto& report : (*host)->check()) CHECK(report.status);
  }
  std::filesystem::remove_all(data);
}

TEST_CASE("config: the services' tables are validated like the plugins'", "[config]") {
  expect_message("[maintenance]\npurge_interval = 5\n",
                 {"test.toml:2:1", "unknown key 'purge_interval' in [maintenance]", "did you mean 'purge_interval_s'"});
  expect_message("[sessions]\nttl_s = \"long\"\n", {"[sessions].ttl_s must be integer"});
  expect_message("[sessions]\nttl_s = 0\n", {"[sessions]", "ttl_s must be between 1 and"});
  expect_message("[audit]\nplugin = \"memory\"\non_failure = \"ignore\"\n", {"on_failure must be block, spool or drop"});
  expect_message("[users]\nscrypt_log2_n = 40\n", {"scrypt_log2_n must be between 10 and 22"});

  auto host = open_host("[audit]\nplugin = \"memory\"\non_failure = \"block\"\nbatch_size = 7\n"
                        "[maintenance]\npurge_interval_s = 0\n[keys]\nlifetime_days = 30\n");
  auto s = read_service_settings(*host).value();
  CHECK(s.audit.on_failure == AuditFailurePolicy::block);
  CHECK(s.audit.batch_size == 7);
  CHECK(s.audit.queue_size == 4096);  // default
  CHECK(s.maintenance.purge_interval.count() == 0);
  CHECK(s.keys.lifetime == std::chrono::hours(24 * 30));
  CHECK(s.users.scrypt == ScryptParams{15, 8, 1});
  // The pipeline's keys are the host's: the memory plugin never saw them.
  CHECK(host->audit());
}

TEST_CASE("config: the effective config shows the services' tables and opens again as it is", "[config]") {
  auto host = open_host("[audit]\nplugin = \"memory\"\non_failure = \"block\"\nspool_path = \"/var/lib/strata/spool\"\n"
                        "[users]\nscrypt_log2_n = 12\n");
  std::string rendered = host->effective_config();
  INFO(rendered);
  CHECK(rendered.find("on_failure = 'block'") != std::string::npos);
  CHECK(rendered.find("[users]") != std::string::npos);
  CHECK(rendered.find("scrypt_log2_n = 12") != std::string::npos);
  CHECK(rendered.find("[maintenance]") != std::string::npos);  // defaults shown
  auto again = open_host(rendered);
  CHECK(read_service_settings(*again).value().audit.on_failure == AuditFailurePolicy::block);
  CHECK(read_service_settings(*again).value().audit.spool_path == "/var/lib/strata/spool");
  CHECK(read_service_settings(*again).value().users.scrypt.log2_n == 12);
  CHECK(again->effective_config() == rendered);
  // Without an [audit], its pipeline keys are not shown (they would need a plugin to stand in).
  CHECK(open_host("[storage]\nplugin = \"memory\"\n")->effective_config().find("on_failure") == std::string::npos);
}

TEST_CASE("config: a secret file is bounded, and a secret's value never appears in an error", "[config][hardening]") {
  // /dev/zero once hung the parser while memory grew (now refused as a device); a large file is bounded.
  auto large = std::filesystem::temp_directory_path() / ("strata-large-secret-" + sdk::Uuid::generate().str());
  std::ofstream(large) << std::string(70'000, 'k');
  expect_message("[cipher]\nplugin = \"aes_gcm\"\nkey = { file = \"" + large.string() + "\" }\n",
                 {"secret file '" + large.string() + "' is larger than 65536 bytes"});
  std::filesystem::remove(large);
  HostOptions secret_env;
  secret_env.env = fake_env({{"TTL_SECRET", "hunter2-secret"}});
  auto error = test::open_error("[cache.default]\nplugin = \"memory\"\ndefault_ttl_s = { env = \"TTL_SECRET\" }\n",
                                secret_env);
  INFO(error.message);
  CHECK(error.message.find("the secret's value is not an integer") != std::string::npos);
  CHECK(error.message.find("hunter2") == std::string::npos);
}
