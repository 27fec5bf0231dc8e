// The cipher conformance kit on the aes_gcm plugin, loaded through the host.

#include <sys/stat.h>

#include <fstream>
#include <strata/sdk/testing/conformance.hpp>

#include "test_host.hpp"

namespace {

using namespace strata;

sdk::testing::CipherTarget aes_gcm() {
  return {[](const std::vector<sdk::testing::TestKey>& ring) {
    std::string toml = "[cipher]\nplugin = \"aes_gcm\"\nkeys = [\n";
    for (std::size_t i = 0; i < ring.size(); ++i)
      toml += "  { id = \"" + ring[i].id + "\", key = \"" + sdk::to_hex(ring[i].material) +
              "\", primary = " + (i == 0 ? "true" : "false") + " },\n";
    toml += "]\n";
    return test::open_host(toml)->cipher();
  }};
}

}  // namespace

STRATA_CIPHER_CONFORMANCE("aes_gcm", aes_gcm())

TEST_CASE("aes_gcm: the seed's DB_ENCRYPTION_KEY is the default key", "[aes_gcm]") {
  HostOptions options;
  options.env = test::fake_env({{"DB_ENCRYPTION_KEY", test::test_key_hex}});
  auto cipher = test::open_host("[cipher]\nplugin = \"aes_gcm\"\n", options)->cipher();
  CHECK(cipher->primary_key_id().value() == "default");
  auto sealed = cipher->seal(sdk::as_bytes("hello"), {});
  REQUIRE(sealed);
  CHECK(sealed->iv.size() == 12);
  CHECK(sealed->ciphertext.size() == 5 + 16);
}

TEST_CASE("aes_gcm: a key ring plus the seed key keeps the seed key as an opener", "[aes_gcm]") {
  HostOptions options;
  options.env = test::fake_env({{"DB_ENCRYPTION_KEY", test::test_key_hex}});
  std::string other(64, 'a');
  auto cipher = test::open_host("[cipher]\nplugin = \"aes_gcm\"\nkeys = [{ id = \"new\", key = \"" + other +
                                    "\", primary = true }]\n",
                                options)
                    ->cipher();
  CHECK(cipher->primary_key_id().value() == "new");
  CHECK(cipher->key_ids().value() == std::vector<std::string>{"new", "default"});
}

TEST_CASE("aes_gcm: bad key rings are refused with the key id named, never the key", "[aes_gcm]") {
  std::string good(64, 'b');
  struct Case {
    std::string keys;
    std::string message;
  };
  std::vector<Case> cases = {
      {R"([{ id = "short", key = "abcd" }])", "key 'short' must be exactly 64 hex characters (32 bytes); got 4"},
      {R"([{ id = "nothex", key = ")" + std::string(64, 'z') + R"(" }])", "key 'nothex' must be hex"},
      {R"([{ id = "a", key = ")" + good + R"(" }, { id = "a", key = ")" + good + R"(" }])", "appears twice"},
      {R"([{ id = "a", key = ")" + good + R"(" }, { id = "b", key = ")" + good + R"(" }])", "none is primary"},
      {R"([{ id = "a", key = ")" + good + R"(", primary = true }, { id = "b", key = ")" + good +
           R"(", primary = true }])",
       "marks 2 keys primary"},
  };
  for (const auto& c : cases) {
    auto error = test::open_error("[cipher]\nplugin = \"aes_gcm\"\nkeys = " + c.keys + "\n");
    INFO(error.message);
    CHECK(error.message.find(c.message) != std::string::npos);
    CHECK(error.message.find(good) == std::string::npos);
    CHECK(error.code == sdk::ErrorCode::invalid_argument);
  }
  auto none = test::open_error("[cipher]\nplugin = \"aes_gcm\"\n");
  CHECK(none.message.find("no key configured") != std::string::npos);
}

TEST_CASE("aes_gcm: a key file is generated once (mode 0600), reused, and refused when others can read it", "[aes_gcm]") {
  auto dir = std::filesystem::temp_directory_path() / ("strata-key-" + sdk::Uuid::generate().str());
  auto file = dir / "cipher.key";
  std::string table = "[cipher]\nplugin = \"aes_gcm\"\nkey_file = \"" + file.string() + "\"\ncreate_key_file = true\n";
  std::vector<std::string> warnings;
  HostOptions options;
  options.log = [&](sdk::LogLevel, std::string_view line) { warnings.emplace_back(line); };
  auto first = test::open_host(table, options)->cipher();
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("generated a new 256-bit cipher key in " + file.string()) != std::string::npos);
  auto mode = std::filesystem::status(file).permissions() & std::filesystem::perms::mask;
  CHECK(mode == (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  auto sealed = first->seal(sdk::as_bytes("kept"), {});
  REQUIRE(sealed);

  auto second = test::open_host(table, options)->cipher();
  CHECK(warnings.size() == 1);  // said once
  CHECK(second->open(*sealed, {}).value() == sdk::to_bytes("kept"));

  std::filesystem::permissions(file, std::filesystem::perms::group_read, std::filesystem::perm_options::add);
  auto loose = test::open_error(table);
  CHECK(loose.message.find("has mode 0640: group or others can read it") != std::string::npos);

  auto missing = test::open_error("[cipher]\nplugin = \"aes_gcm\"\nkey_file = \"" + (dir / "none.key").string() + "\"\n");
  CHECK(missing.message.find("does not exist (set create_key_file = true") != std::string::npos);

  // A key file gone from a directory that holds data is not silently replaced by a new key.
  std::filesystem::remove(file);
  std::ofstream(dir / "strata.db") << "sealed under the lost key";
  auto lost = test::open_error(table);
  INFO(lost.message);
  CHECK(lost.message.find("key file " + file.string() + " is missing, but its directory already holds data") !=
        std::string::npos);
  CHECK_FALSE(std::filesystem::exists(file));
  std::filesystem::remove_all(dir);
}

TEST_CASE("aes_gcm: a key file that is a FIFO, a directory or a symlink loop, and an all-zero key, are refused at once",
          "[aes_gcm][config][hardening]") {
  auto dir = std::filesystem::temp_directory_path() / ("strata-keyfile-" + sdk::Uuid::generate().str());
  std::filesystem::create_directories(dir);
  auto table = [](const std::filesystem::path& file) {
    return "[cipher]\nplugin = \"aes_gcm\"\nkey_file = \"" + file.string() + "\"\n";
  };
  auto refusal = [&](const std::filesystem::path& file) { return test::open_error(table(file)).message; };
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);  // opening it for reading would block forever
  CHECK(refusal(dir / "fifo").find("is a FIFO, not a regular file") != std::string::npos);
  std::filesystem::create_directories(dir / "subdir");
  CHECK(refusal(dir / "subdir").find("is a directory, not a regular file") != std::string::npos);
  std::filesystem::create_symlink(dir / "loop-b", dir / "loop-a");
  std::filesystem::create_symlink(dir / "loop-a", dir / "loop-b");
  std::string loop = refusal(dir / "loop-a");
  CHECK(loop.find("symlink loop") != std::string::npos);
  CHECK(loop.find("internal") == std::string::npos);
  auto write_key = [&](const std::string& name, const std::string& hex) {
    std::ofstream(dir / name) << hex << "\n";
    std::filesystem::permissions(dir / name, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    return dir / name;
  };
  CHECK(refusal(write_key("zero.key", std::string(64, '0'))).find("is all zeros: a placeholder") != std::string::npos);
  CHECK(test::open_host(table(write_key("good.key", test::test_key_hex)))->cipher()->health());
  std::filesystem::remove_all(dir);
}
