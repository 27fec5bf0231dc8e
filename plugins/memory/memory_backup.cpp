#include "memory_backup.hpp"

#include <fstream>

namespace strata::memory {
namespace {

using nlohmann::json;

json optional_time(const std::optional<sdk::Timestamp>& t) { return t ? json(t->micros()) : json(); }
std::optional<sdk::Timestamp> optional_time(const json& j) {
  if (j.is_null()) return std::nullopt;
  return sdk::Timestamp::from_micros(j.get<std::int64_t>());
}
sdk::Timestamp time(const json& j) { return sdk::Timestamp::from_micros(j.get<std::int64_t>()); }
sdk::Uuid uuid(const json& j) {
  auto id = sdk::Uuid::parse(j.get<std::string>());
  if (!id) throw sdk::Error{sdk::ErrorCode::invalid_argument, "a snapshot holds a malformed id", {}, false};
  return *id;
}
sdk::Bytes bytes(const json& j) {
  auto b = sdk::from_hex(j.get<std::string>());
  if (!b) throw sdk::Error{sdk::ErrorCode::invalid_argument, "a snapshot holds malformed hex", {}, false};
  return *b;
}

}  // namespace

sdk::Result<sdk::BackupReport> write_snapshot(const std::filesystem::path& dir, const json& content,
                                              std::map<std::string, std::uint64_t> counts) {
  std::ofstream out(dir / snapshot_file, std::ios::trunc);
  out << content.dump() << "\n";
  if (!out.flush())
    return sdk::fail(sdk::ErrorCode::unavailable, "cannot write " + (dir / snapshot_file).string());
  return sdk::BackupReport{{snapshot_file}, std::move(counts), ""};
}

sdk::Result<json> read_snapshot(const std::filesystem::path& dir) {
  std::ifstream in(dir / snapshot_file);
  if (!in) return sdk::fail(sdk::ErrorCode::not_found, "no " + (dir / snapshot_file).string());
  auto parsed = json::parse(in, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object())
    return sdk::fail(sdk::ErrorCode::invalid_argument, (dir / snapshot_file).string() + " is not a memory snapshot");
  return parsed;
}

json to_json(const sdk::User& u) {
  return {{"id", u.id.str()},         {"username", u.username},   {"email", u.email},
          {"password_hash", u.password_hash},
          {"created_at", u.created_at.micros()}, {"updated_at", u.updated_at.micros()},
          {"last_login", optional_time(u.last_login)}, {"is_active", u.is_active}};
}
sdk::User user_from(const json& j) {
  return sdk::User{uuid(j.at("id")), j.at("username"), j.at("email"), j.at("password_hash"),
                   time(j.at("created_at")), time(j.at("updated_at")), optional_time(j.at("last_login")),
                   j.at("is_active")};
}

json to_json(const sdk::Message& m) {
  return {{"id", m.id.str()}, {"sender_id", m.sender_id.str()}, {"recipient_id", m.recipient_id.str()},
          {"encrypted_content", sdk::to_hex(m.encrypted_content)}, {"iv", sdk::to_hex(m.iv)}, {"key_id", m.key_id},
          {"created_at", m.created_at.micros()}, {"is_read", m.is_read}, {"read_at", optional_time(m.read_at)},
          {"is_deleted", m.is_deleted}, {"expires_at", optional_time(m.expires_at)}};
}
sdk::Message message_from(const json& j) {
  sdk::Message m;
  m.id = uuid(j.at("id"));
  m.sender_id = uuid(j.at("sender_id"));
  m.recipient_id = uuid(j.at("recipient_id"));
  m.encrypted_content = bytes(j.at("encrypted_content"));
  m.iv = bytes(j.at("iv"));
  m.key_id = j.at("key_id");
  m.created_at = time(j.at("created_at"));
  m.is_read = j.at("is_read");
  m.read_at = optional_time(j.at("read_at"));
  m.is_deleted = j.at("is_deleted");
  m.expires_at = optional_time(j.at("expires_at"));
  return m;
}

json to_json(const sdk::KeyRecord& k) {
  return {{"id", k.id.str()}, {"user_id", k.user_id.str()}, {"public_key", sdk::to_hex(k.public_key)},
          {"private_key_encrypted", sdk::to_hex(k.private_key_encrypted)}, {"created_at", k.created_at.micros()},
          {"expires_at", optional_time(k.expires_at)}, {"is_active", k.is_active}};
}
sdk::KeyRecord key_from(const json& j) {
  return sdk::KeyRecord{uuid(j.at("id")), uuid(j.at("user_id")), bytes(j.at("public_key")),
                        bytes(j.at("private_key_encrypted")), time(j.at("created_at")),
                        optional_time(j.at("expires_at")), j.at("is_active")};
}

json to_json(const sdk::AuditEvent& e) {
  return {{"id", e.id.str()}, {"timestamp", e.timestamp.micros()}, {"user_id", e.user_id ? json(*e.user_id) : json()},
          {"ip", e.ip}, {"action", e.action}, {"resource", e.resource},
          {"status", std::string(sdk::to_string(e.status))}, {"metadata", e.metadata}};
}
sdk::AuditEvent event_from(const json& j) {
  return sdk::AuditEvent{uuid(j.at("id")), time(j.at("timestamp")),
                         j.at("user_id").is_null() ? std::nullopt : std::optional<std::string>(j.at("user_id")),
                         j.at("ip"), j.at("action"), j.at("resource"),
                         j.at("status") == "failure" ? sdk::AuditStatus::failure : sdk::AuditStatus::success,
                         j.at("metadata")};
}

json to_json(const sdk::Metric& m) {
  return {{"timestamp", m.timestamp.micros()}, {"name", m.name}, {"value", m.value}, {"labels", m.labels}};
}
sdk::Metric metric_from(const json& j) {
  return sdk::Metric{time(j.at("timestamp")), j.at("name"), j.at("value"),
                     j.at("labels").get<std::map<std::string, std::string>>()};
}

}  // namespace strata::memory
