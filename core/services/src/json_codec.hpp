#pragma once
// JSON forms of the SDK records the services keep outside storage: users in
// the cache (without the password hash) and audit events in the spool file.
// Times are integer microseconds, so a round trip is exact.

#include <nlohmann/json.hpp>

#include "strata/sdk/audit.hpp"
#include "strata/sdk/storage.hpp"

namespace strata::detail {

inline nlohmann::json to_json_value(const sdk::Uuid& id) { return id.str(); }

inline nlohmann::json user_to_json(const sdk::User& u) {
  nlohmann::json j{{"id", u.id.str()},
                   {"username", u.username},
                   {"email", u.email},
                   {"created_at", u.created_at.micros()},
                   {"updated_at", u.updated_at.micros()},
                   {"is_active", u.is_active}};
  j["last_login"] = u.last_login ? nlohmann::json(u.last_login->micros()) : nlohmann::json();
  return j;
}

/// nullopt when the JSON is not a cached user (an old or foreign value: treat as a miss).
inline std::optional<sdk::User> user_from_json(const nlohmann::json& j) {
  try {
    sdk::User u;
    auto id = sdk::Uuid::parse(j.at("id").get<std::string>());
    if (!id) return std::nullopt;
    u.id = *id;
    u.username = j.at("username").get<std::string>();
    u.email = j.at("email").get<std::string>();
    u.created_at = sdk::Timestamp::from_micros(j.at("created_at").get<std::int64_t>());
    u.updated_at = sdk::Timestamp::from_micros(j.at("updated_at").get<std::int64_t>());
    u.is_active = j.at("is_active").get<bool>();
    if (!j.at("last_login").is_null())
      u.last_login = sdk::Timestamp::from_micros(j.at("last_login").get<std::int64_t>());
    return u;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

inline nlohmann::json event_to_json(const sdk::AuditEvent& e) {
  nlohmann::json j{{"id", e.id.str()},          {"timestamp", e.timestamp.micros()}, {"ip", e.ip},
                   {"action", e.action},        {"resource", e.resource},
                   {"status", std::string(sdk::to_string(e.status))}, {"metadata", e.metadata}};
  j["user_id"] = e.user_id ? nlohmann::json(*e.user_id) : nlohmann::json();
  return j;
}

inline std::optional<sdk::AuditEvent> event_from_json(const nlohmann::json& j) {
  try {
    sdk::AuditEvent e;
    auto id = sdk::Uuid::parse(j.at("id").get<std::string>());
    if (!id) return std::nullopt;
    e.id = *id;
    e.timestamp = sdk::Timestamp::from_micros(j.at("timestamp").get<std::int64_t>());
    if (!j.at("user_id").is_null()) e.user_id = j.at("user_id").get<std::string>();
    e.ip = j.at("ip").get<std::string>();
    e.action = j.at("action").get<std::string>();
    e.resource = j.at("resource").get<std::string>();
    e.status = j.at("status").get<std::string>() == "failure" ? sdk::AuditStatus::failure : sdk::AuditStatus::success;
    e.metadata = j.at("metadata").get<std::string>();
    return e;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

}  // namespace strata::detail
