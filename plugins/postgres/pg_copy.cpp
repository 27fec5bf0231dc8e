#include "pg_copy.hpp"

#include <cstdint>

namespace strata::postgres {
namespace {

// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
constexpr std::int64_t postgres_epoch_micros = 946'684'800LL * 1'000'000;

void put32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}
void put64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}
void put16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}

void field(std::string& out, std::string_view bytes) {
  put32(out, static_cast<std::uint32_t>(bytes.size()));
  out.append(bytes);
}
void null_field(std::string& out) { put32(out, 0xffffffffu); }

void uuid(std::string& out, const sdk::Uuid& id) {
  field(out, std::string_view(reinterpret_cast<const char*>(id.bytes().data()), 16));
}
void hex(std::string& out, sdk::BytesView bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  put32(out, static_cast<std::uint32_t>(bytes.size() * 2));
  for (auto b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0x0f]);
  }
}
void timestamp(std::string& out, const std::optional<sdk::Timestamp>& t) {
  if (!t) return null_field(out);
  put32(out, 8);
  put64(out, static_cast<std::uint64_t>(t->micros() - postgres_epoch_micros));
}

}  // namespace

sdk::Result<std::string> encode_messages(std::span<const sdk::Message> messages) {
  std::string out("PGCOPY\n\377\r\n\0", 11);
  put32(out, 0);  // flags
  put32(out, 0);  // header extension length
  for (const auto& m : messages) {
    if (m.key_id.find('\0') != std::string::npos)
      return sdk::fail(sdk::ErrorCode::invalid_argument, "a key id contains a NUL byte");
    put16(out, 10);
    uuid(out, m.id);
    uuid(out, m.sender_id);
    uuid(out, m.recipient_id);
    hex(out, m.encrypted_content);
    hex(out, m.iv);
    field(out, m.key_id);
    timestamp(out, m.created_at);
    timestamp(out, m.read_at);
    put32(out, 1);
    out.push_back(m.is_deleted ? 1 : 0);
    timestamp(out, m.expires_at);
  }
  put16(out, 0xffff);  // trailer
  return out;
}

}  // namespace strata::postgres
