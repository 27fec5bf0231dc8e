// Wycheproof AES-GCM vectors through the aes_gcm plugin's known-answer entry point.

#include <fstream>
#include <nlohmann/json.hpp>

#include "test_host.hpp"
#include "test_paths.hpp"

namespace {

using namespace strata;

sdk::Bytes hex(const nlohmann::json& value) { return sdk::from_hex(value.get<std::string>()).value(); }

}  // namespace

TEST_CASE("aes_gcm passes every Wycheproof case with 256-bit key, 96-bit IV, 128-bit tag", "[aes_gcm][wycheproof]") {
  std::ifstream in(strata::test::paths::test_data_dir() + "/wycheproof/aes_gcm_test.json");
  REQUIRE(in);
  auto vectors = nlohmann::json::parse(in);
  int valid = 0, invalid = 0;
  for (const auto& group : vectors["testGroups"]) {
    if (group["keySize"] != 256 || group["ivSize"] != 96 || group["tagSize"] != 128) continue;
    for (const auto& t : group["tests"]) {
      INFO("tcId " << t["tcId"] << ": " << t["comment"]);
      auto cipher = test::open_host("[cipher]\nplugin = \"aes_gcm\"\nkey_id = \"w\"\nkey = \"" +
                                    t["key"].get<std::string>() + "\"\n")
                        ->cipher();
      sdk::Bytes iv = hex(t["iv"]), aad = hex(t["aad"]), msg = hex(t["msg"]);
      sdk::Bytes sealed_bytes = hex(t["ct"]);
      sdk::Bytes tag = hex(t["tag"]);
      sealed_bytes.insert(sealed_bytes.end(), tag.begin(), tag.end());
      sdk::Sealed sealed{"w", iv, sealed_bytes};
      auto opened = cipher->open(sealed, aad);
      if (t["result"] == "valid") {
        ++valid;
        auto ours = cipher->seal_with_iv("w", iv, msg, aad);
        REQUIRE(ours);
        CHECK(ours->ciphertext == sealed_bytes);  // byte for byte, tag included
        REQUIRE(opened);
        CHECK(*opened == msg);
      } else {
        ++invalid;
        REQUIRE_FALSE(opened);
        CHECK(opened.error().code == sdk::ErrorCode::auth_failed);
      }
    }
  }
  // The file holds exactly these; fewer would mean the filter above skipped cases.
  CHECK(valid == 39);
  CHECK(invalid == 27);
}

TEST_CASE("aes_gcm: the seed's tagless ciphertexts decrypt by open_untagged, every valid Wycheproof case",
          "[aes_gcm][wycheproof][seed]") {
  // The seed's DatabaseEncryption.encrypt keeps GCM's ciphertext and drops the tag:
  // open_untagged must give back the message for every valid vector, whatever its AAD.
  std::ifstream in(strata::test::paths::test_data_dir() + "/wycheproof/aes_gcm_test.json");
  REQUIRE(in);
  auto vectors = nlohmann::json::parse(in);
  int checked = 0;
  for (const auto& group : vectors["testGroups"]) {
    if (group["keySize"] != 256 || group["ivSize"] != 96 || group["tagSize"] != 128) continue;
    for (const auto& t : group["tests"]) {
      if (t["result"] != "valid") continue;
      INFO("tcId " << t["tcId"] << ": " << t["comment"]);
      auto cipher = test::open_host("[cipher]\nplugin = \"aes_gcm\"\nkey_id = \"w\"\nkey = \"" +
                                    t["key"].get<std::string>() + "\"\n")
                        ->cipher();
      auto opened = cipher->open_untagged("w", hex(t["iv"]), hex(t["ct"]));
      REQUIRE(opened);
      CHECK(*opened == hex(t["msg"]));
      ++checked;
    }
  }
  CHECK(checked == 39);
  auto cipher = test::open_host("[cipher]\nplugin = \"aes_gcm\"\nkey_id = \"w\"\nkey = \"" +
                                std::string(64, 'a') + "\"\n")
                    ->cipher();
  auto short_iv = cipher->open_untagged("w", sdk::Bytes(8, 1), sdk::Bytes(4, 2));
  REQUIRE_FALSE(short_iv);
  CHECK(short_iv.error().code == sdk::ErrorCode::invalid_argument);
  CHECK(cipher->open_untagged("nope", sdk::Bytes(12, 1), sdk::Bytes(4, 2)).error().code == sdk::ErrorCode::not_found);
}
