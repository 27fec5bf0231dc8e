// scrypt password hashes with their parameters encoded beside them.

#include "strata/services/password_hash.hpp"

#include <cryptopp/misc.h>
#include <cryptopp/osrng.h>
#include <cryptopp/scrypt.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <new>
#include <optional>

#include "encoding.hpp"

namespace strata {
namespace {

constexpr std::size_t salt_bytes = 16;
constexpr std::size_t hash_bytes = 32;

struct Parsed {
  ScryptParams params;
  sdk::Bytes salt;
  sdk::Bytes hash;
};

sdk::Bytes derive(std::string_view password, sdk::BytesView salt, const ScryptParams& p, std::size_t length) {
  sdk::Bytes out(length);
  CryptoPP::Scrypt scrypt;
  scrypt.DeriveKey(out.data(), out.size(), reinterpret_cast<const CryptoPP::byte*>(password.data()),
                   password.size(), salt.data(), salt.size(), CryptoPP::word64{1} << p.log2_n,
                   static_cast<CryptoPP::word32>(p.r), static_cast<CryptoPP::word32>(p.p));
  return out;
}

std::optional<int> number_after(std::string_view field, std::string_view prefix) {
  if (!field.starts_with(prefix)) return std::nullopt;
  field.remove_prefix(prefix.size());
  int value = 0;
  auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (ec != std::errc() || end != field.data() + field.size()) return std::nullopt;
  return value;
}

// "$scrypt$ln=15,r=8,p=1$salt$hash" -> parts; nullopt for anything else.
std::optional<Parsed> parse(std::string_view encoded) {
  constexpr std::string_view scheme = "$scrypt$";
  if (!encoded.starts_with(scheme)) return std::nullopt;
  encoded.remove_prefix(scheme.size());
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    std::size_t end = encoded.find('$', start);
    parts.push_back(encoded.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  if (parts.size() != 3) return std::nullopt;
  std::string_view params = parts[0];
  std::size_t c1 = params.find(','), c2 = params.rfind(',');
  if (c1 == std::string_view::npos || c1 == c2) return std::nullopt;
  auto ln = number_after(params.substr(0, c1), "ln=");
  auto r = number_after(params.substr(c1 + 1, c2 - c1 - 1), "r=");
  auto p = number_after(params.substr(c2 + 1), "p=");
  // The ranges [users] accepts: a hostile stored hash cannot ask for more.
  if (!ln || !r || !p || *ln < 1 || *ln > 22 || *r < 1 || *r > 32 || *p < 1 || *p > 16) return std::nullopt;
  auto salt = detail::from_base64url(parts[1]);
  auto hash = detail::from_base64url(parts[2]);
  if (!salt || !hash || salt->empty() || hash->size() < 16) return std::nullopt;
  return Parsed{{*ln, *r, *p}, std::move(*salt), std::move(*hash)};
}

}  // namespace

std::string hash_password(std::string_view password, const ScryptParams& params) {
  sdk::Bytes salt(salt_bytes);
  CryptoPP::AutoSeededRandomPool rng;
  rng.GenerateBlock(salt.data(), salt.size());
  sdk::Bytes hash = derive(password, salt, params, hash_bytes);
  return "$scrypt$ln=" + std::to_string(params.log2_n) + ",r=" + std::to_string(params.r) +
         ",p=" + std::to_string(params.p) + "$" + detail::base64url(salt) + "$" + detail::base64url(hash);
}

double cost(const ScryptParams& p) { return std::ldexp(1.0, p.log2_n) * p.r * p.p; }
double memory_bytes(const ScryptParams& p) { return 128.0 * p.r * std::ldexp(1.0, p.log2_n); }

sdk::Result<bool> verify_password(std::string_view password, std::string_view encoded, const ScryptParams& configured) {
  auto parsed = parse(encoded);
  if (!parsed) return sdk::fail(sdk::ErrorCode::invalid_argument, "the stored password hash is not in Strata's scrypt format");
  // A stored hash carries its own cost; bound it, so that a planted or corrupt
  // hash cannot make each login take seconds or gigabytes. Hashes made before
  // the configured cost was lowered (by up to max_cost_factor) still verify.
  if (cost(parsed->params) > cost(configured) * max_cost_factor ||
      memory_bytes(parsed->params) > std::max(memory_bytes(configured) * max_cost_factor, 256.0 * 1024 * 1024))
    return sdk::fail(sdk::ErrorCode::invalid_argument,
                     "the stored password hash asks for more work than [users] allows (" + std::to_string(max_cost_factor) +
                         "x the configured scrypt cost)");
  try {
    sdk::Bytes candidate = derive(password, parsed->salt, parsed->params, parsed->hash.size());
    return CryptoPP::VerifyBufsEqual(candidate.data(), parsed->hash.data(), candidate.size());
  } catch (const std::bad_alloc&) {
    return sdk::fail(sdk::ErrorCode::unavailable, "not enough memory to verify a password hash");
  }
}

bool needs_rehash(std::string_view encoded, const ScryptParams& params) {
  auto parsed = parse(encoded);
  return !parsed || !(parsed->params == params);
}

}  // namespace strata
