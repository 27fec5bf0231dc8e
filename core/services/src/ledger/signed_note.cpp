#include "signed_note.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "merkle.hpp"

namespace strata::ledger {
namespace {

using sdk::ErrorCode;
using sdk::fail;

constexpr std::uint8_t ed25519_type = 0x01;  // the signed-note signature type of Ed25519
constexpr std::string_view dash = "\xe2\x80\x94 ";  // U+2014 EM DASH, then a space

using PKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

std::string_view view(const std::uint8_t* p, std::size_t n) { return {reinterpret_cast<const char*>(p), n}; }

// SHA-256(name || "\n" || type || public key)[:4], big-endian: the note's key id.
std::uint32_t key_id(std::string_view name, const std::array<std::uint8_t, 32>& public_key) {
  std::string input(name);
  input += '\n';
  input += static_cast<char>(ed25519_type);
  input.append(view(public_key.data(), public_key.size()));
  std::array<std::uint8_t, 32> digest{};
  EVP_Digest(input.data(), input.size(), digest.data(), nullptr, EVP_sha256(), nullptr);
  return std::uint32_t{digest[0]} << 24 | std::uint32_t{digest[1]} << 16 | std::uint32_t{digest[2]} << 8 | digest[3];
}

sdk::Result<std::array<std::uint8_t, 32>> public_of(const std::array<std::uint8_t, 32>& seed) {
  PKey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()), &EVP_PKEY_free);
  std::array<std::uint8_t, 32> out{};
  std::size_t n = out.size();
  if (!key || EVP_PKEY_get_raw_public_key(key.get(), out.data(), &n) != 1 || n != out.size())
    return fail(ErrorCode::internal, "OpenSSL could not derive an Ed25519 public key");
  return out;
}

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name)
    if (c <= ' ' || c == '+' || c == 0x7f) return false;
  return true;
}

}  // namespace

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> unbase64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(3 * text.size() / 4 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  std::size_t size = static_cast<std::size_t>(n);
  // EVP_DecodeBlock counts the padding as zero bytes.
  if (!text.empty() && text.back() == '=') --size;
  if (text.size() >= 2 && text[text.size() - 2] == '=') --size;
  out.resize(size);
  return out;
}

sdk::Result<SigningKey> SigningKey::from_seed(std::string_view seed, std::string name) {
  if (seed.size() != 32) return fail(ErrorCode::invalid_argument, "an Ed25519 seed is 32 bytes");
  if (!valid_name(name))
    return fail(ErrorCode::invalid_argument, "a signed-note key name has no spaces, '+' or control characters: '" + name + "'");
  std::array<std::uint8_t, 32> s{};
  std::memcpy(s.data(), seed.data(), 32);
  auto pub = public_of(s);
  if (!pub) return fail(pub.error());
  return SigningKey(std::move(name), s, *pub);
}

sdk::Result<SigningKey> SigningKey::load_or_create(const std::filesystem::path& path, std::string name) {
  std::ifstream in(path);
  if (in) {
    std::string hex;
    in >> hex;
    Hash seed{};
    if (!from_hex(hex, seed))
      return fail(ErrorCode::invalid_argument,
                  "audit ledger key " + path.string() + " is not 64 hex digits (an Ed25519 seed)");
    return from_seed(view(seed.data(), seed.size()), std::move(name));
  }
  std::array<std::uint8_t, 32> seed{};
  PKey key(nullptr, &EVP_PKEY_free);
  {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
    EVP_PKEY* made = nullptr;
    bool ok = ctx && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_keygen(ctx, &made) == 1;
    EVP_PKEY_CTX_free(ctx);
    key.reset(made);
    std::size_t n = seed.size();
    if (!ok || EVP_PKEY_get_raw_private_key(key.get(), seed.data(), &n) != 1 || n != seed.size())
      return fail(ErrorCode::internal, "OpenSSL could not generate an Ed25519 key");
  }
  // Created owner-only and never through a planted link; O_EXCL: two
  // processes starting at once keep the first one's key.
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 && errno == EEXIST) return load_or_create(path, std::move(name));
  if (fd < 0) return fail(ErrorCode::unavailable, "cannot create audit ledger key " + path.string() + ": " + std::strerror(errno));
  std::string text = to_hex(seed) + "\n";
  bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written) return fail(ErrorCode::unavailable, "cannot write audit ledger key " + path.string());
  return from_seed(view(seed.data(), seed.size()), std::move(name));
}

std::string SigningKey::verifier_key() const {
  std::string material(1, static_cast<char>(ed25519_type));
  material.append(view(public_key_.data(), public_key_.size()));
  char id[9];
  std::snprintf(id, sizeof id, "%08x", key_id(name_, public_key_));
  return name_ + "+" + id + "+" + base64(material);
}

std::string SigningKey::sign(std::string_view text) const {
  PKey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed_.data(), seed_.size()), &EVP_PKEY_free);
  MdCtx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  std::array<std::uint8_t, 64> signature{};
  std::size_t n = signature.size();
  if (!key || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), signature.data(), &n, reinterpret_cast<const unsigned char*>(text.data()), text.size()) != 1)
    throw std::runtime_error("OpenSSL could not sign with Ed25519");
  std::uint32_t id = key_id(name_, public_key_);
  std::string blob{static_cast<char>(id >> 24), static_cast<char>(id >> 16), static_cast<char>(id >> 8),
                   static_cast<char>(id)};
  blob.append(view(signature.data(), signature.size()));
  return std::string(text) + "\n" + std::string(dash) + name_ + " " + base64(blob) + "\n";
}

sdk::Result<VerifierKey> VerifierKey::parse(std::string_view text) {
  auto first = text.find('+');
  auto second = first == std::string_view::npos ? first : text.find('+', first + 1);
  if (second == std::string_view::npos)
    return fail(ErrorCode::invalid_argument, "a verifier key reads <name>+<key id>+<base64 key>");
  VerifierKey key;
  key.name = std::string(text.substr(0, first));
  auto id_text = text.substr(first + 1, second - first - 1);
  auto material = unbase64(text.substr(second + 1));
  if (id_text.size() != 8 || id_text.find_first_not_of("0123456789abcdefABCDEF") != std::string_view::npos ||
      !material || material->size() != 33 || static_cast<std::uint8_t>((*material)[0]) != ed25519_type)
    return fail(ErrorCode::invalid_argument, "not an Ed25519 verifier key: " + std::string(text));
  key.id = static_cast<std::uint32_t>(std::stoul(std::string(id_text), nullptr, 16));
  std::memcpy(key.public_key.data(), material->data() + 1, 32);
  if (key_id(key.name, key.public_key) != key.id)
    return fail(ErrorCode::invalid_argument, "verifier key " + key.name + ": its id does not match its key");
  return key;
}

sdk::Result<std::string> open_note(std::string_view note, const VerifierKey& key) {
  // The text ends at the last "\n\n": signatures follow, one per line.
  auto split = note.rfind("\n\n");
  if (split == std::string_view::npos || note.back() != '\n')
    return fail(ErrorCode::invalid_argument, "not a signed note: no blank line before its signatures");
  std::string_view text = note.substr(0, split + 1);
  std::string_view lines = note.substr(split + 2);
  while (!lines.empty()) {
    auto end = lines.find('\n');
    std::string_view line = lines.substr(0, end);
    lines.remove_prefix(end + 1);
    if (!line.starts_with(dash)) return fail(ErrorCode::invalid_argument, "a signed note's signature line starts with '— '");
    line.remove_prefix(dash.size());
    auto space = line.find(' ');
    if (space == std::string_view::npos || line.substr(0, space) != key.name) continue;
    auto blob = unbase64(line.substr(space + 1));
    if (!blob || blob->size() != 4 + 64) continue;
    std::uint32_t id = std::uint32_t{static_cast<std::uint8_t>((*blob)[0])} << 24 |
                       std::uint32_t{static_cast<std::uint8_t>((*blob)[1])} << 16 |
                       std::uint32_t{static_cast<std::uint8_t>((*blob)[2])} << 8 | static_cast<std::uint8_t>((*blob)[3]);
    if (id != key.id) continue;
    PKey pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.public_key.data(), 32), &EVP_PKEY_free);
    MdCtx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    if (pkey && ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) == 1 &&
        EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(blob->data() + 4), 64,
                         reinterpret_cast<const unsigned char*>(text.data()), text.size()) == 1)
      return std::string(text);
    return fail(ErrorCode::auth_failed, "the signature by " + key.name + " does not verify: the note was altered");
  }
  return fail(ErrorCode::auth_failed, "the note carries no signature by " + key.name);
}

}  // namespace strata::ledger
