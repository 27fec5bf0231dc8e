#include "backup_authentication.hpp"

#include <cryptopp/hmac.h>
#include <cryptopp/misc.h>
#include <cryptopp/osrng.h>
#include <cryptopp/sha.h>

#include "encoding.hpp"

namespace strata::detail {
namespace {

using sdk::ErrorCode;
using sdk::fail;

// The MAC key's associated data: it can be opened only as what it is.
constexpr std::string_view mac_key_context = "strata:backup:manifest-key:v1";
constexpr const char* algorithm = "HMAC-SHA256";

// What the MAC covers: the manifest as written, less the MAC itself and the
// plain checksum (computed after the MAC, over it).
sdk::Bytes mac(const nlohmann::json& manifest, sdk::BytesView key) {
  nlohmann::json covered = manifest;
  covered.erase("manifest_hmac");
  covered.erase("manifest_sha256");
  std::string text = covered.dump();
  CryptoPP::HMAC<CryptoPP::SHA256> hmac(key.data(), key.size());
  sdk::Bytes digest(CryptoPP::HMAC<CryptoPP::SHA256>::DIGESTSIZE);
  hmac.CalculateDigest(digest.data(), reinterpret_cast<const CryptoPP::byte*>(text.data()), text.size());
  return digest;
}

}  // namespace

bool manifest_is_authenticated(const nlohmann::json& manifest) {
  return manifest.contains("manifest_hmac") || manifest.contains("authentication");
}

sdk::Result<void> authenticate_manifest(nlohmann::json& manifest, sdk::Cipher& cipher) {
  CryptoPP::AutoSeededRandomPool rng;
  sdk::Bytes key(32);
  rng.GenerateBlock(key.data(), key.size());
  auto sealed = cipher.seal(key, sdk::as_bytes(mac_key_context));
  if (!sealed) return fail(sealed.error().code, "sealing the manifest's MAC key: " + sealed.error().describe());
  manifest["authentication"] = {{"algorithm", algorithm},
                                {"key_id", sealed->key_id},
                                {"sealed_key", sdk::to_hex(encode_sealed(*sealed))}};
  manifest["manifest_hmac"] = sdk::to_hex(mac(manifest, key));
  return {};
}

sdk::Result<void> check_manifest_authentication(const nlohmann::json& manifest, sdk::Cipher* cipher) {
  if (!manifest_is_authenticated(manifest)) {
    if (!cipher) return {};
    return fail(ErrorCode::auth_failed,
                "the manifest is not authenticated: a host with a cipher authenticates every backup it takes, so "
                "this one was taken without a cipher or had its authentication removed; not trusted");
  }
  const auto& auth = manifest.value("authentication", nlohmann::json::object());
  std::string key_id = auth.value("key_id", std::string("?"));
  if (!cipher)
    return fail(ErrorCode::invalid_argument, "the manifest is authenticated under cipher key '" + key_id +
                                                 "' and the config has no [cipher] to check it with");
  auto bad = [&](const std::string& why) {
    return fail(ErrorCode::auth_failed, "the manifest's authentication " + why +
                                            ": the backup was forged or edited by someone without the key");
  };
  if (auth.value("algorithm", "") != algorithm || !manifest.value("manifest_hmac", nlohmann::json()).is_string())
    return bad("is malformed");
  auto sealed_bytes = sdk::from_hex(auth.value("sealed_key", ""));
  if (!sealed_bytes) return bad("is malformed");
  auto sealed = decode_sealed(*sealed_bytes);
  if (!sealed) return bad("is malformed");
  auto key = cipher->open(*sealed, sdk::as_bytes(mac_key_context));
  if (!key) {
    if (key.error().code == ErrorCode::auth_failed) return bad("key does not open under cipher key '" + key_id + "'");
    return fail(key.error().code, "opening the manifest's MAC key (cipher key '" + key_id +
                                      "'): " + key.error().describe());
  }
  auto expected = mac(manifest, *key);
  auto stated = sdk::from_hex(manifest.at("manifest_hmac").get<std::string>());
  if (!stated || stated->size() != expected.size() ||
      !CryptoPP::VerifyBufsEqual(stated->data(), expected.data(), expected.size()))
    return bad("does not match its content");
  return {};
}

}  // namespace strata::detail
