#include "postgres_copy.hpp"

#include "postgres_binary.hpp"

namespace strata::postgres {
namespace {

using binary::put16;
using binary::put32;
using binary::put64;

void field(std::string& out, std::string_view bytes) {
  put32(out, static_cast<std::uint32_t>(bytes.size()));
  out.append(bytes);
}
void field(std::string& out, sdk::BytesView bytes) {
  field(out, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}
void null_field(std::string& out) { put32(out, 0xffffffffu); }

void uuid(std::string& out, const sdk::Uuid& id) { field(out, sdk::BytesView(id.bytes())); }
void boolean(std::string& out, bool b) {
  put32(out, 1);
  out.push_back(b ? 1 : 0);
}
void timestamp(std::string& out, const std::optional<sdk::Timestamp>& t) {
  if (!t) return null_field(out);
  put32(out, 8);
  put64(out, binary::timestamp_value(*t));
}

void header(std::string& out) {
  out.assign("PGCOPY\n\377\r\n\0", 11);
  put32(out, 0);  // flags
  put32(out, 0);  // header extension length
}

bool has_nul(std::string_view text) { return text.find('\0') != std::string_view::npos; }

}  // namespace

sdk::Result<std::string> encode_messages(std::span<const sdk::Message> messages) {
  std::string out;
  header(out);
  for (const auto& m : messages) {
    if (has_nul(m.key_id))
      return sdk::fail(sdk::ErrorCode::invalid_argument, "a key id contains a NUL byte");
    put16(out, 11);  // the columns of copy_messages_sql, in its order
    uuid(out, m.id);
    uuid(out, m.sender_id);
    uuid(out, m.recipient_id);
    field(out, m.encrypted_content);
    field(out, m.iv);
    timestamp(out, m.created_at);
    timestamp(out, m.expires_at);
    boolean(out, m.is_read);
    boolean(out, m.is_deleted);
    field(out, std::string_view(m.key_id));
    timestamp(out, m.read_at);
  }
  put16(out, 0xffff);  // trailer
  return out;
}

}  // namespace strata::postgres
