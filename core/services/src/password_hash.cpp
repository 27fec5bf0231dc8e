// scrypt password hashes with their parameters encoded beside them, and the
// seed's bcrypt and argon2 hashes, verified so that they can be replaced.

#include "strata/services/password_hash.hpp"

#include <cryptopp/misc.h>
#include <cryptopp/osrng.h>
#include <cryptopp/scrypt.h>
#include <argon2.h>
#include <crypt.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <memory>
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

double cost(const ScryptParams& p) { return std::ldexp(1.0, p.log2_n) * p.r * p.p; }
double memory_bytes(const ScryptParams& p) { return 128.0 * p.r * std::ldexp(1.0, p.log2_n); }

// The most memory any stored hash may ask for: max_cost_factor times the
// configured scrypt's, and never less than 256 MiB.
double memory_bound(const ScryptParams& configured) {
  return std::max(memory_bytes(configured) * max_cost_factor, 256.0 * 1024 * 1024);
}

sdk::Unexpected unreadable(std::string why) { return sdk::fail(sdk::ErrorCode::invalid_argument, std::move(why)); }

// bcrypt through libxcrypt: the stored hash is its own setting (cost and salt).
sdk::Result<bool> verify_bcrypt(std::string_view password, std::string_view encoded, int max_cost) {
  std::string setting(encoded);
  if (setting.size() != 60 || setting[6] != '$' || !std::isdigit(static_cast<unsigned char>(setting[4])) ||
      !std::isdigit(static_cast<unsigned char>(setting[5])))
    return unreadable("the stored bcrypt hash is malformed (want $2b$NN$ and 53 characters of salt and hash)");
  int cost = (setting[4] - '0') * 10 + (setting[5] - '0');
  if (cost > max_cost)
    return unreadable("the stored bcrypt hash asks for cost " + std::to_string(cost) + ", more than [users] bcrypt_max_cost (" +
                      std::to_string(max_cost) + ") allows");
  if (crypt_checksalt(setting.c_str()) == CRYPT_SALT_INVALID)
    return unreadable("the stored bcrypt hash is malformed (libxcrypt refuses its setting)");
  // A C string: a password with a NUL byte cannot be what was hashed.
  if (password.find('\0') != std::string_view::npos) return false;
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const char* out = crypt_rn(std::string(password).c_str(), setting.c_str(), data.get(), sizeof(crypt_data));
  if (!out || out[0] == '*') return unreadable("the stored bcrypt hash is malformed (libxcrypt could not use it)");
  return std::strlen(out) == setting.size() &&
         CryptoPP::VerifyBufsEqual(reinterpret_cast<const CryptoPP::byte*>(out),
                                   reinterpret_cast<const CryptoPP::byte*>(setting.data()), setting.size());
}

// "m=65536,t=3,p=4" -> its numbers, bounded before libargon2 spends anything.
sdk::Result<bool> verify_argon2(std::string_view password, std::string_view encoded, argon2_type type,
                                const ScryptParams& configured) {
  auto field = [&](std::string_view key) -> std::optional<long long> {
    std::size_t at = encoded.find("$" + std::string(key) + "=");
    if (at == std::string_view::npos) at = encoded.find("," + std::string(key) + "=");
    if (at == std::string_view::npos) return std::nullopt;
    std::string_view rest = encoded.substr(at + key.size() + 2);
    long long value = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
    if (ec != std::errc()) return std::nullopt;
    return value;
  };
  auto m = field("m"), t = field("t"), p = field("p");
  if (!m || !t || !p || *m < 1 || *t < 1 || *p < 1)
    return unreadable("the stored argon2 hash is malformed (want $argon2id$v=19$m=…,t=…,p=…$salt$hash)");
  if (static_cast<double>(*m) * 1024 > memory_bound(configured) || *t > max_argon2_passes || *p > 16)
    return unreadable("the stored argon2 hash asks for more work than [users] allows (m=" + std::to_string(*m) +
                      " KiB, t=" + std::to_string(*t) + ", p=" + std::to_string(*p) + ")");
  int rc = argon2_verify(std::string(encoded).c_str(), password.data(), password.size(), type);
  if (rc == ARGON2_OK) return true;
  if (rc == ARGON2_VERIFY_MISMATCH) return false;
  if (rc == ARGON2_MEMORY_ALLOCATION_ERROR) return sdk::fail(sdk::ErrorCode::unavailable, "not enough memory to verify a password hash");
  return unreadable(std::string("the stored argon2 hash is malformed (libargon2: ") + argon2_error_message(rc) + ")");
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

std::string_view hash_scheme(std::string_view encoded) {
  if (encoded.starts_with("$scrypt$")) return "scrypt";
  if (encoded.starts_with("$2a$") || encoded.starts_with("$2b$") || encoded.starts_with("$2y$")) return "bcrypt";
  if (encoded.starts_with("$argon2id$")) return "argon2id";
  if (encoded.starts_with("$argon2i$")) return "argon2i";
  if (encoded.starts_with("$argon2d$")) return "argon2d";
  return "unknown";
}

sdk::Result<bool> verify_password(std::string_view password, std::string_view encoded, const ScryptParams& configured,
                                  int bcrypt_max_cost) {
  std::string_view scheme = hash_scheme(encoded);
  if (scheme == "bcrypt") return verify_bcrypt(password, encoded, bcrypt_max_cost);
  if (scheme == "argon2id") return verify_argon2(password, encoded, Argon2_id, configured);
  if (scheme == "argon2i") return verify_argon2(password, encoded, Argon2_i, configured);
  if (scheme == "argon2d") return verify_argon2(password, encoded, Argon2_d, configured);
  if (scheme == "unknown") {
    // Name the scheme prefix ("$1$", MD5-crypt), never more: the rest may be a secret.
    std::size_t end = encoded.find('$', 1);
    std::string prefix = encoded.starts_with('$') && end != std::string_view::npos && end <= 10
                             ? std::string(encoded.substr(0, end + 1))
                             : std::string();
    for (char& ch : prefix)
      if (ch < 0x20 || ch > 0x7e) ch = '?';
    return unreadable("the stored password hash is in no format Strata reads (scrypt, bcrypt $2a$/$2b$/$2y$, "
                      "argon2id/argon2i/argon2d): " +
                      (prefix.empty() ? std::string("it has no $scheme$ prefix") : "its scheme is '" + prefix + "'"));
  }
  auto parsed = parse(encoded);
  if (!parsed) return sdk::fail(sdk::ErrorCode::invalid_argument, "the stored password hash is not in Strata's scrypt format");
  // A stored hash carries its own cost; bound it, so that a planted or corrupt
  // hash cannot make each login take seconds or gigabytes. Hashes made before
  // the configured cost was lowered (by up to max_cost_factor) still verify.
  if (cost(parsed->params) > cost(configured) * max_cost_factor || memory_bytes(parsed->params) > memory_bound(configured))
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
