// Host behaviour: typed access, instances, lifecycle order, search path.

#include "test_host.hpp"

using namespace strata;

TEST_CASE("host: typed access by role and cache instance", "[host]") {
  auto host = test::open_host(
      "[storage]\nplugin = \"memory\"\n[cache.default]\nplugin = \"memory\"\n"
      "[cache.session]\nplugin = \"memory\"\n[audit]\nplugin = \"memory\"\n");
  REQUIRE(host->storage());
  REQUIRE(host->cache());
  REQUIRE(host->cache("session"));
  CHECK(host->cache("session") != host->cache("default"));
  CHECK_FALSE(host->cache("nope"));
  CHECK_FALSE(host->cipher());
  REQUIRE(host->audit());
  auto instances = host->instances();
  REQUIRE(instances.size() == 4);
  CHECK(instances[0].role == sdk::Role::storage);
  CHECK(instances[1].instance == "default");
  CHECK(instances[2].instance == "session");
  CHECK(instances[3].role == sdk::Role::audit);
  for (const auto& i : instances) {
    CHECK(i.plugin == "memory");
    CHECK(i.abi_major == STRATA_SDK_ABI_MAJOR);
    CHECK(i.path.filename() == "libstrata-memory.so");
  }
  for (const auto& report : host->check()) CHECK(report.status);
}

TEST_CASE("host: instances stop in reverse start order, and outlive the host if held", "[host]") {
  std::vector<std::string> lines;
  HostOptions options;
  options.log = [&](sdk::LogLevel, std::string_view line) { lines.emplace_back(line); };
  options.plugin_path = {test::test_plugin_dir()};
  std::shared_ptr<sdk::Cache> kept;
  {
    auto host = test::open_host("[cache.a]\nplugin = \"lifecycle\"\n[cache.b]\nplugin = \"lifecycle\"\n"
                                "[cache.c]\nplugin = \"lifecycle\"\n",
                                options);
    kept = host->cache("b");
  }
  CHECK(lines == std::vector<std::string>{"[cache.a] lifecycle: start a", "[cache.b] lifecycle: start b",
                                          "[cache.c] lifecycle: start c", "[cache.c] lifecycle: stop c",
                                          "[cache.a] lifecycle: stop a"});
  // The library stays loaded while an instance from it lives.
  CHECK(kept->health());
  kept.reset();
  CHECK(lines.back() == "[cache.b] lifecycle: stop b");
}

TEST_CASE("host: an exception inside a plugin call becomes an internal error", "[host]") {
  HostOptions options;
  options.plugin_path = {test::test_plugin_dir()};
  auto host = test::open_host("[cache.default]\nplugin = \"lifecycle\"\n", options);
  auto result = host->cache()->exists("throw");
  REQUIRE_FALSE(result);
  CHECK(result.error().code == sdk::ErrorCode::internal);
  CHECK(result.error().plugin == "lifecycle");
  CHECK(result.error().message.find("thrown inside the plugin") != std::string::npos);
}

TEST_CASE("host: a role the plugin does not provide is refused", "[host]") {
  auto error = test::open_error("[storage]\nplugin = \"aes_gcm\"\n");
  INFO(error.message);
  CHECK(error.message.find("[storage] at test.toml:1:1") != std::string::npos);
  CHECK(error.message.find("libstrata-aes_gcm.so) provides cipher, not storage") != std::string::npos);
}

TEST_CASE("host: a missing plugin lists every place searched", "[host]") {
  HostOptions options;
  options.env = test::fake_env({{"STRATA_PLUGIN_PATH", "/opt/a:/opt/b"}});
  auto error = test::open_error("[host]\nplugin_path = \"/opt/first\"\n[storage]\nplugin = \"postgresx\"\n", options);
  INFO(error.message);
  CHECK(error.code == sdk::ErrorCode::not_found);
  auto first = error.message.find("/opt/first/libstrata-postgresx.so");
  auto a = error.message.find("/opt/a/libstrata-postgresx.so");
  auto b = error.message.find("/opt/b/libstrata-postgresx.so");
  auto beside = error.message.find("lib/strata/plugins/libstrata-postgresx.so");
  CHECK(first < a);
  CHECK(a < b);
  CHECK(b < beside);
  CHECK(beside != std::string::npos);
}

TEST_CASE("host: a plugin given by path is loaded as is", "[host]") {
  auto path = test::test_plugin_dir() / "libstrata-lifecycle.so";
  auto host = test::open_host("[cache.default]\nplugin = \"" + path.string() + "\"\n");
  CHECK(host->instances().front().plugin == "lifecycle");
  auto missing = test::open_error("[cache.default]\nplugin = \"/nonexistent/libstrata-x.so\"\n");
  CHECK(missing.message.find("plugin file /nonexistent/libstrata-x.so does not exist") != std::string::npos);
}

TEST_CASE("host: with no data directory, nothing is written to the working directory: the open fails and says why",
          "[host][config]") {
  // No STRATA_DATA_DIR, XDG_DATA_HOME or HOME (fake_env's own STRATA_DATA_DIR emptied).
  HostOptions options;
  options.env = test::fake_env({{"STRATA_DATA_DIR", ""}});
  auto embedded = Host::open_embedded(options);
  REQUIRE_FALSE(embedded);
  CHECK(embedded.error().message.find("no data directory: set STRATA_DATA_DIR, XDG_DATA_HOME or HOME") !=
        std::string::npos);

  // An [audit] whose spool would default into the data directory.
  auto error = test::open_error("[storage]\nplugin = \"memory\"\n[audit]\nplugin = \"memory\"\n", options);
  INFO(error.message);
  CHECK(error.message.find("[audit] at test.toml:3:1: spool_path is not set") != std::string::npos);
  CHECK(error.message.find("set STRATA_DATA_DIR, XDG_DATA_HOME or HOME") != std::string::npos);

  // A spool_path of its own still leaves the ledger's default in the data directory.
  auto spool = std::filesystem::temp_directory_path() / ("strata-spool-" + sdk::Uuid::generate().str() + ".jsonl");
  std::string with_spool = "[storage]\nplugin = \"memory\"\n[audit]\nplugin = \"memory\"\nspool_path = \"" +
                           spool.string() + "\"\n";
  error = test::open_error(with_spool, options);
  CHECK(error.message.find("[audit] at test.toml:3:1: ledger_dir is not set") != std::string::npos);
  // Both named (or no ledger): no data directory needed; without [audit] there is no spool at all.
  auto ledger = std::filesystem::temp_directory_path() / ("strata-ledger-" + sdk::Uuid::generate().str());
  test::open_host(with_spool + "ledger_dir = \"" + ledger.string() + "\"\n", options);
  test::open_host(with_spool + "ledger = false\n", options);
  test::open_host("[storage]\nplugin = \"memory\"\n", options);
  CHECK_FALSE(std::filesystem::exists(spool));  // and it is created only when something is spooled
  CHECK_FALSE(std::filesystem::exists(ledger));  // the ledger is made when the services open
}
